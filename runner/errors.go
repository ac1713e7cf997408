package runner

import (
	"errors"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/manifest"
)

// TestError is a failed artifact test; Result holds what the manifest records of it.
type TestError struct {
	Result *manifest.Test
	// Tests are all the cell's tests when its test block has axes.
	Tests []manifest.Test
	Err   error
}

func (e *TestError) Error() string { return e.Err.Error() }
func (e *TestError) Unwrap() error { return e.Err }

// RecordError is a run whose records (manifest.json and SHA256SUMS) could not be
// written, or could not be made durable (InPlace); Err says why and what the output
// directory holds instead (manifest.Write).
type RecordError struct{ Err error }

func (e *RecordError) Error() string { return "recording the run: " + e.Err.Error() }
func (e *RecordError) Unwrap() error { return e.Err }

// InPlace reports whether the records were written, and only the last sync of the
// output directory failed: a crash may still undo them.
func (e *RecordError) InPlace() bool {
	var notDurable *atomicfile.NotDurableError
	return errors.As(e.Err, &notDurable)
}
