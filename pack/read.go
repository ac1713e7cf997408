package pack

// Reading the stream: one pass over the tar stream into an in-memory index of names
// (tree) and a spool file of contents, checking every name, link and size on the way.

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/matrixbuild/matrix/internal/ctxio"

	"github.com/matrixbuild/matrix/internal/atomicfile"
)

// writeErr remembers its writer's error, to tell it from the reader's in a copy.
// It hides ReadFrom, which keeps bufio from handing the reader to os.File.ReadFrom
// (a buffer per file).
type writeErr struct {
	w   io.Writer
	err error
}

func (w *writeErr) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil {
		w.err = err
	}
	return n, err
}

// spool holds file contents; its file is unlinked at once where the system
// allows it, else removed by close.
type spool struct {
	f   *os.File
	w   *bufio.Writer
	buf []byte // copy buffer
	off int64
}

func newSpool(dir string) (*spool, error) {
	f, err := atomicfile.Temp(dir, "pack-spool")
	if err != nil {
		return nil, fmt.Errorf("pack: spool: %w", err)
	}
	_ = os.Remove(f.Name()) // fails on Windows; close removes it then
	return &spool{f: f, w: bufio.NewWriterSize(f, 1<<20), buf: make([]byte, 64<<10)}, nil
}

func (s *spool) close() {
	name := s.f.Name()
	s.f.Close()
	_ = os.Remove(name)
}

// tree is the index of the whole stream.
type tree struct {
	base    string
	entries map[string]*entry
	names   []string // sorted keys of entries, filled by plan
}

func readTree(ctx context.Context, r io.Reader, sp *spool, opts Options) (*tree, error) {
	t := &tree{entries: make(map[string]*entry)}
	tr := tar.NewReader(ctxio.Reader(ctx, r))
	for n := 0; ; {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("pack: reading tar stream: %w", err)
		}
		name, skip, err := t.entryName(hdr)
		if err != nil || skip {
			if err != nil {
				return nil, err
			}
			continue
		}
		if n++; n > opts.MaxEntries {
			return nil, &EntryError{Entry: name, Err: fmt.Errorf("%w: more than %d in the stream", ErrTooManyEntries, opts.MaxEntries)}
		}
		e, err := t.readEntry(name, hdr, tr, sp, opts)
		if err != nil {
			return nil, err
		}
		if old, ok := t.entries[name]; ok && old.kind != e.kind {
			return nil, &EntryError{Entry: name, Err: fmt.Errorf("%w: a %s and a %s of the same name", ErrConflict, old.kind, e.kind)}
		}
		t.entries[name] = e
	}
	if t.base == "" {
		return nil, fmt.Errorf("pack: %w", ErrEmpty)
	}
	return t, nil
}

// entryName normalises an entry's name and checks that it is under the collected
// directory, the first entry's base; skip is the root entry of a "dir/." stream.
func (t *tree) entryName(hdr *tar.Header) (name string, skip bool, err error) {
	name, err = normalise(hdr.Name)
	if err != nil {
		return "", false, &EntryError{Entry: hdr.Name, Err: err}
	}
	if name == "" {
		// "./" is the root of a stream made with "dir/."; it carries nothing.
		if hdr.Typeflag == tar.TypeDir {
			return "", true, nil
		}
		return "", false, &EntryError{Entry: hdr.Name, Err: fmt.Errorf("%w: empty name", ErrBadName)}
	}
	base, _, _ := strings.Cut(name, "/")
	if t.base == "" {
		t.base = base
	} else if base != t.base {
		return "", false, &EntryError{Entry: name, Err: fmt.Errorf("%w: outside the collected directory %q", ErrBadName, t.base)}
	}
	return name, false, nil
}

// readEntry makes the index entry of one header, spooling a regular file's content.
func (t *tree) readEntry(name string, hdr *tar.Header, tr io.Reader, sp *spool, opts Options) (*entry, error) {
	e := &entry{name: name}
	switch hdr.Typeflag {
	case tar.TypeDir:
		e.kind = kindDir
	case tar.TypeReg, tar.TypeGNUSparse:
		e.kind = kindFile
		e.exec = hdr.Mode&0o111 != 0
		return e, spoolContent(e, hdr, tr, sp, opts)
	case tar.TypeSymlink:
		e.kind = kindSymlink
		if err := checkTarget(hdr.Linkname); err != nil {
			return nil, &EntryError{Entry: name, Link: "symlink", Target: hdr.Linkname, Err: err}
		}
		e.link = hdr.Linkname
	case tar.TypeLink:
		e.kind = kindHardlink
		e.raw = hdr.Linkname
		target, err := t.hardlinkTarget(hdr.Linkname)
		if err != nil {
			return nil, &EntryError{Entry: name, Link: "hard link", Target: hdr.Linkname, Err: err}
		}
		e.link = target
	default:
		return nil, &EntryError{Entry: name, Err: fmt.Errorf("%w: %s", ErrUnsupportedType, typeName(hdr.Typeflag))}
	}
	return e, nil
}

// spoolContent copies a regular file's content to the spool, within the size bound.
func spoolContent(e *entry, hdr *tar.Header, tr io.Reader, sp *spool, opts Options) error {
	if hdr.Size < 0 || hdr.Size > opts.MaxSize-sp.off {
		return &EntryError{Entry: e.name, Err: fmt.Errorf("%w: %d bytes, %d of %d left", ErrTooLarge, hdr.Size, opts.MaxSize-sp.off, opts.MaxSize)}
	}
	e.size, e.off = hdr.Size, sp.off
	dst := &writeErr{w: sp.w}
	m, err := io.CopyBuffer(dst, tr, sp.buf)
	sp.off += m
	if dst.err != nil {
		// Not the entry's fault: the disk under the output directory (full?).
		return fmt.Errorf("pack: spooling %s to %s: %w", printable(e.name), filepath.Dir(sp.f.Name()), dst.err)
	}
	if err != nil {
		return &EntryError{Entry: e.name, Err: fmt.Errorf("reading content: %w", err)}
	}
	if m != hdr.Size {
		return &EntryError{Entry: e.name, Err: fmt.Errorf("reading content: %d of %d bytes", m, hdr.Size)}
	}
	return nil
}

// hardlinkTarget checks a hard link's target: relative, inside the collected
// directory, and an entry archived before the link.
func (t *tree) hardlinkTarget(linkname string) (string, error) {
	if strings.HasPrefix(linkname, "/") {
		return "", ErrAbsoluteLink
	}
	target, err := normalise(linkname)
	if err != nil {
		if errors.Is(err, errDotDot) {
			err = fmt.Errorf("%w: %w", ErrEscapes, err)
		}
		return "", err
	}
	if b, _, _ := strings.Cut(target, "/"); b != t.base {
		return "", fmt.Errorf("%w: not under %q", ErrEscapes, t.base)
	}
	// A tar hard link names an entry archived before it; Docker and tar write them so.
	// One that points forward is a hand-made stream: refuse it.
	if _, ok := t.entries[target]; !ok {
		return "", fmt.Errorf("%w: %s is not earlier in the stream", ErrDangling, target)
	}
	return target, nil
}

func typeName(f byte) string {
	switch f {
	case tar.TypeChar:
		return "character device"
	case tar.TypeBlock:
		return "block device"
	case tar.TypeFifo:
		return "fifo"
	case tar.TypeCont:
		return "contiguous file"
	case tar.TypeXGlobalHeader:
		return "global PAX header"
	case 's':
		return "socket"
	}
	return fmt.Sprintf("type %q", f)
}

var errDotDot = fmt.Errorf("%w: has a \"..\" component", ErrBadName)

// normalise returns name without "./" prefixes, empty or "." components and
// trailing slashes, or an error wrapping ErrBadName.
func normalise(name string) (string, error) {
	if len(name) > maxNameLen {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrBadName, maxNameLen)
	}
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("%w: not valid UTF-8", ErrBadName)
	}
	for _, c := range []byte(name) {
		if c < 0x20 || c == 0x7f {
			return "", fmt.Errorf("%w: control character %q", ErrBadName, c)
		}
		if c == '\\' {
			return "", fmt.Errorf("%w: backslash", ErrBadName)
		}
	}
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("%w: absolute", ErrBadName)
	}
	var b strings.Builder
	for c := range strings.SplitSeq(name, "/") {
		switch c {
		case "", ".":
			continue
		case "..":
			return "", errDotDot
		}
		if b.Len() > 0 {
			b.WriteByte('/')
		}
		b.WriteString(c)
	}
	return b.String(), nil
}

// checkTarget checks a symlink target before resolution.
func checkTarget(target string) error {
	if strings.HasPrefix(target, "/") {
		return ErrAbsoluteLink
	}
	if len(target) > maxNameLen {
		return fmt.Errorf("%w: target longer than %d bytes", ErrBadName, maxNameLen)
	}
	if strings.IndexByte(target, 0) >= 0 {
		return fmt.Errorf("%w: NUL in target", ErrBadName)
	}
	return nil
}
