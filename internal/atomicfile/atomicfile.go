// Package atomicfile replaces files so that a reader sees the old content or the new,
// never a torn file, and so that the new content survives a crash once the call
// returns: a temporary file in the same directory, fsync, rename, fsync of the
// directory. It also owns the names of those temporary files, so that the clean-up of
// an interrupted run can recognise them (IsTemp), keeps a replaced file undoable until
// what vouches for its replacement is committed (SetAside, Settle, Undo), and opens
// the files that are already in a directory only when they are what they claim to be
// (OpenRegular).
//
// Every step goes through an os.Root of the directory: a temporary is created with
// O_EXCL (never through a link planted under its name), a rename replaces a link
// instead of following it, and nothing reaches outside the directory.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// tempMarker is in the name of every temporary file: ".NAME.tmp-RANDOM".
const tempMarker = ".tmp-"

// IsTemp reports whether a directory entry's name is one of this package's temporary
// files, left behind only when a process died between Create and Commit or Abort.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tempMarker)
}

// IsTempOf reports whether a directory entry's name is a temporary of the file dest
// (Create's ".DEST.tmp-RANDOM").
func IsTempOf(name, dest string) bool {
	return strings.HasPrefix(name, "."+dest+tempMarker)
}

// Fault is for tests only. When set, every step that changes the disk first calls it
// with the step ("create", "write", "sync", "link", "rename", "remove", "syncdir") and the
// path the step changes; an error it returns fails the step, undone, as a full or
// failing disk would. A test that sets it must not run in parallel with others.
var Fault func(step, path string) error

func fault(step, path string) error {
	if Fault == nil {
		return nil
	}
	return Fault(step, path)
}

// NotDurableError is a Commit that failed after its rename: the new content is in
// place under its name, but syncing the directory failed, so a crash may still undo
// the rename. The next sync of the directory that succeeds makes it durable.
type NotDurableError struct {
	Path string
	Err  error
}

func (e *NotDurableError) Error() string {
	return fmt.Sprintf("%s is in place, but syncing its directory failed (a crash may undo it): %v", e.Path, e.Err)
}

func (e *NotDurableError) Unwrap() error { return e.Err }

// File is a temporary file that replaces its destination on Commit.
type File struct {
	*os.File
	root    *os.Root
	ownRoot bool   // opened by Create: closed when f is done
	temp    string // the temporary's name in root
	name    string // the destination's name in root
	dest    string // the destination's path, for messages
	state   state
	mode    fs.FileMode // once committed; 0 is 0644
}

// SetMode sets the permissions the file has once committed, instead of 0644: a
// rewrite that keeps those of the file it replaces (matrix fmt).
func (f *File) SetMode(mode fs.FileMode) { f.mode = mode.Perm() }

type state int

const (
	open     state = iota
	finished       // synced and closed under the temporary name
	done           // renamed, kept or removed
)

// Temp creates a hidden temporary file in dir whose name IsTemp recognises, for data
// that is never committed (a spool): the caller removes it.
func Temp(dir, name string) (*os.File, error) {
	return os.CreateTemp(dir, "."+name+tempMarker+"*")
}

// TempDir creates a hidden temporary directory in dir whose name IsTemp recognises,
// for a directory that is filled and then renamed to dir/name as one step (matrix
// merge's output): the caller renames or removes it.
func TempDir(dir, name string) (string, error) {
	return os.MkdirTemp(dir, "."+name+tempMarker+"*")
}

// Create starts the replacement of dir/name: the returned file is written, then
// committed or aborted. Its mode is 0644 once committed.
func Create(dir, name string) (*File, error) {
	if dir == "" {
		dir = "."
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", filepath.Join(dir, name), err)
	}
	f, err := CreateIn(root, name)
	if err != nil {
		root.Close()
		return nil, err
	}
	f.ownRoot = true
	return f, nil
}

// CreateIn is Create in the directory root, which the caller keeps open until the
// file is committed or aborted.
func CreateIn(root *os.Root, name string) (*File, error) {
	dest := filepath.Join(root.Name(), name)
	for range 10000 {
		temp := "." + name + tempMarker + strconv.FormatUint(uint64(rand.Uint32()), 10)
		if err := fault("create", filepath.Join(root.Name(), temp)); err != nil {
			return nil, fmt.Errorf("writing %s: %w", dest, err)
		}
		f, err := root.OpenFile(temp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("writing %s: %w", dest, err)
		}
		return &File{File: f, root: root, temp: temp, name: name, dest: dest}, nil
	}
	return nil, fmt.Errorf("writing %s: no free temporary name", dest)
}

// Write writes to the temporary file.
func (f *File) Write(p []byte) (int, error) {
	if err := fault("write", f.Name()); err != nil {
		return 0, &fs.PathError{Op: "write", Path: f.Name(), Err: err}
	}
	return f.File.Write(p)
}

// Finish syncs and closes the temporary file: its content is durable under the
// temporary name, for Rename to put in place. An error removes the temporary file.
func (f *File) Finish() error {
	if f.state != open {
		return fmt.Errorf("writing %s: already finished", f.dest)
	}
	mode := f.mode
	if mode == 0 {
		mode = 0o644
	}
	err := f.Chmod(mode)
	if err == nil {
		if err = fault("sync", f.Name()); err == nil {
			err = f.Sync()
		}
	}
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		f.state = done
		f.remove()
		return fmt.Errorf("writing %s: %w", f.dest, err)
	}
	f.state = finished
	return nil
}

// Rename puts the finished file in place, replacing what had its name (a link there
// is replaced, never followed); SyncDir makes that durable. An error leaves the
// temporary file, for the caller to Keep or Abort.
func (f *File) Rename() error {
	if f.state != finished {
		return fmt.Errorf("writing %s: not finished, or already done", f.dest)
	}
	err := fault("rename", f.dest)
	if err == nil {
		err = f.root.Rename(f.temp, f.name)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", f.dest, err)
	}
	f.state = done
	return nil
}

// Commit syncs the file (unless Finish did), renames it over its destination and
// syncs the directory. An error before the rename removes the temporary file and
// leaves the destination as it was; an error syncing the directory comes after the
// rename, and is a *NotDurableError: the new content is in place.
func (f *File) Commit() error {
	defer f.release()
	if f.state == open {
		if err := f.Finish(); err != nil {
			return err
		}
	}
	if err := f.Rename(); err != nil {
		f.Abort()
		return err
	}
	if err := SyncDir(f.root); err != nil {
		return &NotDurableError{Path: f.dest, Err: err}
	}
	return nil
}

// CommitAs is Commit to another name in the same directory: a file whose destination
// is known only once it is written (a log of a build that failed).
func (f *File) CommitAs(name string) error {
	f.name, f.dest = name, filepath.Join(f.root.Name(), name)
	return f.Commit()
}

// Keep leaves a finished temporary file where it is, under its temporary name, for a
// reader that knows what to look for (IsTempOf); f is done.
func (f *File) Keep() {
	if f.state == finished {
		f.state = done
	}
	f.release()
}

// Abort removes the temporary file; the destination is left as it was. It does
// nothing after Commit, Rename or Keep, so `defer f.Abort()` is safe.
func (f *File) Abort() {
	defer f.release()
	switch f.state {
	case done:
		return
	case open:
		f.File.Close()
	}
	f.state = done
	f.remove()
}

func (f *File) remove() {
	if fault("remove", f.Name()) == nil {
		f.root.Remove(f.temp)
	}
}

// release closes the directory that Create opened, once f is done.
func (f *File) release() {
	if f.ownRoot && f.state == done {
		f.root.Close()
		f.ownRoot = false
	}
}

// Write replaces path with data (mode 0644).
func Write(path string, data []byte) error {
	return WriteFrom(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteFrom replaces path with what write writes (mode 0644); if write fails, path is
// left as it was.
func WriteFrom(path string, write func(io.Writer) error) error {
	dir, name := filepath.Split(path)
	f, err := Create(dir, name)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := write(f); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Commit()
}

// Place renames root's temporary file temp, which a writer finished and kept (Keep),
// to name, and syncs the directory; an error syncing is a *NotDurableError.
func Place(root *os.Root, temp, name string) error {
	dest := filepath.Join(root.Name(), name)
	err := fault("rename", dest)
	if err == nil {
		err = root.Rename(temp, name)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", dest, err)
	}
	if err := SyncDir(root); err != nil {
		return &NotDurableError{Path: dest, Err: err}
	}
	return nil
}

// SyncDir makes the renames in root durable. File systems that cannot sync a
// directory (EINVAL) are not an error: there is nothing more to be done there.
func SyncDir(root *os.Root) error {
	if err := fault("syncdir", root.Name()); err != nil {
		return err
	}
	d, err := root.Open(".")
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !isUnsupported(err) {
		return err
	}
	return nil
}
