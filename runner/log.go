package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/plan"
)

// cellLog is a cell's OUT/logs/<artifact>.log. It is written under a temporary name
// and replaces the cell's earlier log on commit, when the cell is built or fails; a
// reused artifact keeps the log of its build (abort). The first write error is kept
// and returned by commit: a log with a hole in it fails its cell.
type cellLog struct {
	mu   sync.Mutex
	path string
	file *atomicfile.File
	err  error
	done bool // committed or aborted: later lines (a late engine copier) are dropped
}

func createLog(outDir string, cell plan.Cell) (*cellLog, error) {
	path := filepath.Join(outDir, logName(cell))
	f, err := atomicfile.Create(filepath.Dir(path), filepath.Base(path))
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	return &cellLog{path: path, file: f}, nil
}

// Write appends to the log. A write error is kept for commit rather than returned:
// the build goes on, its lines still reach the progress output, and the cell fails
// once it is done.
func (l *cellLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done || l.err != nil {
		return len(p), nil
	}
	if _, err := l.file.Write(p); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the temporary name would only confuse
		}
		l.err = fmt.Errorf("writing %s: %w", l.path, err)
	}
	return len(p), nil
}

// commit puts the log in place, also after a write error (what was written is still
// this build's), and returns the first error of writing or committing it.
func (l *cellLog) commit() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return l.err
	}
	l.done = true
	if err := l.file.Commit(); err != nil && l.err == nil {
		l.err = err
	}
	return l.err
}

// abort leaves the earlier log in place; it does nothing after commit.
func (l *cellLog) abort() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.done = true
		l.file.Abort()
	}
}
