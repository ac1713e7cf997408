package progress

import (
	"encoding/json"
	"io"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/matrixbuild/matrix/internal/terminal"
)

// JSON renders each event as one JSON object on a line of its own (README.md, "Progress
// as JSON", is the schema). It writes nothing else: a tool reading W reads events only.
type JSON struct {
	W io.Writer

	mu  sync.Mutex
	buf []byte
}

// jsonEvent is an event as the schema writes it.
type jsonEvent struct {
	V            int      `json:"v"`
	Time         string   `json:"time"`
	Event        Kind     `json:"event"`
	Cell         string   `json:"cell,omitempty"`
	Name         string   `json:"name,omitempty"`
	Target       string   `json:"target,omitempty"`
	Axes         []Axis   `json:"axes,omitempty"`
	Engine       string   `json:"engine,omitempty"`
	Phase        Phase    `json:"phase,omitempty"`
	Line         *string  `json:"line,omitempty"`
	Result       Result   `json:"result,omitempty"`
	Retested     bool     `json:"retested,omitempty"`
	SHA256       string   `json:"sha256,omitempty"`
	Size         *int64   `json:"size,omitempty"`
	DurationSecs *float64 `json:"duration_secs,omitempty"`
	Reason       string   `json:"reason,omitempty"`
	Counts       *Counts  `json:"counts,omitempty"`
}

func (j *JSON) Event(e Event) {
	je := jsonEvent{
		V: SchemaVersion, Time: e.Time.UTC().Format(time.RFC3339Nano), Event: e.Kind,
		Cell: e.Cell, Name: e.Name, Target: e.Target, Axes: e.Axes, Engine: e.Engine,
		Phase: e.Phase, Result: e.Result, Retested: e.Retested, SHA256: e.SHA256, Reason: e.Reason,
		Counts: e.Counts,
	}
	switch e.Kind {
	case KindOutput, KindMessage:
		je.Line = &e.Line
	case KindFinished:
		if e.Result == Built || e.Result == Reused {
			je.Size = &e.Size
		}
		if e.Result != Skipped {
			d := seconds(e.Duration)
			je.DurationSecs = &d
		}
	case KindRunFinished:
		if e.Counts != nil {
			d := seconds(e.Counts.Elapsed)
			je.DurationSecs = &d
		}
	}
	if e.Kind != KindQueued && e.Kind != KindFinished {
		je.Axes, je.Name, je.Target = nil, "", "" // said once, when the cell is queued or skipped
	}
	data, err := json.Marshal(je)
	if err != nil {
		return // only strings, numbers and slices of them: cannot happen
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.buf = AppendJSONSafe(j.buf[:0], data)
	j.buf = append(j.buf, '\n')
	j.W.Write(j.buf)
	if cap(j.buf) > 1<<20 {
		j.buf = nil
	}
}

func seconds(d time.Duration) float64 { return d.Round(time.Millisecond).Seconds() }

// AppendJSONSafe appends JSON text with every character that a terminal would act on
// instead of showing (internal/terminal: DEL, C1 controls, bidi formatting) written
// as a \uNNNN escape, so that `cat` of the stream is as safe as the other renderers.
// encoding/json already escapes C0 controls and writes invalid UTF-8 as U+FFFD. A
// "##[" (only ever in a string) is written `##\u005b`, which GitHub Actions does not
// read as a workflow command.
func AppendJSONSafe(dst, data []byte) []byte {
	const hex = "0123456789abcdef"
	for len(data) > 0 {
		if len(data) >= 3 && data[0] == '#' && data[1] == '#' && data[2] == '[' {
			// Only in a string: GitHub Actions reads "##[" anywhere in a line as a
			// workflow command (AppendGitHubSafe).
			dst, data = append(dst, `##\u005b`...), data[3:]
			continue
		}
		if data[0] < 0x7f {
			dst, data = append(dst, data[0]), data[1:]
			continue
		}
		r, n := utf8.DecodeRune(data)
		if r == 0x7f || r >= 0x80 && terminal.Escape(string(r)) != string(r) {
			dst = append(dst, '\\', 'u', hex[r>>12&15], hex[r>>8&15], hex[r>>4&15], hex[r&15])
		} else {
			dst = append(dst, data[:n]...)
		}
		data = data[n:]
	}
	return dst
}
