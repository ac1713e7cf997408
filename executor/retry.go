package executor

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Retry wraps next so that each call failing with a TransientError is tried again, up
// to retries more times, with pauses of 1 s, 2 s, 4 s ... (at most 10 s); each retry is
// announced on log. Any other error, and a script's own non-zero exit, is returned at
// once. A wrapper serves one cell: retries and log are the cell's.
func Retry(next Executor, retries int, log io.Writer) Executor {
	return &retrying{next: next, retries: retries, log: log, sleep: sleepCtx}
}

type retrying struct {
	next    Executor
	retries int
	log     io.Writer
	sleep   func(ctx context.Context, d time.Duration) error
}

var _ Executor = (*retrying)(nil)

func (r *retrying) Name() string { return r.next.Name() }
func (r *retrying) Arch() string { return r.next.Arch() }

func (r *retrying) Resolve(ctx context.Context, ref, platform string) (Image, error) {
	return retry(ctx, r, func() (Image, error) { return r.next.Resolve(ctx, ref, platform) })
}

func (r *retrying) Runnable(ctx context.Context, img Image) error {
	_, err := retry(ctx, r, func() (struct{}, error) { return struct{}{}, r.next.Runnable(ctx, img) })
	return err
}

func (r *retrying) Build(ctx context.Context, job Job, collect func(io.Reader) error) (Files, error) {
	return retry(ctx, r, func() (Files, error) { return r.next.Build(ctx, job, collect) })
}

func (r *retrying) Test(ctx context.Context, job TestJob) error {
	_, err := retry(ctx, r, func() (struct{}, error) { return struct{}{}, r.next.Test(ctx, job) })
	return err
}

// retry calls f until it succeeds, fails for a reason that is not transient, the
// retries are used up or ctx ends.
func retry[T any](ctx context.Context, r *retrying, f func() (T, error)) (T, error) {
	for attempt := 1; ; attempt++ {
		v, err := f()
		if err == nil || !IsTransient(err) || attempt > r.retries || ctx.Err() != nil {
			return v, err
		}
		d := RetryDelay(attempt)
		fmt.Fprintf(r.log, "matrix: engine error, retry %d of %d in %v: %v\n", attempt, r.retries, d, err)
		if r.sleep(ctx, d) != nil {
			return v, err
		}
	}
}

// RetryDelay is the pause before retry n (1-based): 1s, 2s, 4s, ... capped at 10s.
func RetryDelay(n int) time.Duration {
	d := time.Second << (n - 1)
	if d > 10*time.Second || d <= 0 {
		d = 10 * time.Second
	}
	return d
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
