package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/manifest"
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

// TestCellLogIsBounded: past its bound a log writes no more of the output, whole
// lines, and ends with a line saying how many bytes it left out, before the line
// saying why a failed cell failed.
func TestCellLogIsBounded(t *testing.T) {
	for _, tc := range []struct {
		name  string
		close func(l *cellLog) error
		want  string
	}{
		{"built", func(l *cellLog) error { return l.commit() }, ""},
		{"failed", func(l *cellLog) error { return l.end("matrix: cell failed: broken\n") }, "matrix: cell failed: broken\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.Mkdir(filepath.Join(dir, logDir), 0o755)
			logs, err := os.OpenRoot(filepath.Join(dir, logDir))
			if err != nil {
				t.Fatal(err)
			}
			defer logs.Close()
			log, err := createLog(logs, cells("a.tar.gz")[0], "a.tar.gz.log")
			if err != nil {
				t.Fatal(err)
			}
			log.max = 100
			line := strings.Repeat("x", 29) + "\n"
			for range 5 {
				log.Write([]byte(line)) // 3 fit, the 4th would not
			}
			log.Write([]byte("short\n")) // fits, but after a gap: left out too
			if err := tc.close(log); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(filepath.Join(dir, logDir, "a.tar.gz.log"))
			if err != nil {
				t.Fatal(err)
			}
			want := strings.Repeat(line, 3) + "matrix: 66 more bytes of output were not written to this log: it holds at most 100 bytes of it\n" + tc.want
			if string(data) != want {
				t.Errorf("log:\n%s\nwant:\n%s", data, want)
			}
		})
	}
}

// TestRunLogIsBoundedButProgressIsNot: a script printing more than maxLogBytes builds
// as any other; its log holds the first maxLogBytes bytes and says how many it left
// out, and the progress output gets every line.
func TestRunLogIsBoundedButProgressIsNot(t *testing.T) {
	if maxLogBytes != 64<<20 {
		t.Errorf("maxLogBytes = %d, the README says 64 MiB", maxLogBytes)
	}
	defer func(max int64) { maxLogBytes = max }(maxLogBytes)
	maxLogBytes = 1 << 20 // the integration test TestOutdirLogBounded prints past the real one
	line := strings.Repeat("y", 1023) + "\n"
	lines := int(maxLogBytes)/len(line) + 64 // 64 KiB more than the log holds
	exec := &fakeExec{behave: func(ctx context.Context, job executor.Job, _ int) error {
		for range lines {
			job.Log.Write([]byte(line))
		}
		return nil
	}}
	opts := options(t)
	progress := &countingWriter{}
	opts.Progress = progress
	results, err := readAndRun(context.Background(), []executor.Executor{exec}, cells("a.tar.gz"), opts)
	if err != nil || results[0].Err != nil {
		t.Fatalf("run: %v; cell: %v", err, results[0].Err)
	}
	if progress.lines != lines {
		t.Errorf("progress output got %d of the output's %d lines", progress.lines, lines)
	}
	data, err := os.ReadFile(filepath.Join(opts.OutDir, results[0].Artifact.Log))
	if err != nil {
		t.Fatal(err)
	}
	body, note, _ := bytes.Cut(data, []byte("matrix: "+"packed")) // not in the log: past the bound
	if len(note) > 0 {
		t.Errorf("the log holds a line written past its bound")
	}
	i := bytes.LastIndex(body[:len(body)-1], []byte("\n"))
	body, last := body[:i+1], string(body[i+1:])
	var dropped int
	if _, err := fmt.Sscanf(last, "matrix: %d more bytes of output were not written to this log: it holds at most 1048576 bytes of it\n", &dropped); err != nil {
		t.Fatalf("the log does not end saying what it left out: %q (%v)", last, err)
	}
	if int64(len(body)) > maxLogBytes || len(body)+dropped < lines*len(line) || dropped > 64<<10+2*len(line) {
		t.Errorf("log of %d bytes, %d left out; want at most %d, and the %d bytes of output in all", len(body), dropped, maxLogBytes, lines*len(line))
	}
	assertClean(t, filepath.Join(opts.OutDir, logDir))
}

// countingWriter counts the lines of TestRunLogIsBoundedButProgressIsNot written to
// it, holding none.
type countingWriter struct {
	mu    sync.Mutex
	lines int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines += bytes.Count(p, []byte("] "+strings.Repeat("y", 1023)+"\n"))
	return len(p), nil
}

// TestRunFailedRebuildKeepsTheEarlierLog: a cell whose earlier artifact the records
// keep fails to build again. The earlier artifact keeps its log, logs/NAME.log; the
// failed attempt's log is logs/NAME.log.failed, which failed[].log and the error name
// and which ends with why. Also when the attempt fails after its log was put in place
// (the artifact's rename fails). A later build of the cell removes the failed log.
func TestRunFailedRebuildKeepsTheEarlierLog(t *testing.T) {
	for _, tc := range []struct {
		name   string
		exec   *fakeExec
		fault  func(out string) func(step, path string) error
		errLog bool // the error quotes the log's last lines
	}{
		{"script fails", &fakeExec{behave: func(ctx context.Context, job executor.Job, _ int) error {
			fmt.Fprintln(job.Log, "npm ERR! the second attempt broke")
			return &executor.ExitError{Code: 1}
		}}, nil, true},
		{"artifact's rename fails after the log's", &fakeExec{}, func(out string) func(step, path string) error {
			return func(step, path string) error {
				if step == "rename" && path == filepath.Join(out, "a.tar.gz") {
					return syscall.EIO
				}
				return nil
			}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := options(t)
			opts.RunID = "first"
			if _, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cells("a.tar.gz"), opts); err != nil {
				t.Fatal(err)
			}
			logPath := filepath.Join(opts.OutDir, "logs", "a.tar.gz.log")
			earlier, err := os.ReadFile(logPath)
			if err != nil {
				t.Fatal(err)
			}

			cs := cells("a.tar.gz")
			cs[0].Script = "true # changed"
			opts.RunID = "second"
			if tc.fault != nil {
				atomicfile.Fault = tc.fault(opts.OutDir)
			}
			results, err := readAndRun(context.Background(), []executor.Executor{tc.exec}, cs, opts)
			atomicfile.Fault = nil
			if err == nil || results[0].Err == nil {
				t.Fatalf("run: %v; want the cell failed", err)
			}
			if tc.errLog && !strings.Contains(results[0].Err.Error(), "last lines of logs/a.tar.gz.log.failed:") {
				t.Errorf("the error does not name the failed attempt's log: %v", results[0].Err)
			}
			m, err := manifest.Read(opts.OutDir)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Artifacts) != 1 || m.Artifacts[0].RunID != "first" || m.Artifacts[0].Log != "logs/a.tar.gz.log" {
				t.Errorf("artifacts %+v, want the earlier one with its log", m.Artifacts)
			}
			if len(m.Failed) != 1 || m.Failed[0].Log != "logs/a.tar.gz.log.failed" {
				t.Errorf("failed %+v, want the log logs/a.tar.gz.log.failed", m.Failed)
			}
			// Also when the log was in place before the artifact's rename failed: the
			// earlier log is put back.
			now, err := os.ReadFile(logPath)
			if err != nil || !bytes.Equal(now, earlier) {
				t.Errorf("the earlier artifact's log changed (%v):\n%s\nwas:\n%s", err, now, earlier)
			}
			failed, err := os.ReadFile(logPath + ".failed")
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(string(failed), "\n"), "\n")
			if why, ok := strings.CutPrefix(lines[len(lines)-1], "matrix: cell failed: "); !ok || why == "" || !strings.HasPrefix(results[0].Err.Error(), why) {
				t.Errorf("the failed attempt's log does not end with why:\n%s", failed)
			}
			assertClean(t, filepath.Join(opts.OutDir, logDir))

			opts.RunID = "third"
			if _, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cs, opts); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(logPath + ".failed"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the failed attempt's log outlived the failure: %v", err)
			}
		})
	}
}
