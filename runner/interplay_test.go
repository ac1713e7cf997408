package runner

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/progress"
)

// TestRunTwinWaitIsNotTheCellsTimeout: a cell that waited for its twin's build, which
// then failed, builds for itself with its whole timeout: the time it waited is no
// part of its own build's.
func TestRunTwinWaitIsNotTheCellsTimeout(t *testing.T) {
	cs := cells("a.tar.gz", "b.tar.gz")
	for i := range cs {
		cs[i].Script, cs[i].Timeout = "true", time.Second
	}
	var mu sync.Mutex
	first := ""
	exec := &fakeExec{behave: func(ctx context.Context, job executor.Job, _ int) error {
		mu.Lock()
		lead := first == ""
		if lead {
			first = job.Cell.Artifact
		}
		mu.Unlock()
		// Each build takes more than half the timeout: the first fails, the other
		// cell, which waited for it, then builds for itself.
		select {
		case <-time.After(600 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
		if lead {
			return &executor.ExitError{Code: 1}
		}
		return nil
	}}
	opts := options(t)
	opts.KeepGoing = true
	results, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts)
	if err == nil {
		t.Fatal("the first build's failure did not fail the run")
	}
	for _, res := range results {
		if res.Cell.Artifact == first {
			continue
		}
		if res.Err != nil {
			t.Errorf("%s, which waited for %s's failed build, failed: %v", res.Cell.Artifact, first, res.Err)
		}
	}
}

// sinkFunc is a progress.Sink of a function; it is called from several goroutines.
type sinkFunc func(progress.Event)

func (f sinkFunc) Event(e progress.Event) { f(e) }

// TestRunFailFastStopsAWaitingTwin: a cell waiting for its twin's build when another
// cell fails starts no build of its own: fail-fast stopped the run.
func TestRunFailFastStopsAWaitingTwin(t *testing.T) {
	cs := cells("a.tar.gz", "b.tar.gz", "c.tar.gz")
	cs[0].Script, cs[1].Script = "true", "true"
	bothWaiting := make(chan struct{})
	var mu sync.Mutex
	building := 0
	events := sinkFunc(func(e progress.Event) {
		if e.Kind == progress.KindOutput && (e.Cell == "a.tar.gz" || e.Cell == "b.tar.gz") && strings.HasPrefix(e.Line, "matrix: building ") {
			mu.Lock()
			if building++; building == 2 {
				close(bothWaiting)
			}
			mu.Unlock()
		}
	})
	exec := &fakeExec{behave: func(ctx context.Context, job executor.Job, _ int) error {
		if job.Cell.Artifact == "c.tar.gz" {
			select {
			case <-bothWaiting:
			case <-time.After(20 * time.Second): // a hang guard
			}
			time.Sleep(50 * time.Millisecond) // the second twin from its line to its wait
			return &executor.ExitError{Code: 1}
		}
		<-ctx.Done() // the lead builds until the run stops
		return ctx.Err()
	}}
	opts := options(t)
	opts.Events = events
	results, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts)
	if err == nil {
		t.Fatal("c's failure did not fail the run")
	}
	if n := exec.calls("a.tar.gz") + exec.calls("b.tar.gz"); n != 1 {
		t.Errorf("a and b, twins, were built %d times, want once: the one waiting when c failed the run built too", n)
	}
	for _, res := range results[:2] {
		if !errors.Is(res.Err, errNotBuilt) {
			t.Errorf("%s: %v, want not built", res.Cell.Artifact, res.Err)
		}
	}
}

// TestRunFailFastStopsTheTwinOfAFailedCell: when the cell that builds for its twin
// fails, fail-fast stops the run before the twin, which waited, builds for itself.
func TestRunFailFastStopsTheTwinOfAFailedCell(t *testing.T) {
	cs := cells("a.tar.gz", "b.tar.gz")
	cs[0].Script, cs[1].Script = "true", "true"
	bothWaiting := make(chan struct{})
	var mu sync.Mutex
	building := 0
	events := sinkFunc(func(e progress.Event) {
		if e.Kind == progress.KindOutput && strings.HasPrefix(e.Line, "matrix: building ") {
			mu.Lock()
			if building++; building == 2 {
				close(bothWaiting)
			}
			mu.Unlock()
		}
	})
	exec := &fakeExec{behave: func(ctx context.Context, job executor.Job, attempt int) error {
		select {
		case <-bothWaiting:
		case <-time.After(20 * time.Second): // a hang guard
		}
		time.Sleep(20 * time.Millisecond) // the twin from its line to its wait
		return &executor.ExitError{Code: 1}
	}}
	opts := options(t)
	opts.Events = events
	if _, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts); err == nil {
		t.Fatal("the failed build did not fail the run")
	}
	if n := exec.calls("a.tar.gz") + exec.calls("b.tar.gz"); n != 1 {
		t.Errorf("a and b, twins, were built %d times, want once: the one waiting built after the other failed the run", n)
	}
}
