package runner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/internal/filename"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/plan"
	"github.com/matrixbuild/matrix/progress"
	"golang.org/x/sync/errgroup"
)

// schedule builds the cells on the engines, up to jobs at once on each, and returns
// their results in plan order. Without KeepGoing, the first failure stops the rest.
// Skipped cells are reported, and take no slot.
func (r *run) schedule(ctx context.Context, engines []executor.Executor, cells []plan.Cell) []Result {
	results := make([]Result, len(cells))
	g := new(errgroup.Group)
	gctx, stop := ctx, func() {}
	if !r.opts.KeepGoing {
		// Fail-fast: a failed cell stops the run before its slot frees (placeCell).
		var cancel context.CancelFunc
		gctx, cancel = context.WithCancel(ctx)
		defer cancel()
		stop = cancel
	}
	// A cell gives up its engine's slot once built (placeCell): its tests run beside
	// the next cells' builds, so twice as many cells may be under way as build.
	g.SetLimit(2 * r.jobs * len(engines))
	engs := newPool(engines, r.jobs)
	r.pool = engs
	// Cells take their slots in plan order: each waits for the one before it to have
	// taken one (or given up) before it asks the pool.
	turn := make(chan struct{})
	close(turn)
	for i := range cells {
		if cells[i].Skip != "" {
			results[i] = Result{Cell: cells[i]}
			r.finished(results[i])
			continue
		}
		r.cellEvent(progress.KindQueued, cells[i])
	}
	for i := range cells {
		if cells[i].Skip != "" {
			continue
		}
		q := queue{mine: turn, next: make(chan struct{}), stop: stop}
		turn = q.next
		g.Go(func() error {
			results[i] = r.runCell(ctx, gctx, engs, cells[i], q)
			return results[i].Err
		})
	}
	_ = g.Wait() // errors are in results
	return results
}

// queue is a cell's place among the cells waiting for a slot: it asks the pool once
// mine is closed, and closes next once it has a slot or gives up. stop is fail-fast's.
type queue struct {
	mine, next chan struct{}
	stop       func()
}

// runCell builds one cell on a free engine of the pool and reports it. ctx is the
// run's; gctx also ends when fail-fast stops the run, which q.stop does.
func (r *run) runCell(ctx, gctx context.Context, engs *pool, cell plan.Cell, q queue) Result {
	res := Result{Cell: cell}
	var started time.Time
	release := func() {}
	res.Artifact, res.LockFiles, res.Err = r.placeCell(ctx, gctx, engs, cell, q, &started, &release)
	if !started.IsZero() {
		res.Duration = r.now().Sub(started)
	}
	if res.Err != nil {
		q.stop()
	}
	r.finished(res)
	release() // after its end is reported: one job at a time reports in plan order
	return res
}

// placeCell checks the cell's artifact name, then builds the cell on a free engine
// once the cells before it in the queue have one; started is set when it got one.
// A cell that fails calls stop before its slot frees: a stopped run starts no queued
// cell in it. The slot of its last engine is freed by *release, which the caller
// calls, unless buildCell freed it earlier.
func (r *run) placeCell(ctx, gctx context.Context, engs *pool, cell plan.Cell, q queue, started *time.Time, release *func()) (art *manifest.Artifact, files executor.Files, err error) {
	// Before anything of the cell touches the disk: a plan.Cell may come from JSON,
	// and its name makes the paths of its artifact and log.
	if err := filename.Check(cell.Artifact); err != nil {
		select { // the cells after it in the queue keep waiting for those before it
		case <-q.mine:
		case <-gctx.Done():
		}
		close(q.next)
		return nil, nil, fmt.Errorf("artifact %w", err)
	}
	select {
	case <-q.mine:
	case <-gctx.Done():
	}
	next := sync.OnceFunc(func() { close(q.next) })
	defer next()
	defer func() {
		if err != nil {
			q.stop()
		}
	}()
	var failedOver []string // the engines that failed the cell, and why
	isFinal := func(err error) bool {
		return err == nil || len(engs.engines) == 1 || !executor.IsTransient(err) || gctx.Err() != nil
	}
	stopIfFinal := func(err error) {
		if isFinal(err) {
			q.stop()
		}
	}
	for {
		e, aerr := engs.acquire(gctx, cell)
		next() // the next queued cell may ask for a slot now
		var none *NoEngineError
		if errors.As(aerr, &none) {
			return nil, nil, aerr
		}
		if aerr != nil {
			return nil, nil, notBuilt(ctx)
		}
		if started.IsZero() {
			*started = r.now()
		}
		r.events.Event(progress.Event{Kind: progress.KindStarted, Cell: cell.Artifact, Engine: engs.engines[e].Name()})
		if len(engs.engines) > 1 {
			r.output(cell.Artifact, "matrix: building on "+engs.engines[e].Name())
		}
		// buildCell frees the slot early, once the artifact is built and its tests
		// are to run; *release frees it otherwise.
		*release = sync.OnceFunc(func() { engs.release(e) })
		art, files, err = r.buildCell(ctx, gctx, engs.engines[e], cell, *release, stopIfFinal)
		final := isFinal(err)
		if err != nil && final {
			q.stop() // before the slot frees
		}
		if final {
			if err == nil && len(failedOver) > 0 {
				// Said in its record too: the manifest tells which engines failed it.
				// A copy: its twins may be reading the record buildCell handed them.
				a := *art
				a.Warnings = append(slices.Clip(art.Warnings), failedOver...)
				art = &a
			}
			return art, files, err
		}
		failedOver = append(failedOver, fmt.Sprintf("built again on another engine after %s failed: %s", engs.engines[e].Name(), firstLineOf(err.Error())))
		// The engine failed past the cell's retries: it leaves the pool, and the cell
		// is built again on another engine. Each pass takes one engine out, so a cell
		// is built at most once per engine; a script's own failure never gets here.
		// It leaves before its slot frees, so that no waiting cell takes the slot.
		if engs.leave(e, err) {
			fmt.Fprintf(r.progress, "matrix: engine %s leaves the pool for the rest of the run: %s\n", engs.engines[e].Name(), firstLineOf(err.Error()))
		}
		(*release)()
		r.output(cell.Artifact, fmt.Sprintf("matrix: %s failed (%s); building again on another engine", engs.engines[e].Name(), firstLineOf(err.Error())))
	}
}
