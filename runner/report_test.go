package runner

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/report"
)

// TestRunWritesReport: every run writes report.html beside manifest.json, a cell
// element per cell of the run with its state, failed ones too; when writing it fails,
// the run says so and its records stand.
func TestRunWritesReport(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault bool
	}{{"written", false}, {"write fails", true}} {
		t.Run(tc.name, func(t *testing.T) {
			opts := options(t)
			opts.KeepGoing = true
			opts.Lock = &manifest.SpecFile{Path: "matrix.lock.json", SHA256: strings.Repeat("5a", 32)}
			var progress bytes.Buffer
			opts.Progress = &progress
			exec := &fakeExec{behave: func(_ context.Context, job executor.Job, _ int) error {
				if job.Cell.Artifact == "bad.tar.gz" {
					return errors.New("boom")
				}
				return nil
			}}
			if tc.fault {
				atomicfile.Fault = func(step, path string) error {
					if step == "write" && strings.Contains(path, report.FileName) {
						return syscall.ENOSPC
					}
					return nil
				}
				defer func() { atomicfile.Fault = nil }()
			}
			_, err := readAndRun(context.Background(), []executor.Executor{exec}, cells("a.tar.gz", "bad.tar.gz", "b.tar.gz"), opts)
			var runErr *RunError
			if !errors.As(err, &runErr) || runErr.Failed != 1 {
				t.Fatalf("err = %v, want one failed cell", err)
			}
			page, rerr := os.ReadFile(filepath.Join(opts.OutDir, report.FileName))
			if tc.fault {
				if !errors.Is(rerr, os.ErrNotExist) {
					t.Errorf("report.html: %v, want none", rerr)
				}
				if !strings.Contains(progress.String(), "matrix: report.html: writing") || !strings.Contains(progress.String(), "matrix report "+opts.OutDir) {
					t.Errorf("the failure is not said:\n%s", progress.String())
				}
				assertClean(t, opts.OutDir)
				return
			}
			if rerr != nil {
				t.Fatal(rerr)
			}
			// The records say which lock file the run read, and the page shows it.
			if m, err := manifest.Read(opts.OutDir); err != nil || m.Lock == nil || *m.Lock != *opts.Lock {
				t.Errorf("manifest.json's lock: %+v (%v), want %+v", m.Lock, err, *opts.Lock)
			}
			for _, want := range []string{
				strings.Repeat("5a", 32),
				`data-state="built" data-cell="t[i=0]"`,
				`data-state="failed" data-cell="t[i=1]"`,
				`data-state="built" data-cell="t[i=2]"`,
			} {
				if !strings.Contains(string(page), want) {
					t.Errorf("report.html has no %s", want)
				}
			}
			if n := strings.Count(string(page), `class="cell `); n != 3 {
				t.Errorf("report.html has %d cells, want 3", n)
			}
		})
	}
}
