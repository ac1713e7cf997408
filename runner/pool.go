package runner

import (
	"context"
	"strings"
	"sync"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/plan"
)

// pool shares cells among several executors (Docker engines), each running at most
// jobs cells at once. A cell goes to an engine of its own CPU when there is one, so
// arm64 cells build natively on an arm64 engine; otherwise to any engine, which
// refuses it clearly if it cannot run the image.
type pool struct {
	engines []executor.Executor
	jobs    int

	mu      sync.Mutex
	busy    []int
	changed chan struct{} // closed and replaced whenever a slot frees
}

func newPool(engines []executor.Executor, jobs int) *pool {
	return &pool{engines: engines, jobs: jobs, busy: make([]int, len(engines)), changed: make(chan struct{})}
}

// acquire waits for a free slot on an engine suited to the cell and returns its index.
func (p *pool) acquire(ctx context.Context, cell plan.Cell) (int, error) {
	candidates := p.candidates(cell)
	for {
		// A stopped run starts nothing, even when a slot is free: the slot of a cell
		// that failed is freed just before fail-fast stops the run.
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		p.mu.Lock()
		best := -1
		for _, i := range candidates {
			if p.busy[i] < p.jobs && (best < 0 || p.busy[i] < p.busy[best]) {
				best = i
			}
		}
		if best >= 0 {
			p.busy[best]++
			p.mu.Unlock()
			return best, nil
		}
		wait := p.changed
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-wait:
		}
	}
}

func (p *pool) release(i int) {
	p.mu.Lock()
	p.busy[i]--
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

// candidates are the engines whose CPU is the cell's, or all of them.
func (p *pool) candidates(cell plan.Cell) []int {
	var all, native []int
	arch := ""
	if parts := strings.Split(cell.Platform, "/"); len(parts) > 1 {
		arch = parts[1]
	}
	for i, e := range p.engines {
		all = append(all, i)
		if arch != "" && e.Arch() == arch {
			native = append(native, i)
		}
	}
	if len(native) > 0 {
		return native
	}
	return all
}
