package runner

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/plan"
)

// TestRunTestsOutsideTheBuildSlot: with one slot, the second cell's build starts while
// the first cell's test runs: a cell gives up its slot once built. Cells still take
// the slots in plan order.
func TestRunTestsOutsideTheBuildSlot(t *testing.T) {
	opts := options(t)
	opts.Jobs = 1
	secondBuilt := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	var order []string
	exec := &fakeExec{
		behave: func(ctx context.Context, job executor.Job, _ int) error {
			mu.Lock()
			order = append(order, job.Cell.Artifact)
			mu.Unlock()
			if job.Cell.Artifact == "b.tar.gz" {
				once.Do(func() { close(secondBuilt) })
			}
			return nil
		},
		test: func(ctx context.Context, job executor.TestJob) error {
			if job.Cell.Artifact != "a.tar.gz" {
				return nil
			}
			select {
			case <-secondBuilt:
				return nil
			case <-time.After(30 * time.Second): // a hang guard: the build waits for this test's slot
				return errors.New("the second cell's build did not start while the first cell's test ran")
			}
		},
	}
	cs := cells("a.tar.gz", "b.tar.gz", "c.tar.gz")
	for i := range cs {
		cs[i].Test = &plan.Test{Image: "rt", Workdir: "/test", Script: "true", Timeout: time.Minute}
	}
	if _, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts); err != nil {
		t.Fatal(err)
	}
	if len(order) != 3 || order[0] != "a.tar.gz" || order[1] != "b.tar.gz" || order[2] != "c.tar.gz" {
		t.Errorf("builds in the order %v, want the plan's", order)
	}
}
