package pack

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"testing"
	"time"
)

// ent is one entry of a hand-made tar stream.
type ent struct {
	name, body, link string
	typ              byte
	mode             int64
	hdr              *tar.Header // used as given when set
}

func dir(name string) ent        { return ent{name: name, typ: tar.TypeDir, mode: 0o755} }
func file(name, body string) ent { return ent{name: name, body: body, typ: tar.TypeReg, mode: 0o644} }
func exe(name, body string) ent  { return ent{name: name, body: body, typ: tar.TypeReg, mode: 0o755} }
func symlink(name, target string) ent {
	return ent{name: name, link: target, typ: tar.TypeSymlink, mode: 0o777}
}
func hardlink(name, target string) ent {
	return ent{name: name, link: target, typ: tar.TypeLink, mode: 0o644}
}

// stream builds a tar stream as Docker's copy-from-container API would.
func stream(t testing.TB, ents ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		h := e.hdr
		if h == nil {
			h = &tar.Header{
				Typeflag: e.typ, Name: e.name, Linkname: e.link, Mode: e.mode,
				Size: int64(len(e.body)), ModTime: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
				Uid: 1000, Gid: 1000, Uname: "node", Gname: "node", Format: tar.FormatPAX,
			}
			if e.typ != tar.TypeReg {
				h.Size = 0
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("header %s: %v", e.name, err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatalf("body %s: %v", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func pack(t testing.TB, in []byte, opts Options) ([]byte, Stats, error) {
	t.Helper()
	if opts.TempDir == "" {
		opts.TempDir = t.TempDir()
	}
	var out bytes.Buffer
	st, err := Write(context.Background(), &out, bytes.NewReader(in), opts)
	return out.Bytes(), st, err
}

// got is one entry read back from an archive.
type got struct {
	hdr  *tar.Header // tar only
	zh   *zip.FileHeader
	name string
	body string
}

func readTarGz(t testing.TB, b []byte) []got {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out []got
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got{hdr: h, name: h.Name, body: string(body)})
	}
	return out
}

func readZip(t testing.TB, b []byte) []got {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out []got
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got{zh: &f.FileHeader, name: f.Name, body: string(body)})
	}
	return out
}

// contents maps names to bodies, with "<dir>" for directories.
func contents(t testing.TB, b []byte, format string) map[string]string {
	t.Helper()
	m := map[string]string{}
	var gs []got
	if format == "zip" {
		gs = readZip(t, b)
	} else {
		gs = readTarGz(t, b)
	}
	for _, g := range gs {
		if g.name[len(g.name)-1] == '/' {
			m[g.name] = "<dir>"
		} else {
			m[g.name] = g.body
		}
	}
	return m
}
