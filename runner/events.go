package runner

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/matrixbuild/matrix/plan"
	"github.com/matrixbuild/matrix/progress"
)

// The runner reports through r.events only (package progress): these helpers make its
// events from its own values.

// cellEvent reports a cell queued (or any event that names the cell in full).
func (r *run) cellEvent(kind progress.Kind, cell plan.Cell) {
	r.events.Event(progress.Event{Kind: kind, Cell: cell.Artifact, Name: cell.Name(), Target: cell.Target, Axes: Axes(cell)})
}

// phase reports that a cell entered a step.
func (r *run) phase(cell plan.Cell, p progress.Phase) {
	r.events.Event(progress.Event{Kind: progress.KindPhase, Cell: cell.Artifact, Phase: p})
}

// output reports one line of a cell's output; the renderers escape it.
func (r *run) output(artifact, line string) {
	r.events.Event(progress.Event{Kind: progress.KindOutput, Cell: artifact, Line: line})
}

// finished reports a cell's end: its result, artifact, time and, when it failed or was
// skipped, why.
func (r *run) finished(res Result) {
	e := progress.Event{Kind: progress.KindFinished, Cell: res.Cell.Artifact, Name: res.Cell.Name(), Target: res.Cell.Target, Axes: Axes(res.Cell), Duration: res.Duration}
	switch {
	case res.Skipped():
		e.Result, e.Reason = progress.Skipped, res.Cell.Skip
	case res.Err != nil:
		e.Result, e.Reason = progress.Failed, res.Err.Error()
	default:
		e.Result, e.SHA256, e.Size = progress.Built, res.Artifact.SHA256, res.Artifact.Size
		e.Cell = res.Artifact.File
		if res.Artifact.RunID != r.id {
			e.Result = progress.Reused
			e.Retested = res.Artifact.Test != nil && res.Artifact.Test.RunID == r.id
		}
	}
	r.events.Event(e)
}

// Axes are a cell's matrix values as text, for events and summaries.
func Axes(c plan.Cell) []progress.Axis {
	out := make([]progress.Axis, len(c.Axes))
	for i, a := range c.Axes {
		out[i] = progress.Axis{Name: a.Name, Value: a.String()}
	}
	return out
}

// messages turns the run's own lines (warnings, what it settled or pruned) into
// message events: each write is one message, its last newline dropped.
type messages struct{ s progress.Sink }

func (m messages) Write(p []byte) (int, error) {
	m.s.Event(progress.Event{Kind: progress.KindMessage, Line: strings.TrimSuffix(string(p), "\n")})
	return len(p), nil
}

// Summary is the end-of-run summary of the results of run runID (package progress):
// elapsed is the run's time, manifestPath where its records go and err Run's error,
// which says whether and how they were written.
func Summary(runID string, results []Result, elapsed time.Duration, manifestPath string, err error) progress.Summary {
	s := progress.Summary{Elapsed: elapsed, Manifest: manifestPath}
	var recErr *RecordError
	switch {
	case manifestPath == "":
	case errors.As(err, &recErr) && recErr.InPlace():
		s.Note = recErr.Err.Error()
	case errors.As(err, &recErr):
		s.Manifest, s.NotWritten = "", fmt.Sprintf("%s not written: %s", manifestPath, recErr.Err)
	}
	for _, res := range results {
		row := progress.Row{Cell: res.Cell.Artifact, Name: res.Cell.Name(), Target: res.Cell.Target, Axes: Axes(res.Cell), Duration: res.Duration}
		switch {
		case res.Skipped():
			row.Result, row.Reason = progress.Skipped, res.Cell.Skip
		case res.Err != nil:
			row.Result, row.Reason = progress.Failed, res.Err.Error()
		default:
			row.Result, row.Cell, row.Size, row.SHA256 = progress.Built, res.Artifact.File, res.Artifact.Size, res.Artifact.SHA256
			if res.Artifact.RunID != runID {
				row.Result = progress.Reused
				row.Retested = res.Artifact.Test != nil && res.Artifact.Test.RunID == runID
			}
		}
		s.Rows = append(s.Rows, row)
	}
	return s
}
