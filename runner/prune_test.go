package runner

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/plan"
)

// TestRunPrune: with Prune, once the run is recorded, the artifacts the records
// listed that the plan no longer produces (a dropped cell, a cell skipped now) go,
// with their logs and failed logs, and so do the logs of a cell that failed last time
// and is no longer planned; an artifact changed since it was recorded (with its log),
// and what no record lists, stay and are named. Without Prune nothing goes; with records that
// cannot be written, nothing goes either.
func TestRunPrune(t *testing.T) {
	for _, tc := range []struct {
		name        string
		prune       bool
		recordFails bool
	}{
		{"prune", true, false},
		{"no prune", false, false},
		{"prune, records not written", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := options(t)
			opts.RunID, opts.KeepGoing = "first", true
			exec := &fakeExec{behave: func(ctx context.Context, job executor.Job, _ int) error {
				if job.Cell.Artifact == "f.tar.gz" {
					return &executor.ExitError{Code: 1}
				}
				return nil
			}}
			first := cells("a.tar.gz", "b.tar.gz", "c.tar.gz", "d.tar.gz", "f.tar.gz")
			readAndRun(context.Background(), []executor.Executor{exec}, first, opts)
			out := opts.OutDir
			os.WriteFile(filepath.Join(out, "logs", "c.tar.gz.log.failed"), []byte("failed\n"), 0o644)
			os.WriteFile(filepath.Join(out, "notes.txt"), []byte("mine\n"), 0o644)
			os.WriteFile(filepath.Join(out, "d.tar.gz"), []byte("changed since\n"), 0o644)

			// The second run builds a, skips b; c, d and f are no longer planned.
			second := []plan.Cell{first[0], first[1]}
			second[1].Skip = "not any more"
			var progress bytes.Buffer
			opts.RunID, opts.Prune, opts.Progress = "second", tc.prune, &progress
			if tc.recordFails {
				atomicfile.Fault = func(step, path string) error {
					if step == "create" && strings.HasPrefix(filepath.Base(path), "."+manifest.FileName+".tmp-") {
						return syscall.ENOSPC
					}
					return nil
				}
			}
			_, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, second, opts)
			atomicfile.Fault = nil
			if (err != nil) != tc.recordFails {
				t.Fatalf("run: %v", err)
			}
			exists := func(name string) bool { _, err := os.Lstat(filepath.Join(out, name)); return err == nil }
			gone := []string{"b.tar.gz", "c.tar.gz", "logs/b.tar.gz.log", "logs/c.tar.gz.log", "logs/c.tar.gz.log.failed", "logs/f.tar.gz.log"}
			for _, name := range gone {
				if want := !tc.prune || tc.recordFails; exists(name) != want {
					t.Errorf("%s on disk: %v, want %v", name, exists(name), want)
				}
			}
			for _, name := range []string{"a.tar.gz", "logs/a.tar.gz.log", "notes.txt", "d.tar.gz", "logs/d.tar.gz.log"} {
				if !exists(name) {
					t.Errorf("%s was removed", name)
				}
			}
			if !tc.prune {
				return
			}
			if tc.recordFails {
				if !strings.Contains(progress.String(), "--prune: removed nothing") {
					t.Errorf("progress does not say that nothing was pruned:\n%s", progress.String())
				}
				return
			}
			for _, want := range []string{
				"--prune: removed b.tar.gz, logs/b.tar.gz.log: the plan no longer produces b.tar.gz",
				"--prune: removed c.tar.gz, logs/c.tar.gz.log, logs/c.tar.gz.log.failed:",
				"--prune: removed logs/f.tar.gz.log:",
				"--prune: d.tar.gz not removed: it is no longer the artifact the records listed",
				"what no record lists, which matrix never removes: d.tar.gz, notes.txt",
			} {
				if !strings.Contains(progress.String(), want) {
					t.Errorf("progress lacks %q:\n%s", want, progress.String())
				}
			}
			m, _ := manifest.Read(out)
			var files []string
			for _, a := range m.Artifacts {
				files = append(files, a.File)
			}
			if !slices.Equal(files, []string{"a.tar.gz"}) {
				t.Errorf("recorded %v", files)
			}
			rep, err := manifest.Verify(context.Background(), out)
			if err != nil || len(rep.Problems) > 0 || !slices.Equal(rep.Unlisted, []string{"d.tar.gz", "notes.txt"}) {
				t.Errorf("verify: %v, unlisted %v, %v", rep.Problems, rep.Unlisted, err)
			}
			if _, err := os.Stat(filepath.Join(out, "logs")); errors.Is(err, os.ErrNotExist) {
				t.Error("logs/ went")
			}
			assertClean(t, out)
		})
	}
}
