package integration

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestInputsNotRegular: a matrix file, a --var-file or a matrix.lock.json beside the
// matrix file that is a named pipe with no writer, a device that never ends, a
// directory or a file over its size bound is refused at once with exit 1, naming the
// file and what it is; nothing is read from it (a fifo blocked `validate` forever, and
// /dev/zero grew it until a signal). These need no Docker engine.
func TestInputsNotRegular(t *testing.T) {
	t.Parallel()
	fifo := func(t *testing.T, path string) {
		if err := syscall.Mkfifo(path, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	devZero := func(t *testing.T, path string) {
		if err := os.Symlink("/dev/zero", path); err != nil {
			t.Fatal(err)
		}
	}
	big := func(t *testing.T, path string) {
		// A comment of 4 MiB and one byte: well-formed, but larger than a matrix file or
		// a variable file may be.
		writeFile(t, path, "#"+strings.Repeat("x", 4<<20)+"\n")
	}
	dir := func(t *testing.T, path string) {
		if err := os.Mkdir(path, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		which string // "spec", "var-file" or "lock"
		make  func(*testing.T, string)
		want  string
	}{
		{"matrix file fifo", "spec", fifo, "not a regular file but a named pipe (fifo)"},
		{"matrix file /dev/zero", "spec", devZero, "not a regular file but a character device"},
		{"matrix file too large", "spec", big, "4194306 bytes, more than the 4 MiB this file may have"},
		{"var-file directory", "var-file", dir, "not a regular file but a directory"},
		{"var-file fifo", "var-file", fifo, "not a regular file but a named pipe (fifo)"},
		{"var-file /dev/zero", "var-file", devZero, "not a regular file but a character device"},
		{"var-file too large", "var-file", big, "more than the 4 MiB this file may have"},
		{"lock fifo", "lock", fifo, "not a regular file but a named pipe (fifo)"},
		{"lock /dev/zero", "lock", devZero, "not a regular file but a character device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorkspace(t)
			specPath := filepath.Join(w.dir, "matrix.hcl")
			args := []string{"validate"}
			bad := specPath
			switch tt.which {
			case "spec":
			case "var-file":
				w.spec(t, parserTarget)
				bad = filepath.Join(w.dir, "vars.hcl")
				args = append(args, "--var-file", bad)
			case "lock":
				w.spec(t, parserTarget)
				bad = filepath.Join(w.dir, "matrix.lock.json")
				args = append(args, "--locked")
			}
			tt.make(t, bad)
			res := w.matrix(t, nil, append(args, specPath)...)
			if res.code != 1 || !strings.Contains(res.stderr, bad) || !strings.Contains(res.stderr, tt.want) {
				t.Errorf("exit %d, want 1 naming %s with %q; stderr:\n%.2000s", res.code, bad, tt.want, res.stderr)
			}
			if res.elapsed > 20*time.Second {
				t.Errorf("took %v", res.elapsed)
			}
		})
	}
}
