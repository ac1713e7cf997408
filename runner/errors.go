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
