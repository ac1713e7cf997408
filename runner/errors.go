package runner

import (
	"github.com/matrixbuild/matrix/manifest"
)

// TestError is a failed artifact test; Result holds what the manifest records of it.
type TestError struct {
	Result *manifest.Test
	Err    error
}

func (e *TestError) Error() string { return e.Err.Error() }
func (e *TestError) Unwrap() error { return e.Err }

// RecordError is a run whose records (manifest.json and SHA256SUMS) were not written:
// the directory keeps the records it had, and Err says why.
type RecordError struct{ Err error }

func (e *RecordError) Error() string { return "recording the run: " + e.Err.Error() }
func (e *RecordError) Unwrap() error { return e.Err }
