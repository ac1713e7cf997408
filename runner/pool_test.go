package runner

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/executor"
)

// TestFailFastStopsQueuedCells: with one slot, a cell queued behind one that fails is
// never started: its failure says it was not built because another cell failed, not
// an engine error carrying the other cell's error (as when the free slot was taken
// before the stop was seen).
func TestFailFastStopsQueuedCells(t *testing.T) {
	opts := options(t)
	opts.Jobs = 1
	exec := &fakeExec{behave: func(ctx context.Context, job executor.Job, _ int) error {
		if job.Cell.Artifact == "first.tar.gz" {
			return &executor.ExitError{Code: 1}
		}
		return nil
	}}
	cs := cells("first.tar.gz", "second.tar.gz", "third.tar.gz")
	results, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts)
	if err == nil {
		t.Fatal("the run succeeded")
	}
	for _, res := range results[1:] {
		if !errors.Is(res.Err, errNotBuilt) || !strings.Contains(res.Err.Error(), "stopped after another cell failed") || strings.Contains(res.Err.Error(), "status 1") {
			t.Errorf("%s: %v; want only \"not built: stopped after another cell failed\"", res.Cell.Artifact, res.Err)
		}
		if n := exec.builds[res.Cell.Artifact]; n != 0 {
			t.Errorf("%s was built %d times after the first cell failed", res.Cell.Artifact, n)
		}
	}
}
