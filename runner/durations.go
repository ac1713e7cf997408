package runner

import "time"

// Durations are how long each artifact the records list took to build, by artifact
// name (manifest.json's duration_secs), for an estimate of the time a run has left.
func (recs *Records) Durations() map[string]time.Duration {
	out := map[string]time.Duration{}
	for name, a := range recs.artifacts {
		if a.DurationSecs > 0 {
			out[name] = time.Duration(a.DurationSecs * float64(time.Second))
		}
	}
	return out
}
