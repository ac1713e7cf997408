package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/plan"
)

// pool shares cells among several executors (Docker engines), each running at most
// jobs cells at once. A cell goes to an engine of its own CPU when there is one, so
// arm64 cells build natively on an arm64 engine; otherwise to any engine, which
// refuses it clearly if it cannot run the image. An engine whose transient errors
// outlast a cell's retries leaves the pool (leave), and its cells go to the others.
type pool struct {
	engines []executor.Executor
	jobs    int

	mu      sync.Mutex
	busy    []int
	gone    []error       // why an engine left the pool (failover), nil while it is in it
	changed chan struct{} // closed and replaced whenever a slot frees or an engine leaves
}

func newPool(engines []executor.Executor, jobs int) *pool {
	return &pool{engines: engines, jobs: jobs, busy: make([]int, len(engines)), gone: make([]error, len(engines)), changed: make(chan struct{})}
}

// NoEngineError is a cell that no engine is left to build: every engine suited to it
// left the pool after failing, each for the reason Gone gives.
type NoEngineError struct {
	Gone []error
}

func (e *NoEngineError) Error() string {
	return fmt.Sprintf("no engine left to build on: %v", errors.Join(e.Gone...))
}

func (e *NoEngineError) Unwrap() []error { return e.Gone }

// acquire waits for a free slot on an engine suited to the cell and returns its index;
// a *NoEngineError when every engine left the pool.
func (p *pool) acquire(ctx context.Context, cell plan.Cell) (int, error) {
	for {
		// A stopped run starts nothing, even when a slot is free: the slot of a cell
		// that failed is freed just before fail-fast stops the run.
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		p.mu.Lock()
		candidates := p.candidates(cell)
		if len(candidates) == 0 {
			err := &NoEngineError{Gone: p.reasons()}
			p.mu.Unlock()
			return 0, err
		}
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
	p.wake()
	p.mu.Unlock()
}

// wake tells the cells waiting in acquire that the pool changed; p.mu is held.
func (p *pool) wake() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// leave takes engine i out of the pool for the rest of the run, because of err (a
// transient engine error that outlasted a cell's retries); it reports whether i was
// still in the pool. The cells running on i finish or fail there; no new one starts.
func (p *pool) leave(i int, err error) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gone[i] != nil {
		return false
	}
	p.gone[i] = fmt.Errorf("%s: %w", p.engines[i].Name(), err)
	p.wake()
	return true
}

// reasons are why the engines that left the pool left; p.mu is held.
func (p *pool) reasons() []error {
	var out []error
	for _, err := range p.gone {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// candidates are the engines in the pool whose CPU is the cell's, or all engines in
// the pool; p.mu is held.
func (p *pool) candidates(cell plan.Cell) []int {
	var all, native []int
	arch := ""
	if parts := strings.Split(cell.Platform, "/"); len(parts) > 1 {
		arch = parts[1]
	}
	for i, e := range p.engines {
		if p.gone[i] != nil {
			continue
		}
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

// firstLineOf is s up to its first newline: an engine's error in one progress line.
func firstLineOf(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
