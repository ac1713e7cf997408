package runner

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sync"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/plan"
)

// maxLogBytes bounds what a cell's log holds of the cell's output (its container's
// lines and the tool's own), so that a script printing without end cannot fill the
// output directory's disk. Past it the log's lines are counted, not written, and the
// log says how many bytes it left out; the progress output still gets every line, and
// the cell's result does not change. It is not configurable: 64 MiB is more than any
// npm install prints, and what is left out is the end of a runaway stream. (A
// variable only so that tests can lower it.)
var maxLogBytes int64 = 64 << 20

// failedSuffix names the log of a failed attempt at a cell whose earlier artifact the
// records keep: logs/NAME.log.failed, so that logs/NAME.log stays the log of the bytes
// on disk. No artifact's log takes that name: each ends in ".log".
const failedSuffix = ".failed"

// failedLog is where the log of a failed attempt at cell goes, relative to the output
// directory: logs/NAME.log, unless the records hold an earlier artifact of the cell,
// whose log that is (carried over, see carriedOver); then logs/NAME.log.failed.
func (r *run) failedLog(cell plan.Cell) string {
	if _, kept := r.previous[cell.Artifact]; kept {
		return logName(cell) + failedSuffix
	}
	return logName(cell)
}

// cellLog is a cell's log in OUT/logs. It is written under a temporary name and put in
// place when the cell is built (logs/NAME.log) or fails (its failed name: failedLog);
// a reused artifact keeps the log of its build (abort). The first write error is kept
// and returned by commit: a log with a hole in it fails its cell. It holds at most max
// bytes of the cell's output (maxLogBytes).
type cellLog struct {
	mu      sync.Mutex
	dir     *os.Root // OUT/logs, opened once by the run: a link put in its place later is never followed
	name    string   // the log of a built artifact: NAME.log
	failed  string   // the log of a failed attempt: NAME.log, or NAME.log.failed
	file    *atomicfile.File
	max     int64
	written int64
	dropped int64 // bytes of output past max, not written
	err     error
	done    bool   // committed or aborted: later lines (a late engine copier) are dropped
	placed  string // the name it was committed under; "" before, or when that failed
}

// createLog starts the log of cell in dir, OUT/logs; failed is the name it takes in
// dir when the cell fails.
func createLog(dir *os.Root, cell plan.Cell, failed string) (*cellLog, error) {
	name := path.Base(logName(cell))
	f, err := atomicfile.CreateIn(dir, name)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	return &cellLog{dir: dir, name: name, failed: failed, file: f, max: maxLogBytes}, nil
}

// Write appends to the log, up to its bound. A write error is kept for commit rather
// than returned: the build goes on, its lines still reach the progress output, and the
// cell fails once it is done.
func (l *cellLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dropped > 0 || l.written+int64(len(p)) > l.max {
		// Whole lines are left out, and everything after the first of them: the log
		// is the start of the output, without a gap.
		if !l.done {
			l.dropped += int64(len(p))
		}
		return len(p), nil
	}
	l.write(p)
	return len(p), nil
}

func (l *cellLog) write(p []byte) {
	if l.done || l.err != nil {
		return
	}
	n, err := l.file.Write(p)
	l.written += int64(n)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the temporary name would only confuse
		}
		l.err = fmt.Errorf("writing %s: %w", l.path(l.name), err)
	}
}

func (l *cellLog) path(name string) string { return filepath.Join(l.dir.Name(), name) }

// setAside makes the undo entry of logs/NAME.log (atomicfile.SetAside) before commit
// puts this log in its place.
func (l *cellLog) setAside() (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return atomicfile.SetAside(l.dir, l.name, l.file)
}

// commit puts the log in place as the log of the artifact built, also after a write
// error (what was written is still this build's), and returns the first error of
// writing or committing it. A failed attempt's log beside it goes: the records no
// longer list that failure.
func (l *cellLog) commit() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.commitLocked("", l.name)
	if l.placed == l.name {
		l.dir.Remove(l.name + failedSuffix)
	}
	return err
}

// commitLocked writes the log's closing lines: how much of the output it left out,
// then last; and puts it in place under name.
func (l *cellLog) commitLocked(last, name string) error {
	if l.done {
		return l.err
	}
	if l.dropped > 0 {
		l.write(fmt.Appendf(nil, "matrix: %d more bytes of output were not written to this log: it holds at most %d bytes of it\n", l.dropped, l.max))
	}
	l.write([]byte(last))
	l.done = true
	err := l.file.CommitAs(name)
	var notDurable *atomicfile.NotDurableError
	if err == nil || errors.As(err, &notDurable) {
		l.placed = name
	} else if l.err == nil {
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
	r.output(artifact, fmt.Sprintf("matrix: warning: %v", err))
	return nil
}

// end writes the log's last line, why the cell failed, and puts the log in place
// under its failed name. A log already in place (the cell failed while publishing its
// artifact, after the log) is moved to that name and gets the line appended, so that a
// failed cell's log always ends with why, and never passes for the log of an earlier
// artifact that the records keep.
func (l *cellLog) end(line string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		return l.commitLocked(line, l.failed)
	}
	if l.placed == "" {
		return l.err
	}
	if l.placed != l.failed {
		var notDurable *atomicfile.NotDurableError
		if err := atomicfile.Place(l.dir, l.placed, l.failed); err != nil && !errors.As(err, &notDurable) {
			return err
		}
		l.placed = l.failed
	}
	// Written in place: only the regular file that the log's rename put there, never
	// a link or another name of a file elsewhere that took its place since.
	f, err := atomicfile.OpenRegular(l.dir, l.placed, os.O_WRONLY|os.O_APPEND)
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

// placedAs is the name the log is in place under; "" before it is, or when that failed.
func (l *cellLog) placedAs() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.placed
}

// prepend puts earlier, the log of the build of an artifact that the cell reuses,
// before what the log holds so far: the log of a test run again on that artifact
// (--reuse) continues the log of its build. It counts toward the log's bound.
func (l *cellLog) prepend(earlier io.Reader) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done || l.err != nil {
		return l.err
	}
	f, err := atomicfile.CreateIn(l.dir, l.name)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	n, err := io.Copy(f, io.LimitReader(earlier, l.max))
	if err == nil {
		_, err = io.Copy(f, io.NewSectionReader(l.file.File, 0, l.written))
	}
	if err != nil {
		f.Abort()
		return fmt.Errorf("writing %s: %w", l.path(l.name), err)
	}
	l.file.Abort()
	l.file = f
	l.written += n
	return nil
}
