package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
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
	mu      sync.Mutex
	path    string
	file    *atomicfile.File
	err     error
	done    bool // committed or aborted: later lines (a late engine copier) are dropped
	inPlace bool // committed, and renamed over the earlier log
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
	l.write(p)
	return len(p), nil
}

func (l *cellLog) write(p []byte) {
	if l.done || l.err != nil {
		return
	}
	if _, err := l.file.Write(p); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the temporary name would only confuse
		}
		l.err = fmt.Errorf("writing %s: %w", l.path, err)
	}
}

// commit puts the log in place, also after a write error (what was written is still
// this build's), and returns the first error of writing or committing it.
func (l *cellLog) commit() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.commitLocked()
}

func (l *cellLog) commitLocked() error {
	if l.done {
		return l.err
	}
	l.done = true
	err := l.file.Commit()
	var notDurable *atomicfile.NotDurableError
	l.inPlace = err == nil || errors.As(err, &notDurable)
	if !l.inPlace && l.err == nil {
		l.err = err
	}
	if l.err != nil {
		return l.err
	}
	return err // nil, or the log is in place but not durable yet
}

// durable returns err, or nil after saying so on the progress output when err is an
// *atomicfile.NotDurableError: the cell's file (its log, its artifact) is in place
// and its cell is recorded like any other, since the rename happened; writing the
// records syncs the output directory again, and fails the run if that fails too.
func (r *run) durable(artifact string, err error) error {
	var notDurable *atomicfile.NotDurableError
	if !errors.As(err, &notDurable) {
		return err
	}
	fmt.Fprintf(r.progress, "[%s] matrix: warning: %v\n", artifact, err)
	return nil
}

// end writes the log's last line, why the cell failed, and commits the log. A log
// already in place (the cell failed while publishing its artifact, after the log) gets
// the line appended, so that a failed cell's log always ends with why.
func (l *cellLog) end(line string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.write([]byte(line))
		return l.commitLocked()
	}
	if !l.inPlace {
		return l.err
	}
	// Written in place: only the regular file that the log's rename put there, never
	// a link or another name of a file elsewhere that took its place since.
	root, err := os.OpenRoot(filepath.Dir(l.path))
	if err != nil {
		return err
	}
	defer root.Close()
	f, err := atomicfile.OpenRegular(root, filepath.Base(l.path), os.O_WRONLY|os.O_APPEND)
	if err != nil {
		return err
	}
	_, err = f.WriteString(line)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
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
