package main

import (
	"path/filepath"
	"time"

	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/plan"
	"github.com/matrixbuild/matrix/progress"
)

// manifestSummary is the end-of-run summary of the run that m, DIR's manifest, records (a
// merge's included), for the tables that package progress renders: each artifact
// built by the run or one of its shards (else reused), each failed and skipped cell.
func manifestSummary(dir string, m *manifest.Manifest) progress.Summary {
	s := progress.Summary{Elapsed: m.Finished.Sub(m.Started).Round(time.Second), Manifest: filepath.Join(dir, manifest.FileName)}
	if s.Elapsed < 0 {
		s.Elapsed = 0
	}
	builtBy := map[string]bool{m.RunID: true}
	for _, sh := range m.Shards {
		builtBy[sh.RunID] = true
	}
	axes := func(in []manifest.Axis) []progress.Axis {
		out := make([]progress.Axis, len(in))
		for i, a := range in {
			out[i] = progress.Axis{Name: a.Name, Value: plan.AxisString(a.Value)}
		}
		return out
	}
	for _, a := range m.Artifacts {
		r := progress.Row{Cell: a.File, Target: a.Target, Axes: axes(a.Axes), Result: progress.Reused, Size: a.Size,
			Duration: time.Duration(a.DurationSecs * float64(time.Second)), SHA256: a.SHA256}
		if builtBy[a.RunID] {
			r.Result = progress.Built
		}
		s.Rows = append(s.Rows, r)
	}
	for _, f := range m.Failed {
		s.Rows = append(s.Rows, progress.Row{Cell: f.Artifact, Target: f.Target, Axes: axes(f.Axes), Result: progress.Failed, Reason: f.Error})
	}
	for _, k := range m.Skipped {
		s.Rows = append(s.Rows, progress.Row{Name: k.Cell, Target: k.Target, Axes: axes(k.Axes), Result: progress.Skipped, Reason: k.Reason})
	}
	return s
}
