package runner

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
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

// TestRunFailsOverToAnotherEngine: an engine whose transient errors outlast a cell's
// retries leaves the pool and its cells are built on another engine, each artifact
// recorded with the engine that built it; a script's own failure is never built
// again elsewhere; when no engine is left, the cells fail saying why each engine left.
func TestRunFailsOverToAnotherEngine(t *testing.T) {
	transient := func(context.Context, executor.Job, int) error {
		return &executor.TransientError{Err: errors.New("connection refused")}
	}
	exitsFor := func(name string) func(context.Context, executor.Job, int) error {
		return func(_ context.Context, job executor.Job, _ int) error {
			if job.Cell.Artifact == name {
				return &executor.ExitError{Code: 2}
			}
			return nil
		}
	}
	for _, tc := range []struct {
		name       string
		a, b       func(context.Context, executor.Job, int) error
		wantOK     map[string]string   // artifact: the engine that built it
		wantFailed map[string][]string // artifact: what its error says
		wantLeaves int                 // "leaves the pool" lines
	}{
		{
			name:       "a dead engine's cells go to the other",
			a:          transient,
			wantOK:     map[string]string{"c1.tar.gz": "b", "c2.tar.gz": "b", "c3.tar.gz": "b", "c4.tar.gz": "b"},
			wantLeaves: 1,
		},
		{
			name:       "a script's failure is not built again elsewhere",
			a:          exitsFor("c1.tar.gz"),
			b:          exitsFor("c1.tar.gz"),
			wantOK:     map[string]string{"c2.tar.gz": "", "c3.tar.gz": "", "c4.tar.gz": ""},
			wantFailed: map[string][]string{"c1.tar.gz": {"script exited with status 2"}},
		},
		{
			name: "no engine left",
			a:    transient, b: transient,
			wantFailed: map[string][]string{
				"c1.tar.gz": {"no engine left to build on", "a: ", "b: ", "connection refused"},
				"c2.tar.gz": {"no engine left to build on"}, "c3.tar.gz": {"no engine left to build on"}, "c4.tar.gz": {"no engine left to build on"},
			},
			wantLeaves: 2,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &fakeExec{name: "a", behave: tc.a}
			b := &fakeExec{name: "b", behave: tc.b}
			cs := cells("c1.tar.gz", "c2.tar.gz", "c3.tar.gz", "c4.tar.gz")
			for i := range cs {
				cs[i].Retries = 0
			}
			opts := options(t)
			opts.Jobs, opts.KeepGoing = 1, true
			var progress strings.Builder
			opts.Progress = &lockedWriter{w: &progress}
			results, _ := readAndRun(context.Background(), []executor.Executor{a, b}, cs, opts)
			for _, res := range results {
				name := res.Cell.Artifact
				if engine, ok := tc.wantOK[name]; ok {
					if res.Err != nil || engine != "" && res.Artifact.Engine != engine {
						t.Errorf("%s: err %v, artifact %+v; want it built on %q", name, res.Err, res.Artifact, engine)
					}
					if res.Err == nil && a.calls(name) > 0 && tc.a != nil && tc.wantLeaves > 0 &&
						(len(res.Artifact.Warnings) != 1 || !strings.Contains(res.Artifact.Warnings[0], "built again on another engine after a failed: connection refused")) {
						t.Errorf("%s: warnings %q, want the failover recorded", name, res.Artifact.Warnings)
					}
					continue
				}
				for _, want := range tc.wantFailed[name] {
					if res.Err == nil || !strings.Contains(res.Err.Error(), want) {
						t.Errorf("%s: err %v, want it to say %q", name, res.Err, want)
					}
				}
			}
			if tc.wantFailed["c1.tar.gz"] != nil && tc.wantLeaves == 0 && a.calls("c1.tar.gz")+b.calls("c1.tar.gz") != 1 {
				t.Errorf("the failing script ran %d times, want once", a.calls("c1.tar.gz")+b.calls("c1.tar.gz"))
			}
			if got := strings.Count(progress.String(), "leaves the pool"); got != tc.wantLeaves {
				t.Errorf("%d \"leaves the pool\" lines, want %d:\n%s", got, tc.wantLeaves, progress.String())
			}
		})
	}
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
