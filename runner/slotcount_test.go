package runner

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/plan"
	"github.com/matrixbuild/matrix/progress"
)

// scheduleChecked runs cells as Run does and fails the test unless every slot of the
// pool was freed exactly once (no busy count left over or below zero), within a
// hang guard.
func scheduleChecked(t *testing.T, engines []executor.Executor, cs []plan.Cell, opts Options) []Result {
	t.Helper()
	recs, err := ReadRecords(opts.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	ev := &eventCheck{}
	opts.Events = ev
	r := newRun(opts)
	release, err := r.prepareOutDir(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	done := make(chan []Result, 1)
	go func() { done <- r.schedule(context.Background(), engines, cs) }()
	var results []Result
	select {
	case results = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the run hangs") // a hang guard
	}
	if err := r.record(context.Background(), time.Now(), results); err != nil {
		var runErr *RunError
		if !errors.As(err, &runErr) {
			t.Fatal(err)
		}
	}
	ev.check(t, cs)
	r.pool.mu.Lock()
	defer r.pool.mu.Unlock()
	for i, n := range r.pool.busy {
		if n != 0 {
			t.Errorf("engine %s: %d slots busy after the run, want 0", engines[i].Name(), n)
		}
	}
	return results
}

// TestRunFreesEachSlotOnce: whatever way a cell ends (built, tested, a twin's copy,
// reused, retested, failed over, failed, stopped, refused for its name, left without
// an engine), its slot is freed once.
func TestRunFreesEachSlotOnce(t *testing.T) {
	tested := func(cs []plan.Cell) []plan.Cell {
		for i := range cs {
			cs[i].Test = &plan.Test{Image: "rt", Workdir: "/test", Script: "true", Timeout: time.Minute}
		}
		return cs
	}
	twins := func(cs []plan.Cell) []plan.Cell {
		for i := range cs {
			cs[i].Script = "true"
		}
		return cs
	}
	transientOn := func(name string) func(context.Context, executor.Job, int) error {
		return func(_ context.Context, job executor.Job, _ int) error {
			if job.Cell.Artifact == name {
				return &executor.TransientError{Err: errors.New("connection refused")}
			}
			return nil
		}
	}
	exits := func(_ context.Context, job executor.Job, _ int) error {
		if job.Cell.Artifact == "b.tar.gz" {
			return &executor.ExitError{Code: 1}
		}
		return nil
	}
	for _, tc := range []struct {
		name        string
		cells       []plan.Cell
		a, b        func(context.Context, executor.Job, int) error // the engines' builds; b nil: one engine
		keepGoing   bool
		twice       bool // run again: reuse
		changedTest bool // the second run's test changed: retest
	}{
		{name: "built", cells: cells("a.tar.gz", "b.tar.gz", "c.tar.gz")},
		{name: "tested", cells: tested(cells("a.tar.gz", "b.tar.gz", "c.tar.gz"))},
		{name: "twins", cells: twins(cells("a.tar.gz", "b.tar.gz", "c.tar.gz"))},
		{name: "tested twins", cells: tested(twins(cells("a.tar.gz", "b.tar.gz", "c.tar.gz")))},
		{name: "fail-fast", cells: cells("a.tar.gz", "b.tar.gz", "c.tar.gz", "d.tar.gz"), a: exits},
		{name: "keep going", cells: tested(cells("a.tar.gz", "b.tar.gz", "c.tar.gz")), a: exits, keepGoing: true},
		{name: "failed twin", cells: tested(twins(cells("a.tar.gz", "b.tar.gz", "c.tar.gz"))), a: exits, keepGoing: true},
		{name: "refused name", cells: func() []plan.Cell { cs := cells("a.tar.gz", "b.tar.gz"); cs[1].Artifact = "../b"; return cs }(), keepGoing: true},
		{name: "failover", cells: tested(cells("a.tar.gz", "b.tar.gz", "c.tar.gz")), a: transientOn("b.tar.gz"), b: func(context.Context, executor.Job, int) error { return nil }},
		{name: "failover of twins", cells: tested(twins(cells("a.tar.gz", "b.tar.gz", "c.tar.gz"))), a: transientOn("b.tar.gz"), b: func(context.Context, executor.Job, int) error { return nil }},
		{name: "no engine left", cells: cells("a.tar.gz", "b.tar.gz", "c.tar.gz"), a: transientOn("b.tar.gz"), b: transientOn("b.tar.gz"), keepGoing: true},
		{name: "reused", cells: tested(cells("a.tar.gz", "b.tar.gz")), twice: true},
		{name: "retested", cells: tested(cells("a.tar.gz", "b.tar.gz")), twice: true, changedTest: true},
	} {
		for _, jobs := range []int{1, 2} {
			t.Run(tc.name+"/jobs "+string(rune('0'+jobs)), func(t *testing.T) {
				cs := tc.cells
				for i := range cs {
					cs[i].Retries = 0
				}
				engines := []executor.Executor{&fakeExec{name: "a", behave: tc.a}}
				if tc.b != nil {
					engines = append(engines, &fakeExec{name: "b", behave: tc.b})
				}
				opts := options(t)
				opts.Jobs, opts.KeepGoing, opts.Reuse = jobs, tc.keepGoing, true
				scheduleChecked(t, engines, cs, opts)
				if tc.twice {
					if tc.changedTest {
						cs = append([]plan.Cell(nil), cs...)
						for i := range cs {
							test := *cs[i].Test
							test.Script = "true # changed"
							cs[i].Test = &test
						}
					}
					opts.RunID = "second"
					results := scheduleChecked(t, engines, cs, opts)
					for _, res := range results {
						if res.Err != nil || res.Artifact.RunID != "test" {
							t.Errorf("%s: %v, want reused", res.Cell.Artifact, res.Err)
						}
					}
				}
			})
		}
	}
}

// eventCheck records a run's events by cell, to check that each cell is queued once,
// finished once, and reports nothing after its end.
type eventCheck struct {
	mu     sync.Mutex
	byCell map[string][]progress.Kind
}

func (c *eventCheck) Event(e progress.Event) {
	if e.Cell == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byCell == nil {
		c.byCell = map[string][]progress.Kind{}
	}
	c.byCell[e.Cell] = append(c.byCell[e.Cell], e.Kind)
}

func (c *eventCheck) check(t *testing.T, cs []plan.Cell) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cell := range cs {
		kinds := c.byCell[cell.Artifact]
		count := map[progress.Kind]int{}
		for _, k := range kinds {
			count[k]++
		}
		if count[progress.KindQueued] != 1 || count[progress.KindFinished] != 1 || len(kinds) == 0 || kinds[len(kinds)-1] != progress.KindFinished || kinds[0] != progress.KindQueued {
			t.Errorf("%s: events %v, want queued first, finished once and last", cell.Artifact, kinds)
		}
	}
}
