package selection

import (
	"time"

	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/plan"
)

// maxDuration bounds a recorded duration that --shard weighs: a manifest is hostile,
// and a week is longer than any cell's timeout.
const maxDuration = 7 * 24 * time.Hour

// Durations returns, by cell ID, the time each of the plan's cells took in an earlier
// run's manifest (--durations): an artifact's duration_seconds (build and tests). An
// artifact is the cell's by its cell_id, or, in a manifest written before cell IDs,
// by its file name. Cells that failed or were not in that run have none; a negative
// duration is left out, and one over a week counts as a week.
func Durations(m *manifest.Manifest, cells []plan.Cell) map[string]time.Duration {
	byID := map[string]string{}   // cell ID: the cell's ID (those in the plan)
	byFile := map[string]string{} // artifact name: cell ID
	for _, c := range cells {
		id := c.ID()
		byID[id] = id
		byFile[c.Artifact] = id
	}
	out := map[string]time.Duration{}
	for _, a := range m.Artifacts {
		id, ok := byID[a.CellID]
		if a.CellID == "" {
			id, ok = byFile[a.File]
		}
		if !ok || !(a.DurationSecs >= 0) {
			continue
		}
		d := maxDuration
		if a.DurationSecs < maxDuration.Seconds() {
			d = time.Duration(a.DurationSecs * float64(time.Second))
		}
		out[id] = d
	}
	return out
}
