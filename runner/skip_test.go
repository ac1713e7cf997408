package runner

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/plan"
)

// signalWriter closes seen at the first write that contains want.
type signalWriter struct {
	want string
	seen chan struct{}
	buf  bytes.Buffer
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) && w.seen != nil {
		close(w.seen)
		w.seen = nil
	}
	return len(p), nil
}

// skipped is a cell as spec gives a skipped one: target, axes and the reason only.
func skipped(i int, reason string) plan.Cell {
	return plan.Cell{Target: "t", Axes: []plan.Axis{{Name: "i", Value: float64(i)}}, Skip: reason}
}

// TestRunSkipsCells: a skipped cell is not built, takes no job slot (it is reported
// while the only slot is busy), keeps its place in the results, and the manifest
// lists it with its reason; a failure counts only the cells built.
func TestRunSkipsCells(t *testing.T) {
	release := make(chan struct{})
	exec := &fakeExec{behave: func(ctx context.Context, job executor.Job, _ int) error {
		switch job.Cell.Artifact {
		case "a.tar.gz":
			select {
			case <-release:
			case <-time.After(10 * time.Second):
				return errors.New("the skipped cells waited for a job slot")
			}
		case "bad.tar.gz":
			return errors.New("broken")
		}
		return nil
	}}
	cs := cells("a.tar.gz", "", "", "bad.tar.gz")
	cs[1], cs[2] = skipped(1, "needs Node.js >=20.9.0"), skipped(2, "no arm64 build")
	progress := &signalWriter{want: "skip t[i=2]: no arm64 build", seen: make(chan struct{})}
	seen := progress.seen
	go func() { <-seen; close(release) }()
	opts := options(t)
	opts.Jobs, opts.KeepGoing, opts.Progress = 1, true, progress

	results, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts)
	var runErr *RunError
	if !errors.As(err, &runErr) || runErr.Failed != 1 || runErr.Total != 2 {
		t.Fatalf("err = %v, want 1 of 2 cells failed", err)
	}
	for i, want := range []bool{false, true, true, false} {
		if results[i].Skipped() != want || (want && (results[i].Err != nil || results[i].Artifact != nil)) {
			t.Errorf("result %d: %+v", i, results[i])
		}
	}
	for _, c := range cs[1:3] {
		if n := exec.calls(c.Artifact); n != 0 {
			t.Errorf("%s was built %d times", c.Name(), n)
		}
	}
	m, err := manifest.Read(opts.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	want := []manifest.Skipped{
		{Cell: "t[i=1]", Target: "t", Axes: []manifest.Axis{{Name: "i", Value: float64(1)}}, Reason: "needs Node.js >=20.9.0"},
		{Cell: "t[i=2]", Target: "t", Axes: []manifest.Axis{{Name: "i", Value: float64(2)}}, Reason: "no arm64 build"},
	}
	if len(m.Skipped) != 2 || m.Skipped[0].Cell != want[0].Cell || m.Skipped[1].Reason != want[1].Reason || len(m.Skipped[0].Axes) != 1 {
		t.Errorf("manifest skipped = %+v, want %+v", m.Skipped, want)
	}
	if len(m.Artifacts) != 1 || len(m.Failed) != 1 {
		t.Errorf("manifest: %d artifacts, %d failed", len(m.Artifacts), len(m.Failed))
	}
	assertClean(t, opts.OutDir)
}

// TestRunAllSkipped: a run whose every cell is skipped builds nothing and records them.
func TestRunAllSkipped(t *testing.T) {
	exec := &fakeExec{}
	opts := options(t)
	results, err := readAndRun(context.Background(), []executor.Executor{exec}, []plan.Cell{skipped(0, "why")}, opts)
	if err != nil || len(results) != 1 || !results[0].Skipped() {
		t.Fatalf("results %+v, err %v", results, err)
	}
	if m, err := manifest.Read(opts.OutDir); err != nil || len(m.Skipped) != 1 || len(m.Artifacts) != 0 {
		t.Errorf("manifest %+v, %v", m, err)
	}
}
