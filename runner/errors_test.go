package runner

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/manifest"
)

// TestRunRecordErrorSaysWhetherRecordsAreInPlace: a run whose records cannot be
// written returns a *RecordError, not InPlace, with its results; one whose records are
// in place but not durable returns one that is InPlace. The command's summary tells
// them apart.
func TestRunRecordErrorSaysWhetherRecordsAreInPlace(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fault   func(out string) func(step, path string) error
		inPlace bool
	}{
		{"disk full", func(out string) func(step, path string) error {
			return func(step, path string) error {
				if step == "create" && strings.HasPrefix(filepath.Base(path), "."+manifest.SumsName) {
					return syscall.ENOSPC
				}
				return nil
			}
		}, false},
		{"last sync fails", func(out string) func(step, path string) error {
			renamed := false
			return func(step, path string) error {
				renamed = renamed || step == "rename" && path == filepath.Join(out, manifest.FileName)
				if renamed && step == "syncdir" {
					return syscall.EIO
				}
				return nil
			}
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := options(t)
			atomicfile.Fault = tc.fault(opts.OutDir)
			defer func() { atomicfile.Fault = nil }()
			results, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cells("a.tar.gz"), opts)
			var recErr *RecordError
			if !errors.As(err, &recErr) || recErr.InPlace() != tc.inPlace || len(results) != 1 {
				t.Fatalf("err = %v (%T), %d results; want a *RecordError, InPlace %v, and the results", err, err, len(results), tc.inPlace)
			}
		})
	}
}
