// Package archdiff compares two archives of the formats matrix writes (tar.gz, zip)
// entry by entry: a small diffoscope that names the first entries where two builds
// of an artifact differ (name, type, size, mode, time, link target, content sha256).
//
// It streams: a tar.gz is read once, each entry's content hashed as it goes by; a
// zip's central directory is read (its entries only, bounded by MaxEntries) and each
// entry's content hashed in turn. Memory stays constant in the size of the contents.
// Both archives are hostile: a content larger than its header says is a difference,
// not a reason to read on.
package archdiff

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"
)

// MaxEntries bounds the entries of a zip's central directory that are read.
const MaxEntries = 1 << 20

// Entry is one member of an archive.
type Entry struct {
	Name    string // without a directory's trailing "/"
	Type    string // "file", "dir", "symlink", "hardlink" or "other"
	Size    int64
	Mode    fs.FileMode // permission bits
	ModTime time.Time
	Link    string // a link's target
	SHA256  string // of a file's content
}

func (e *Entry) String() string {
	if e == nil {
		return "(absent)"
	}
	s := fmt.Sprintf("%s %s size %d mode %04o mtime %s", e.Type, e.Name, e.Size, e.Mode.Perm(), e.ModTime.UTC().Format(time.RFC3339))
	if e.Link != "" {
		s += " -> " + e.Link
	}
	if e.SHA256 != "" {
		s += " sha256:" + e.SHA256
	}
	return s
}

// Difference is one entry that is not the same in the two archives: A or B is nil
// when the entry is in only one of them. Fields names what differs.
type Difference struct {
	Name   string
	A, B   *Entry
	Fields []string
}

func (d Difference) String() string {
	switch {
	case d.A == nil:
		return d.Name + ": only in the second: " + d.B.String()
	case d.B == nil:
		return d.Name + ": only in the first: " + d.A.String()
	}
	return fmt.Sprintf("%s: %s differ: %s | %s", d.Name, strings.Join(d.Fields, ", "), d.A, d.B)
}

// Result is what Diff found.
type Result struct {
	// Differences are the first differing entries, at most the max given to Diff.
	Differences []Difference
	// More is true when there were more than those.
	More bool
	// Entries are the entries read from each archive (all of them unless More).
	EntriesA, EntriesB int
}

// Diff compares the archives at paths a and b, both of format ("tar.gz" or "zip"),
// and returns up to max differing entries in archive order. Archives whose entries
// are all alike but whose bytes differ (compression, headers) have no Differences.
func Diff(ctx context.Context, a, b, format string, max int) (Result, error) {
	ra, err := open(a, format)
	if err != nil {
		return Result{}, err
	}
	defer ra.Close()
	rb, err := open(b, format)
	if err != nil {
		return Result{}, err
	}
	defer rb.Close()
	var res Result
	ea, err := ra.next()
	if err != nil {
		return res, err
	}
	eb, err := rb.next()
	if err != nil {
		return res, err
	}
	add := func(d Difference) bool {
		if len(res.Differences) == max {
			res.More = true
			return false
		}
		res.Differences = append(res.Differences, d)
		return true
	}
	for ea != nil || eb != nil {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		var c int
		switch {
		case ea == nil:
			c = 1
		case eb == nil:
			c = -1
		default:
			c = strings.Compare(ea.Name, eb.Name)
		}
		var d *Difference
		switch {
		case c < 0:
			d = &Difference{Name: ea.Name, A: ea}
		case c > 0:
			d = &Difference{Name: eb.Name, B: eb}
		default:
			if f := differing(ea, eb); len(f) > 0 {
				d = &Difference{Name: ea.Name, A: ea, B: eb, Fields: f}
			}
		}
		if d != nil && !add(*d) {
			return res, nil
		}
		if c <= 0 {
			res.EntriesA++
			if ea, err = ra.next(); err != nil {
				return res, err
			}
		}
		if c >= 0 {
			res.EntriesB++
			if eb, err = rb.next(); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

func differing(a, b *Entry) []string {
	var f []string
	if a.Type != b.Type {
		f = append(f, "type")
	}
	if a.Size != b.Size {
		f = append(f, "size")
	}
	if a.Mode.Perm() != b.Mode.Perm() {
		f = append(f, "mode")
	}
	if !a.ModTime.Equal(b.ModTime) {
		f = append(f, "mtime")
	}
	if a.Link != b.Link {
		f = append(f, "link")
	}
	if a.SHA256 != b.SHA256 {
		f = append(f, "content")
	}
	return f
}

// reader gives an archive's entries in order; nil at the end.
type reader interface {
	next() (*Entry, error)
	Close() error
}

func open(path, format string) (reader, error) {
	switch format {
	case "tar.gz":
		return openTarGz(path)
	case "zip":
		return openZip(path)
	}
	return nil, fmt.Errorf("%s: format %q: archdiff reads tar.gz and zip", path, format)
}

type tarGz struct {
	path string
	f    *os.File
	gz   *gzip.Reader
	tr   *tar.Reader
	buf  []byte
}

func openTarGz(path string) (*tarGz, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	gz, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: not gzip: %w", path, err)
	}
	return &tarGz{path: path, f: f, gz: gz, tr: tar.NewReader(gz), buf: make([]byte, 64<<10)}, nil
}

func (t *tarGz) Close() error { return t.f.Close() }

func (t *tarGz) next() (*Entry, error) {
	hdr, err := t.tr.Next()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.path, err)
	}
	e := &Entry{Name: strings.TrimSuffix(hdr.Name, "/"), Size: hdr.Size, Mode: fs.FileMode(hdr.Mode).Perm(), ModTime: hdr.ModTime, Link: hdr.Linkname}
	switch hdr.Typeflag {
	case tar.TypeReg:
		e.Type = "file"
		h := sha256.New()
		if _, err := io.CopyBuffer(h, t.tr, t.buf); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", t.path, hdr.Name, err)
		}
		e.SHA256 = hex.EncodeToString(h.Sum(nil))
	case tar.TypeDir:
		e.Type = "dir"
	case tar.TypeSymlink:
		e.Type = "symlink"
	case tar.TypeLink:
		e.Type = "hardlink"
	default:
		e.Type = "other"
	}
	return e, nil
}

type zipArchive struct {
	path string
	zr   *zip.ReadCloser
	i    int
	buf  []byte
}

func openZip(path string) (*zipArchive, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("%s: not a zip: %w", path, err)
	}
	if len(zr.File) > MaxEntries {
		zr.Close()
		return nil, fmt.Errorf("%s: %d entries, more than the %d compared", path, len(zr.File), MaxEntries)
	}
	return &zipArchive{path: path, zr: zr, buf: make([]byte, 64<<10)}, nil
}

func (z *zipArchive) Close() error { return z.zr.Close() }

func (z *zipArchive) next() (*Entry, error) {
	if z.i == len(z.zr.File) {
		return nil, nil
	}
	f := z.zr.File[z.i]
	z.i++
	mode := f.Mode()
	e := &Entry{Name: strings.TrimSuffix(f.Name, "/"), Size: int64(f.UncompressedSize64), Mode: mode.Perm(), ModTime: f.Modified}
	switch {
	case mode.IsDir():
		e.Type = "dir"
	case mode&fs.ModeSymlink != 0:
		e.Type = "symlink"
	case mode.IsRegular():
		e.Type = "file"
	default:
		e.Type = "other"
	}
	if e.Type == "file" || e.Type == "symlink" {
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", z.path, f.Name, err)
		}
		defer rc.Close()
		h := sha256.New()
		// The reader checks the size and CRC the directory records: reading stops
		// there, whatever the stream holds.
		if _, err := io.CopyBuffer(h, rc, z.buf); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", z.path, f.Name, err)
		}
		e.SHA256 = hex.EncodeToString(h.Sum(nil))
	}
	return e, nil
}
