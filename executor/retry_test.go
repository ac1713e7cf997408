package executor

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// flaky fails its first n calls of every method with err.
type flaky struct {
	n     int
	err   error
	calls int
}

func (f *flaky) next() error {
	f.calls++
	if f.calls <= f.n {
		return f.err
	}
	return nil
}

func (f *flaky) Name() string { return "flaky" }
func (f *flaky) Arch() string { return "amd64" }
func (f *flaky) Resolve(context.Context, string, string) (Image, error) {
	return Image{ID: "sha256:x"}, f.next()
}
func (f *flaky) Runnable(context.Context, Image) error { return f.next() }
func (f *flaky) Build(context.Context, Job, func(io.Reader) error) (Files, error) {
	return Files{"a": nil}, f.next()
}
func (f *flaky) Test(context.Context, TestJob) error { return f.next() }

func TestRetry(t *testing.T) {
	transient := &TransientError{Err: errors.New("connection reset")}
	exit := &ExitError{Code: 1}
	calls := map[string]func(e Executor) error{
		"Resolve":  func(e Executor) error { _, err := e.Resolve(context.Background(), "img", ""); return err },
		"Runnable": func(e Executor) error { return e.Runnable(context.Background(), Image{}) },
		"Build":    func(e Executor) error { _, err := e.Build(context.Background(), Job{}, nil); return err },
		"Test":     func(e Executor) error { return e.Test(context.Background(), TestJob{}) },
	}
	for _, tc := range []struct {
		name      string
		failures  int
		err       error
		retries   int
		wantCalls int
		wantLog   int // retry lines
	}{
		{"success", 0, transient, 2, 1, 0},
		{"transient then success", 2, transient, 2, 3, 2},
		{"transient beyond retries", 5, transient, 2, 3, 2},
		{"no retries", 1, transient, 0, 1, 0},
		{"a script's exit is never retried", 1, exit, 5, 1, 0},
		{"other errors are not retried", 1, errors.New("no such image"), 5, 1, 0},
	} {
		for method, call := range calls {
			t.Run(tc.name+"/"+method, func(t *testing.T) {
				f := &flaky{n: tc.failures, err: tc.err}
				var log bytes.Buffer
				e := Retry(f, tc.retries, &log)
				e.(*retrying).sleep = func(context.Context, time.Duration) error { return nil }
				err := call(e)
				if f.calls != tc.wantCalls {
					t.Errorf("%d calls, want %d", f.calls, tc.wantCalls)
				}
				switch {
				case tc.failures == 0 || tc.failures < tc.wantCalls:
					if err != nil {
						t.Errorf("err = %v, want nil", err)
					}
				case !errors.Is(err, tc.err):
					t.Errorf("err = %v, want %v", err, tc.err)
				}
				if got := strings.Count(log.String(), "matrix: engine error, retry"); got != tc.wantLog {
					t.Errorf("%d retry lines, want %d:\n%s", got, tc.wantLog, log.String())
				}
			})
		}
	}
}

func TestRetryStopsWhenCancelled(t *testing.T) {
	f := &flaky{n: 10, err: &TransientError{Err: errors.New("engine restarting")}}
	ctx, cancel := context.WithCancel(context.Background())
	e := Retry(f, 5, io.Discard)
	e.(*retrying).sleep = func(ctx context.Context, d time.Duration) error {
		cancel()
		return ctx.Err()
	}
	if _, err := e.Resolve(ctx, "img", ""); !IsTransient(err) {
		t.Errorf("err = %v, want the transient error that was being retried", err)
	}
	if f.calls != 1 {
		t.Errorf("%d calls after cancellation, want 1", f.calls)
	}
}

func TestRetryDelay(t *testing.T) {
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 70: 10 * time.Second} {
		if got := RetryDelay(n); got != want {
			t.Errorf("RetryDelay(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestImagePlatform(t *testing.T) {
	for _, tc := range []struct {
		img  Image
		want string
	}{
		{Image{OS: "linux", Architecture: "amd64"}, "linux/amd64"},
		{Image{OS: "linux", Architecture: "arm", Variant: "v7"}, "linux/arm/v7"},
	} {
		if got := tc.img.Platform(); got != tc.want {
			t.Errorf("%+v.Platform() = %q, want %q", tc.img, got, tc.want)
		}
	}
}
