// Package atomicfile replaces files so that a reader sees the old content or the new,
// never a torn file, and so that the new content survives a crash once the call
// returns: a temporary file in the same directory, fsync, rename, fsync of the
// directory. It also owns the names of those temporary files, so that the clean-up of
// an interrupted run can recognise them (IsTemp).
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// tempMarker is in the name of every temporary file: ".NAME.tmp-RANDOM".
const tempMarker = ".tmp-"

// IsTemp reports whether a directory entry's name is one of this package's temporary
// files, left behind only when a process died between Create and Commit or Abort.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tempMarker)
}

// File is a temporary file that replaces its destination on Commit.
type File struct {
	*os.File
	dest string
	done bool
}

// Temp creates a hidden temporary file in dir whose name IsTemp recognises, for data
// that is never committed (a spool): the caller removes it.
func Temp(dir, name string) (*os.File, error) {
	return os.CreateTemp(dir, "."+name+tempMarker+"*")
}

// Create starts the replacement of dir/name: the returned file is written, then
// committed or aborted. Its mode is 0644 once committed.
func Create(dir, name string) (*File, error) {
	if dir == "" {
		dir = "."
	}
	f, err := Temp(dir, name)
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", filepath.Join(dir, name), err)
	}
	return &File{File: f, dest: filepath.Join(dir, name)}, nil
}

// Commit syncs the file, renames it over its destination and syncs the directory.
// An error before the rename removes the temporary file and leaves the destination
// as it was; an error syncing the directory comes after the rename: the new content
// is in place but a crash may still lose the rename.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("writing %s: already committed or aborted", f.dest)
	}
	f.done = true
	err := f.Chmod(0o644)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), f.dest)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing %s: %w", f.dest, err)
	}
	if err := syncDir(filepath.Dir(f.dest)); err != nil {
		return fmt.Errorf("writing %s: %w", f.dest, err)
	}
	return nil
}

// Abort removes the temporary file; the destination is left as it was. It does
// nothing after Commit, so `defer f.Abort()` is safe.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.Name())
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

// syncDir makes a rename in dir durable. File systems that cannot sync a directory
// (EINVAL) are not an error: there is nothing more to be done there.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !isUnsupported(err) {
		return err
	}
	return nil
}
