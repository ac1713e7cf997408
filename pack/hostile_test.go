package pack

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
)

// TestLinkAmplificationIsBounded: a tiny stream of directories each holding two
// long-named symlinks to the next one names 2^depth ever longer paths. The packer
// must refuse it quickly, with little memory, naming an entry: by the length of one
// name, or by the bytes of all names together.
func TestLinkAmplificationIsBounded(t *testing.T) {
	tests := []struct {
		name    string
		depth   int
		nameLen int
		want    error
	}{
		{"long names", 24, 3000, ErrBadName},
		{"many names", 17, 180, ErrTooManyEntries},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ents := []ent{dir("b/")}
			long := strings.Repeat("x", tc.nameLen)
			for k := 0; k <= tc.depth; k++ {
				ents = append(ents, dir(fmt.Sprintf("b/d%d/", k)))
				if k < tc.depth {
					ents = append(ents, symlink(fmt.Sprintf("b/d%d/A%s", k, long), fmt.Sprintf("../d%d", k+1)))
					ents = append(ents, symlink(fmt.Sprintf("b/d%d/B%s", k, long), fmt.Sprintf("../d%d", k+1)))
				}
			}
			in := stream(t, ents...)
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Write(context.Background(), io.Discard, bytes.NewReader(in), Options{TempDir: t.TempDir()})
			runtime.ReadMemStats(&after)
			var ee *EntryError
			if !errors.As(err, &ee) || !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want an EntryError wrapping %v", err, tc.want)
			}
			if alloc := (after.TotalAlloc - before.TotalAlloc) >> 20; alloc > 512 {
				t.Errorf("allocated %d MiB for a %d-byte stream", alloc, len(in))
			}
		})
	}
}

// TestErrorsShowHostileNamesSafely: a name from the stream reaches messages quoted
// and clipped, never as raw terminal escapes or megabytes of text.
func TestErrorsShowHostileNamesSafely(t *testing.T) {
	name := "b/\x1b]0;owned\x07" + strings.Repeat("y", 500000)
	in := stream(t, dir("b/"), ent{hdr: &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Format: tar.FormatPAX}})
	_, err := Write(context.Background(), io.Discard, bytes.NewReader(in), Options{TempDir: t.TempDir()})
	if err == nil {
		t.Fatal("accepted a name with control characters")
	}
	msg := err.Error()
	if len(msg) > 1000 || strings.ContainsAny(msg, "\x1b\x07") {
		t.Errorf("message is %d bytes and raw: %.80q", len(msg), msg)
	}
	if !strings.Contains(msg, `\x1b]0;owned\a`) {
		t.Errorf("message does not show the name quoted: %.120q", msg)
	}
}
