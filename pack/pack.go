package pack

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
	"time"
	"unicode/utf8"
)

// FormatVersion changes whenever the output bytes for the same input may change
// (a new rule here or a new version of a compression module); it belongs in
// input hashes of artifacts.
const FormatVersion = 1

// Defaults for zero Options fields.
const (
	DefaultFormat     = "tar.gz"
	DefaultMaxSize    = 2 << 30 // bytes of file content
	DefaultMaxEntries = 1 << 20
)

// DefaultEpoch is the modification time of every entry when Options.Epoch is
// zero: 1980-01-01T00:00:00Z, the earliest time both tar and zip can hold.
var DefaultEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	maxNameLen = 4096 // PATH_MAX on Linux
	maxLinks   = 40   // symlinks followed per resolution, as Linux's MAXSYMLINKS
)

// Options control Write and WriteFile. The zero value packs a tar.gz with the
// defaults.
type Options struct {
	Format string // "tar.gz" (default) or "zip"
	// Prefix is a directory path put before every name in the archive, such as
	// "nodejs/" for an AWS Lambda layer zip; "" for none.
	Prefix string
	// Epoch is the modification time of every entry; zero: DefaultEpoch.
	Epoch time.Time
	// MaxSize bounds the bytes of file content spooled and, separately, written
	// after dereferencing links; 0: DefaultMaxSize.
	MaxSize int64
	// MaxEntries bounds the entries read and, separately, written; 0: DefaultMaxEntries.
	MaxEntries int
	// AllowDangling drops dangling symlinks, listing them in Stats.Dropped,
	// instead of failing.
	AllowDangling bool
	// TempDir is where file contents are spooled; "": os.TempDir() for Write,
	// the output directory for WriteFile.
	TempDir string
}

// Stats describe a written archive.
type Stats struct {
	Entries      int   // entries in the archive
	Files        int   // regular files among them
	Dirs         int   // directories among them
	ContentBytes int64 // bytes of file content, after dereferencing
	// Dropped lists, sorted, the archive names of dangling symlinks left out
	// under Options.AllowDangling.
	Dropped []string
}

type kind uint8

const (
	kindDir kind = iota
	kindFile
	kindSymlink
	kindHardlink
)

func (k kind) String() string {
	return [...]string{"directory", "file", "symlink", "hard link"}[k]
}

// entry is the in-memory index of one name of the stream; file content lives
// in the spool.
type entry struct {
	name string // normalised name in the stream: "base/a/b"
	kind kind
	exec bool   // any execute bit (files)
	size int64  // content size (files)
	off  int64  // content offset in the spool (files)
	link string // symlink target as given, or normalised hard link target
	raw  string // hard link target as given, for errors
}

// Write reads a tar stream as produced by Docker's copy-from-container API
// (entries named "<base>/..." where base is the collected directory's name)
// and writes the reproducible archive described in the package documentation to w.
func Write(ctx context.Context, w io.Writer, r io.Reader, opts Options) (Stats, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return Stats{}, err
	}
	spool, err := newSpool(opts.TempDir)
	if err != nil {
		return Stats{}, err
	}
	defer spool.close()

	t, err := readTree(ctx, r, spool, opts)
	if err != nil {
		return Stats{}, err
	}
	p, err := t.plan(ctx, opts)
	if err != nil {
		return Stats{}, err
	}
	if err := spool.w.Flush(); err != nil {
		return Stats{}, fmt.Errorf("pack: spooling to %s: %w", filepath.Dir(spool.f.Name()), err)
	}
	if err := writeArchive(ctx, w, spool.f, p, opts); err != nil {
		return Stats{}, err
	}
	return p.stats, nil
}

func (o Options) withDefaults() (Options, error) {
	switch o.Format {
	case "":
		o.Format = DefaultFormat
	case "tar.gz", "zip":
	default:
		return o, fmt.Errorf("pack: unknown format %q (want tar.gz or zip)", o.Format)
	}
	if o.Epoch.IsZero() {
		o.Epoch = DefaultEpoch
	}
	o.Epoch = o.Epoch.Truncate(time.Second).UTC()
	if o.Format == "zip" && (o.Epoch.Year() < 1980 || o.Epoch.Year() > 2107) {
		return o, fmt.Errorf("pack: epoch %s outside the years 1980-2107 a zip can hold", o.Epoch.Format(time.RFC3339))
	}
	if o.Epoch.Unix() < 0 || o.Epoch.Unix() >= 1<<33 {
		return o, fmt.Errorf("pack: epoch %s outside the range of a tar header", o.Epoch.Format(time.RFC3339))
	}
	if o.MaxSize < 0 || o.MaxEntries < 0 {
		return o, errors.New("pack: negative MaxSize or MaxEntries")
	}
	if o.MaxSize == 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.MaxEntries == 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.Prefix != "" {
		p, err := normalise(o.Prefix)
		if err != nil || p == "" {
			return o, fmt.Errorf("pack: bad prefix %q: want a relative directory path", o.Prefix)
		}
		o.Prefix = p + "/"
	}
	if o.TempDir == "" {
		o.TempDir = os.TempDir()
	}
	return o, nil
}

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

// spoolPrefix starts the name of a spool file.
const spoolPrefix = ".pack-spool-"

// IsSpool reports whether a directory entry's name is a spool file, left behind only
// where a process died on a system that cannot unlink an open file.
func IsSpool(name string) bool { return strings.HasPrefix(name, spoolPrefix) }

func newSpool(dir string) (*spool, error) {
	f, err := os.CreateTemp(dir, spoolPrefix+"*")
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
	tr := tar.NewReader(ctxReader{ctx, r})
	n := 0
	for {
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
		name, err := normalise(hdr.Name)
		if err != nil {
			return nil, &EntryError{Entry: hdr.Name, Err: err}
		}
		if name == "" {
			// "./" is the root of a stream made with "dir/."; it carries nothing.
			if hdr.Typeflag == tar.TypeDir {
				continue
			}
			return nil, &EntryError{Entry: hdr.Name, Err: fmt.Errorf("%w: empty name", ErrBadName)}
		}
		base, _, _ := strings.Cut(name, "/")
		if t.base == "" {
			t.base = base
		} else if base != t.base {
			return nil, &EntryError{Entry: name, Err: fmt.Errorf("%w: outside the collected directory %q", ErrBadName, t.base)}
		}
		if n++; n > opts.MaxEntries {
			return nil, &EntryError{Entry: name, Err: fmt.Errorf("%w: more than %d in the stream", ErrTooManyEntries, opts.MaxEntries)}
		}
		e := &entry{name: name}
		switch hdr.Typeflag {
		case tar.TypeDir:
			e.kind = kindDir
		case tar.TypeReg, tar.TypeGNUSparse:
			e.kind = kindFile
			e.exec = hdr.Mode&0o111 != 0
			if hdr.Size < 0 || hdr.Size > opts.MaxSize-sp.off {
				return nil, &EntryError{Entry: name, Err: fmt.Errorf("%w: %d bytes, %d of %d left", ErrTooLarge, hdr.Size, opts.MaxSize-sp.off, opts.MaxSize)}
			}
			e.size, e.off = hdr.Size, sp.off
			dst := &writeErr{w: sp.w}
			m, err := io.CopyBuffer(dst, tr, sp.buf)
			sp.off += m
			if dst.err != nil {
				// Not the entry's fault: the disk under the output directory (full?).
				return nil, fmt.Errorf("pack: spooling %s to %s: %w", printable(name), filepath.Dir(sp.f.Name()), dst.err)
			}
			if err != nil {
				return nil, &EntryError{Entry: name, Err: fmt.Errorf("reading content: %w", err)}
			}
			if m != hdr.Size {
				return nil, &EntryError{Entry: name, Err: fmt.Errorf("reading content: %d of %d bytes", m, hdr.Size)}
			}
		case tar.TypeSymlink:
			e.kind = kindSymlink
			if err := checkTarget(hdr.Linkname); err != nil {
				return nil, &EntryError{Entry: name, Link: "symlink", Target: hdr.Linkname, Err: err}
			}
			e.link = hdr.Linkname
		case tar.TypeLink:
			e.kind = kindHardlink
			e.raw = hdr.Linkname
			ee := &EntryError{Entry: name, Link: "hard link", Target: hdr.Linkname}
			if strings.HasPrefix(hdr.Linkname, "/") {
				ee.Err = ErrAbsoluteLink
				return nil, ee
			}
			target, err := normalise(hdr.Linkname)
			if err != nil {
				if errors.Is(err, errDotDot) {
					err = fmt.Errorf("%w: %w", ErrEscapes, err)
				}
				ee.Err = err
				return nil, ee
			}
			if b, _, _ := strings.Cut(target, "/"); b != t.base {
				ee.Err = fmt.Errorf("%w: not under %q", ErrEscapes, t.base)
				return nil, ee
			}
			// A tar hard link names an entry archived before it; Docker and tar write
			// them so. One that points forward is a hand-made stream: refuse it.
			if _, ok := t.entries[target]; !ok {
				ee.Err = fmt.Errorf("%w: %s is not earlier in the stream", ErrDangling, target)
				return nil, ee
			}
			e.link = target
		default:
			return nil, &EntryError{Entry: name, Err: fmt.Errorf("%w: %s", ErrUnsupportedType, typeName(hdr.Typeflag))}
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

// ctxReader stops reading once ctx is done, also within a large file.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
