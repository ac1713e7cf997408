//go:build unix

package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestOpenRegularRefusesWhatIsNotARegularFile: a link (to a file inside the
// directory or outside it, or to a device), a fifo and a directory are refused before
// anything is opened, so that nothing blocks, follows a link or writes elsewhere.
func TestOpenRegularRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "outside")
	if err := os.WriteFile(outside, []byte("outside\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "inside"), []byte("inside\n"), 0o644)
	os.Symlink(outside, filepath.Join(dir, "link-out"))
	os.Symlink("inside", filepath.Join(dir, "link-in"))
	os.Symlink("/dev/zero", filepath.Join(dir, "link-dev"))
	os.Mkdir(filepath.Join(dir, "dir"), 0o755)
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, tc := range []struct{ name, want string }{
		{"link-out", "a symbolic link"},
		{"link-in", "a symbolic link"},
		{"link-dev", "a symbolic link"},
		{"dir", "a directory"},
		{"fifo", "a named pipe"},
	} {
		for _, flag := range []int{os.O_RDONLY, os.O_RDWR | os.O_CREATE | os.O_TRUNC, os.O_WRONLY | os.O_APPEND} {
			f, err := OpenRegular(root, tc.name, flag)
			if err == nil {
				f.Close()
				t.Errorf("%s (flag %#x) opened", tc.name, flag)
				continue
			}
			path := filepath.Join(dir, tc.name)
			if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: err = %v, want ErrNotRegular naming %s and %q", tc.name, err, path, tc.want)
			}
		}
	}
	if data, _ := os.ReadFile(outside); string(data) != "outside\n" {
		t.Errorf("the file outside was changed: %q", data)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "inside")); string(data) != "inside\n" {
		t.Errorf("the file a link inside points at was changed: %q", data)
	}

	// A regular file opens; O_CREATE makes a missing one.
	f, err := OpenRegular(root, "inside", os.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	f, err = OpenRegular(root, "new", os.O_RDWR|os.O_CREATE)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := OpenRegular(root, "missing", os.O_RDONLY); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: err = %v, want fs.ErrNotExist", err)
	}
}

// TestOpenRegularRefusesToWriteAHardLinkedFile: a second name of a file (elsewhere on
// the same file system) would carry an in-place write there; reading it is fine.
func TestOpenRegularRefusesToWriteAHardLinkedFile(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "elsewhere")
	os.WriteFile(other, []byte("keep\n"), 0o644)
	sub := filepath.Join(dir, "out")
	os.Mkdir(sub, 0o755)
	if err := os.Link(other, filepath.Join(sub, "claim")); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	root, err := os.OpenRoot(sub)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if f, err := OpenRegular(root, "claim", os.O_RDWR|os.O_CREATE); err == nil || !strings.Contains(err.Error(), "2 names") {
		if f != nil {
			f.Truncate(0)
			f.Close()
		}
		t.Errorf("err = %v, want the hard link refused", err)
	}
	f, err := OpenRegular(root, "claim", os.O_RDONLY)
	if err != nil {
		t.Fatalf("reading a hard-linked file: %v", err)
	}
	f.Close()
	if data, _ := os.ReadFile(other); string(data) != "keep\n" {
		t.Errorf("the other name's file changed: %q", data)
	}
}

// TestReadRegularIsBounded: a file over the bound is refused by its size, before it
// is read (a sparse file claiming 1 GiB costs nothing).
func TestReadRegularIsBounded(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "small"), []byte("12345"), 0o644)
	f, _ := os.Create(filepath.Join(dir, "sparse"))
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if data, err := ReadRegular(root, "small", 5); err != nil || string(data) != "12345" {
		t.Errorf("5 bytes, bound 5: %q, %v", data, err)
	}
	if _, err := ReadRegular(root, "small", 4); err == nil || !strings.Contains(err.Error(), "larger than 4 bytes") {
		t.Errorf("5 bytes, bound 4: err = %v", err)
	}
	if _, err := ReadRegular(root, "sparse", 64<<20); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("1 GiB, bound 64 MiB: err = %v", err)
	}
}

// TestReadFile: a file a user names is read through links, whole up to its bound;
// a fifo (without blocking), a device, a directory or a larger file are refused,
// naming the path.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("12345678"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Symlink(file, filepath.Join(dir, "link"))
	os.Symlink("/dev/zero", filepath.Join(dir, "zero"))
	os.Mkdir(filepath.Join(dir, "dir"), 0o755)
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		max  int64
		want string // the content, or a part of the error
		ok   bool
	}{
		{"file", 8, "12345678", true},
		{"link", 8, "12345678", true},
		{"file", 7, "file: 8 bytes, more than the 7 bytes this file may have", false},
		{"file", 4, "more than the 4 bytes", false},
		{"zero", 1 << 20, "zero: not a regular file but a character device", false},
		{"fifo", 1 << 20, "fifo: not a regular file but a named pipe (fifo)", false},
		{"dir", 1 << 20, "dir: not a regular file but a directory", false},
		{"missing", 8, "missing: no such file or directory", false},
	}
	for _, tt := range tests {
		data, err := ReadFile(filepath.Join(dir, tt.name), tt.max)
		switch {
		case tt.ok && (err != nil || string(data) != tt.want):
			t.Errorf("ReadFile(%s, %d) = %q, %v; want %q", tt.name, tt.max, data, err, tt.want)
		case !tt.ok && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), dir)):
			t.Errorf("ReadFile(%s, %d) = %q, %v; want an error naming the path with %q", tt.name, tt.max, data, err, tt.want)
		}
	}
	if got := sizeString(4 << 20); got != "4 MiB" {
		t.Errorf("sizeString(4 MiB) = %q", got)
	}
}

// TestOpenDirRefusesWhatIsNotADirectory: a link to a directory (outside or inside
// root), a file and a fifo are refused naming the path; a directory opens, and what is
// created through it stays in that directory after a link took its name.
func TestOpenDirRefusesWhatIsNotADirectory(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	os.Mkdir(filepath.Join(dir, "logs"), 0o755)
	os.Symlink(outside, filepath.Join(dir, "link-out"))
	os.Symlink("logs", filepath.Join(dir, "link-in"))
	os.WriteFile(filepath.Join(dir, "file"), nil, 0o644)
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, tc := range []struct{ name, want string }{
		{"link-out", "not a directory but a symbolic link"},
		{"link-in", "not a directory but a symbolic link"},
		{"file", "not a directory but a regular file"},
		{"fifo", "not a directory but a named pipe"},
		{"missing", "no such file"},
	} {
		d, err := OpenDir(root, tc.name)
		if err == nil {
			d.Close()
			t.Errorf("%s opened", tc.name)
			continue
		}
		if want := filepath.Join(dir, tc.name) + ": " + tc.want; !strings.Contains(err.Error(), want) || errors.Is(err, ErrNotDir) != (tc.name != "missing") {
			t.Errorf("%s: err = %v, want %q", tc.name, err, want)
		}
	}

	logs, err := OpenDir(root, "logs")
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	os.Rename(filepath.Join(dir, "logs"), filepath.Join(dir, "logs.moved"))
	os.Symlink(outside, filepath.Join(dir, "logs"))
	f, err := CreateIn(logs, "a.log")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("line\n")
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("written through the link that took the name: %v", entries)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "logs.moved", "a.log")); string(data) != "line\n" {
		t.Errorf("the opened directory holds %q, want the file", data)
	}
}
