package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	for _, content := range []string{"first", "second"} {
		if err := Write(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); string(got) != content {
			t.Errorf("got %q, want %q", got, content)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporaries left: %v", entries)
	}
	if err := Write(filepath.Join(dir, "missing", "f"), []byte("x")); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

// TestCommitReplacesALinkAtItsName: a link planted under the destination's name is
// replaced, never written through.
func TestCommitReplacesALinkAtItsName(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "outside")
	os.WriteFile(outside, []byte("outside\n"), 0o644)
	dest := filepath.Join(dir, "f")
	os.Symlink(outside, dest)
	if err := Write(dest, []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Lstat(dest); err != nil || !info.Mode().IsRegular() {
		t.Errorf("%s is not a regular file now: %v, %v", dest, info, err)
	}
	if data, _ := os.ReadFile(outside); string(data) != "outside\n" {
		t.Errorf("written through the link: %q", data)
	}
}

// TestCommitAfterTheRename: a failing sync of the directory comes after the rename; it
// is a *NotDurableError and the new content is in place, with no temporary left.
// Every failure before the rename leaves the destination as it was.
func TestCommitAfterTheRename(t *testing.T) {
	for _, step := range []string{"write", "sync", "rename", "syncdir"} {
		t.Run(step, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f")
			if err := Write(path, []byte("old")); err != nil {
				t.Fatal(err)
			}
			Fault = func(s, _ string) error {
				if s == step {
					return syscall.ENOSPC
				}
				return nil
			}
			defer func() { Fault = nil }()
			err := Write(path, []byte("new"))
			var notDurable *NotDurableError
			if !errors.Is(err, syscall.ENOSPC) || errors.As(err, &notDurable) != (step == "syncdir") {
				t.Errorf("err = %v (%T)", err, err)
			}
			want := "old"
			if step == "syncdir" {
				want = "new"
			}
			if got, _ := os.ReadFile(path); string(got) != want {
				t.Errorf("content %q, want %q", got, want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("temporaries left: %v", entries)
			}
		})
	}
}

// TestCommitAsAfterFinish: a finished file commits (Finish is not repeated), under
// another name of its directory when CommitAs gives one; the first name is untouched.
func TestCommitAsAfterFinish(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.log"), []byte("earlier\n"), 0o644)
	for _, commit := range []func(f *File) error{
		func(f *File) error { return f.CommitAs("a.log.failed") },
		func(f *File) error {
			if err := f.Finish(); err != nil {
				return err
			}
			return f.CommitAs("a.log.failed")
		},
	} {
		f, err := Create(dir, "a.log")
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("failed attempt\n")
		if err := commit(f); err != nil {
			t.Fatal(err)
		}
		if data, _ := os.ReadFile(filepath.Join(dir, "a.log")); string(data) != "earlier\n" {
			t.Errorf("a.log = %q, want it untouched", data)
		}
		if data, _ := os.ReadFile(filepath.Join(dir, "a.log.failed")); string(data) != "failed attempt\n" {
			t.Errorf("a.log.failed = %q", data)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 2 {
			t.Errorf("entries %v, want the two logs only", entries)
		}
	}
}
