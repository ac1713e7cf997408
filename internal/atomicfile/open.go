package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrNotRegular is what OpenRegular's refusal of a name that is not a regular file
// satisfies (errors.Is).
var ErrNotRegular = errors.New("not a regular file")

type notRegularError struct{ mode fs.FileMode }

func (e notRegularError) Error() string { return "not a regular file but " + Kind(e.mode) }

func (e notRegularError) Is(target error) bool { return target == ErrNotRegular }

// Kind names the type of a file of mode, as an error says what was found instead of
// what was expected: "a symbolic link, which matrix does not follow", "a directory".
func Kind(mode fs.FileMode) string {
	switch t := mode.Type(); {
	case t&fs.ModeSymlink != 0:
		return "a symbolic link, which matrix does not follow"
	case t&fs.ModeDir != 0:
		return "a directory"
	case t&fs.ModeNamedPipe != 0:
		return "a named pipe (fifo)"
	case t&fs.ModeCharDevice != 0:
		return "a character device"
	case t&fs.ModeDevice != 0:
		return "a block device"
	case t&fs.ModeSocket != 0:
		return "a socket"
	case t == 0:
		return "a regular file"
	default:
		return "a file of mode " + mode.String()
	}
}

// OpenRegular opens root's file name (flag as for os.OpenFile) only if it is a regular
// file: never through a symbolic link, not even one that stays inside root, and never
// a fifo, a device, a socket or a directory, whose opening or reading could block, have
// side effects or never end. The type is checked before opening, and the opened file
// is checked to be the one its name holds. With O_CREATE, a missing file is created
// (mode 0644). A file opened for writing must have no other name: a hard link would
// carry the write to a file elsewhere. Errors are *fs.PathError naming the path.
func OpenRegular(root *os.Root, name string, flag int) (*os.File, error) {
	path := filepath.Join(root.Name(), name)
	fail := func(op string, err error) (*os.File, error) {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &fs.PathError{Op: op, Path: path, Err: err}
	}
	before, err := root.Lstat(name)
	switch {
	case err == nil:
		if !before.Mode().IsRegular() {
			return fail("open", notRegularError{before.Mode()})
		}
	case errors.Is(err, fs.ErrNotExist) && flag&os.O_CREATE != 0:
		before = nil
	default:
		return fail("open", err)
	}
	f, err := root.OpenFile(name, flag|openFlags, 0o644)
	if err != nil {
		return fail("open", err)
	}
	err = check(root, name, f, before, flag&(os.O_WRONLY|os.O_RDWR) != 0)
	if err != nil {
		f.Close()
		return fail("open", err)
	}
	return f, nil
}

// check makes sure that the opened f is a regular file that name itself holds (not a
// link to it): what was there before opening, if anything, and is there now.
func check(root *os.Root, name string, f *os.File, before fs.FileInfo, writing bool) error {
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return notRegularError{info.Mode()}
	}
	now, err := root.Lstat(name)
	if err != nil {
		return err
	}
	if !now.Mode().IsRegular() {
		return notRegularError{now.Mode()}
	}
	if !os.SameFile(info, now) || before != nil && !os.SameFile(before, info) {
		return errors.New("replaced while it was being opened")
	}
	if n := links(info); writing && n != 1 {
		return fmt.Errorf("the file has %d names (hard links); writing it in place would change it under its other names too", n)
	}
	return nil
}

// ReadRegular reads root's file name, a regular file (OpenRegular), of at most max
// bytes: a larger one is an error, read no further than max+1 bytes.
func ReadRegular(root *os.Root, name string, max int64) ([]byte, error) {
	f, err := OpenRegular(root, name, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tooLarge := &fs.PathError{Op: "read", Path: f.Name(), Err: fmt.Errorf("larger than %d bytes", max)}
	if info, err := f.Stat(); err == nil && info.Size() > max {
		return nil, tooLarge
	}
	data, err := readAtMost(f, max)
	if errors.Is(err, errTooLarge) {
		return nil, tooLarge
	}
	return data, err
}

// errTooLarge is readAtMost's: the reader had more than max bytes.
var errTooLarge = errors.New("too large")

// readAtMost reads r to its end if it holds at most max bytes, reading no further
// than max+1; otherwise errTooLarge.
func readAtMost(r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, errTooLarge
	}
	return data, nil
}

// ReadFile reads the file at path that a user named (a matrix file, a variable file,
// a lock file, a configuration file), of at most max bytes. Unlike OpenRegular it
// follows links, which the user chose; like it, it reads only a regular file: a fifo
// would block the read until somebody writes, and a device such as /dev/zero would
// never end. The type is checked before opening and again on the opened file, which
// is opened without blocking. A larger file is an error, read no further than max+1
// bytes. Errors are *fs.PathError naming path.
func ReadFile(path string, max int64) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := within(path, info, max); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|nonblock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	opened, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !os.SameFile(info, opened) {
		return nil, &fs.PathError{Op: "open", Path: path, Err: errors.New("replaced while it was being opened")}
	}
	data, err := readAtMost(f, max)
	if errors.Is(err, errTooLarge) {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("grew past %d bytes while it was read", max)}
	}
	return data, err
}

// within refuses what ReadFile must not read: a file that is not regular, or is larger
// than max bytes.
func within(path string, info fs.FileInfo, max int64) error {
	if !info.Mode().IsRegular() {
		return &fs.PathError{Op: "open", Path: path, Err: notRegularError{info.Mode()}}
	}
	if info.Size() > max {
		return &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%d bytes, more than the %s this file may have", info.Size(), sizeString(max))}
	}
	return nil
}

// sizeString is max in the largest binary unit that divides it: "16 MiB", "4097 bytes".
func sizeString(max int64) string {
	for _, u := range []struct {
		shift int
		name  string
	}{{30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if max >= 1<<u.shift && max%(1<<u.shift) == 0 {
			return fmt.Sprintf("%d %s", max>>u.shift, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", max)
}

// OpenDir opens root's directory name as an *os.Root only if it is a directory: never
// through a symbolic link, not even one that stays inside root, and never a directory
// that took the name's place while it was being opened. What is then created through
// the returned root lands in that directory, whatever later becomes of the name (a
// link swapped in for it). Errors are *fs.PathError naming the path.
func OpenDir(root *os.Root, name string) (*os.Root, error) {
	path := filepath.Join(root.Name(), name)
	fail := func(err error) (*os.Root, error) {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	before, err := root.Lstat(name)
	if err != nil {
		return fail(err)
	}
	if !before.IsDir() {
		return fail(notDirError{before.Mode()})
	}
	dir, err := root.OpenRoot(name)
	if err != nil {
		return fail(err)
	}
	info, err := dir.Stat(".")
	if err == nil && !os.SameFile(before, info) {
		err = errors.New("replaced while it was being opened")
	}
	if err != nil {
		dir.Close()
		return fail(err)
	}
	return dir, nil
}

// ErrNotDir is what OpenDir's refusal of a name that is not a directory satisfies
// (errors.Is).
var ErrNotDir = errors.New("not a directory")

type notDirError struct{ mode fs.FileMode }

func (e notDirError) Error() string { return "not a directory but " + Kind(e.mode) }

func (e notDirError) Is(target error) bool { return target == ErrNotDir }
