package pack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	in := logicalTree(t, 0)
	res, err := WriteFile(context.Background(), dir, "a.tar.gz", bytes.NewReader(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := dirNames(t, dir); !slices.Equal(got, []string{"a.tar.gz"}) {
		t.Fatalf("dir holds %q", got)
	}
	b, err := os.ReadFile(filepath.Join(dir, "a.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if res.SHA256 != hex.EncodeToString(sum[:]) || res.Size != int64(len(b)) {
		t.Errorf("result %s %d, file %x %d", res.SHA256, res.Size, sum, len(b))
	}
	want, _, err := pack(t, in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Error("WriteFile and Write differ")
	}
	if fi, err := os.Stat(filepath.Join(dir, "a.tar.gz")); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("stat: %v, %v", fi.Mode(), err)
	}
	// A second run replaces the file.
	if _, err := WriteFile(context.Background(), dir, "a.tar.gz", bytes.NewReader(in), Options{Format: "zip"}); err != nil {
		t.Fatal(err)
	}
	if got := dirNames(t, dir); !slices.Equal(got, []string{"a.tar.gz"}) {
		t.Fatalf("dir holds %q", got)
	}
}

// cancelReader cancels its context once half of the stream was read.
type cancelReader struct {
	r      io.Reader
	n      int
	cancel func()
}

func (c *cancelReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		c.cancel()
	}
	if len(p) > 512 {
		p = p[:512]
	}
	n, err := c.r.Read(p)
	c.n -= n
	return n, err
}

func TestWriteFileLeavesNothing(t *testing.T) {
	in := logicalTree(t, 0)
	bad := stream(t, dir("m/"), file("m/a", "A"), symlink("m/x", "/etc/passwd"))
	for _, tt := range []struct {
		name string
		run  func(dir string) error
		want error
	}{{
		name: "entry error",
		run: func(dir string) error {
			_, err := WriteFile(context.Background(), dir, "a.tar.gz", bytes.NewReader(bad), Options{})
			return err
		},
		want: ErrAbsoluteLink,
	}, {
		name: "cancelled while reading",
		run: func(dir string) error {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := &cancelReader{r: bytes.NewReader(in), n: len(in) / 2, cancel: cancel}
			_, err := WriteFile(ctx, dir, "a.tar.gz", r, Options{})
			return err
		},
		want: context.Canceled,
	}, {
		name: "write error",
		run: func(dir string) error {
			_, err := WriteFile(context.Background(), dir, "a.tar.gz", bytes.NewReader(in), Options{Format: "zip", MaxSize: 3})
			return err
		},
		want: ErrTooLarge,
	}, {
		name: "truncated stream",
		run: func(dir string) error {
			_, err := WriteFile(context.Background(), dir, "a.tar.gz", bytes.NewReader(in[:len(in)-1500]), Options{})
			return err
		},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			err := tt.run(dir)
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if got := dirNames(t, dir); len(got) != 0 {
				t.Errorf("dir holds %q", got)
			}
		})
	}
}

func TestWriteFileKeepsOldOnError(t *testing.T) {
	bad := stream(t, dir("m/"), symlink("m/x", "../../etc"))
	dir := t.TempDir()
	old := []byte("previous artifact")
	if err := os.WriteFile(filepath.Join(dir, "a.zip"), old, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteFile(context.Background(), dir, "a.zip", bytes.NewReader(bad), Options{Format: "zip"}); !errors.Is(err, ErrEscapes) {
		t.Fatalf("error %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "a.zip")); !bytes.Equal(got, old) {
		t.Errorf("old artifact changed to %q", got)
	}
	if got := dirNames(t, dir); !slices.Equal(got, []string{"a.zip"}) {
		t.Errorf("dir holds %q", got)
	}
}

func TestWriteFileBadName(t *testing.T) {
	for _, name := range []string{"", ".", "..", "a/b", "../a", `a\b`, "a\x00b"} {
		dir := t.TempDir()
		if _, err := WriteFile(context.Background(), dir, name, bytes.NewReader(nil), Options{}); err == nil {
			t.Errorf("%q: no error", name)
		}
		if got := dirNames(t, dir); len(got) != 0 {
			t.Errorf("dir holds %q", got)
		}
	}
}
