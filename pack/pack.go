package pack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
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
	// Inspect, when set, is called for every regular file of the archive, in
	// archive order, after the stream is read and before the archive is
	// written, with the file's archive name and its content (valid only during
	// the call): checks of what ships cost no second read. An error stops the
	// packing. Content read through all calls is bounded by MaxSize, as
	// written content is.
	Inspect func(name string, r io.ReaderAt, size int64) error
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
	if opts.Inspect != nil {
		for _, it := range p.items {
			if err := ctx.Err(); err != nil {
				return Stats{}, err
			}
			if it.dir {
				continue
			}
			if err := opts.Inspect(it.name, io.NewSectionReader(spool.f, it.src.off, it.src.size), it.src.size); err != nil {
				return Stats{}, fmt.Errorf("pack: inspecting %s: %w", printable(it.name), err)
			}
		}
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
