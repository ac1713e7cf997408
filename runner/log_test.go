package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/plan"
)

// TestRunLogEndsWithWhyTheCellFailed: however a cell fails once its log is open, the
// log's last line is "matrix: cell failed: " and the start of the cell's error (a
// script's last lines, which the error repeats, are just above it in the log). That
// holds for a failure after the log was put in place, when publishing the artifact.
func TestRunLogEndsWithWhyTheCellFailed(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, opts *Options, cs []plan.Cell) *fakeExec
	}{
		{"script exits non-zero", func(t *testing.T, opts *Options, cs []plan.Cell) *fakeExec {
			return &fakeExec{behave: func(ctx context.Context, job executor.Job, _ int) error {
				fmt.Fprintln(job.Log, "npm ERR! something broke")
				return &executor.ExitError{Code: 1}
			}}
		}},
		{"timeout", func(t *testing.T, opts *Options, cs []plan.Cell) *fakeExec {
			cs[0].Timeout = 50 * time.Millisecond
			return &fakeExec{behave: func(ctx context.Context, job executor.Job, _ int) error {
				<-ctx.Done()
				return ctx.Err()
			}}
		}},
		{"test fails", func(t *testing.T, opts *Options, cs []plan.Cell) *fakeExec {
			cs[0].Test = &plan.Test{Image: "rt", Workdir: "/test", Script: "node -e 1", Timeout: time.Minute}
			return &fakeExec{test: func(ctx context.Context, job executor.TestJob) error {
				fmt.Fprintln(job.Log, "Error: Could not load the sharp module")
				return &executor.ExitError{Code: 1}
			}}
		}},
		{"stopped after another cell failed", func(t *testing.T, opts *Options, cs []plan.Cell) *fakeExec {
			started := make(chan struct{})
			return &fakeExec{behave: func(ctx context.Context, job executor.Job, _ int) error {
				if job.Cell.Artifact == "other.tar.gz" {
					<-started
					return errors.New("broken")
				}
				close(started)
				<-ctx.Done()
				return ctx.Err()
			}}
		}},
		{"publishing the artifact fails after the log is in place", func(t *testing.T, opts *Options, cs []plan.Cell) *fakeExec {
			// A directory where the artifact goes: the rename fails.
			if err := os.MkdirAll(filepath.Join(opts.OutDir, "a.tar.gz", "in-the-way"), 0o755); err != nil {
				t.Fatal(err)
			}
			return &fakeExec{}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := options(t)
			opts.Jobs = 2
			cs := cells("a.tar.gz", "other.tar.gz")
			exec := tc.setup(t, &opts, cs)
			results, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts)
			if err == nil || results[0].Err == nil {
				t.Fatalf("run: %v; cell: %v; want the cell failed", err, results)
			}
			data, err := os.ReadFile(filepath.Join(opts.OutDir, logName(cs[0])))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			last := lines[len(lines)-1]
			why, ok := strings.CutPrefix(last, "matrix: cell failed: ")
			if !ok || why == "" || !strings.HasPrefix(results[0].Err.Error(), why) {
				t.Errorf("the log ends with %q; want \"matrix: cell failed: \" and the start of %q", last, results[0].Err)
			}
			if bytes.Count(data, []byte("matrix: cell failed")) != 1 {
				t.Errorf("log:\n%s\nwant one \"cell failed\" line", data)
			}
			assertClean(t, opts.OutDir)
			assertClean(t, filepath.Join(opts.OutDir, logDir))
		})
	}
}
