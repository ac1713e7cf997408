package archdiff_test

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/archdiff"
	"github.com/matrixbuild/matrix/pack"
)

// build packs files (name: content; a name ending in "*" is executable) as the
// runner does, into dir/name.
func build(t *testing.T, dir, name, format string, files map[string]string) string {
	t.Helper()
	return buildWith(t, dir, name, format, files)
}

func buildWith(t testing.TB, dir, name, format string, files map[string]string) string {
	t.Helper()
	var in bytes.Buffer
	tw := tar.NewWriter(&in)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "root/", Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	for n, c := range files {
		mode := int64(0o644)
		if strings.HasSuffix(n, "*") {
			n, mode = strings.TrimSuffix(n, "*"), 0o755
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "root/" + n, Mode: mode, Size: int64(len(c))}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(c))
	}
	tw.Close()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := pack.Write(context.Background(), f, &in, pack.Options{Format: format, TempDir: dir}); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDiffNamesTheDifferingEntry: for both formats, two packs of the same tree have
// no difference; a changed content, a changed mode, an added and a removed file are
// each named, with what differs.
func TestDiffNamesTheDifferingEntry(t *testing.T) {
	base := map[string]string{"a.txt": "alpha", "b/c.js": "module.exports = 1", "d.sh*": "#!/bin/sh\n"}
	with := func(change func(m map[string]string)) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		change(m)
		return m
	}
	cases := []struct {
		name   string
		other  map[string]string
		want   string // the differing entry's name, "" for none
		fields string
		onlyIn string
	}{
		{"same", base, "", "", ""},
		{"content", with(func(m map[string]string) { m["b/c.js"] = "module.exports = 2" }), "root/b/c.js", "content", ""},
		{"date written", with(func(m map[string]string) { m["b/c.js"] = "built Thu Nov 26" }), "root/b/c.js", "size, content", ""},
		{"mode", with(func(m map[string]string) { delete(m, "d.sh*"); m["d.sh"] = "#!/bin/sh\n" }), "root/d.sh", "mode", ""},
		{"added", with(func(m map[string]string) { m["b/new.txt"] = "x" }), "root/b/new.txt", "", "second"},
		{"removed", with(func(m map[string]string) { delete(m, "a.txt") }), "root/a.txt", "", "first"},
	}
	for _, format := range []string{"tar.gz", "zip"} {
		for _, c := range cases {
			t.Run(format+"/"+c.name, func(t *testing.T) {
				dir := t.TempDir()
				a := build(t, dir, "a."+format, format, base)
				b := build(t, dir, "b."+format, format, c.other)
				res, err := archdiff.Diff(context.Background(), a, b, format, 10)
				if err != nil {
					t.Fatal(err)
				}
				if c.want == "" {
					if len(res.Differences) != 0 {
						t.Fatalf("differences in two packs of one tree: %v", res.Differences)
					}
					if res.EntriesA != 5 || res.EntriesB != 5 {
						t.Fatalf("entries %d, %d; want 5 each", res.EntriesA, res.EntriesB)
					}
					return
				}
				if len(res.Differences) != 1 {
					t.Fatalf("want one difference, got %v", res.Differences)
				}
				d := res.Differences[0]
				if d.Name != c.want {
					t.Fatalf("difference at %q, want %q: %v", d.Name, c.want, d)
				}
				if got := strings.Join(d.Fields, ", "); got != c.fields {
					t.Errorf("fields %q, want %q", got, c.fields)
				}
				if c.onlyIn != "" && !strings.Contains(d.String(), "only in the "+c.onlyIn) {
					t.Errorf("%q does not say only in the %s", d.String(), c.onlyIn)
				}
				if c.fields == "content" && (d.A.SHA256 == d.B.SHA256 || d.A.SHA256 == "") {
					t.Errorf("content hashes %q, %q", d.A.SHA256, d.B.SHA256)
				}
			})
		}
	}
}

// TestDiffBounded: max bounds the differences reported, and More says there were more.
func TestDiffBounded(t *testing.T) {
	dir := t.TempDir()
	a := map[string]string{}
	b := map[string]string{}
	for _, n := range []string{"1", "2", "3", "4", "5"} {
		a[n] = "a" + n
		b[n] = "b" + n
	}
	pa := build(t, dir, "a.zip", "zip", a)
	pb := build(t, dir, "b.zip", "zip", b)
	res, err := archdiff.Diff(context.Background(), pa, pb, "zip", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Differences) != 2 || !res.More {
		t.Fatalf("got %d differences, more %v; want 2 and more", len(res.Differences), res.More)
	}
}

// TestDiffRefusesWhatIsNotAnArchive: a file of another format is an error that names it.
func TestDiffRefusesWhatIsNotAnArchive(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.tar.gz")
	os.WriteFile(bad, []byte("not gzip"), 0o644)
	good := build(t, dir, "good.tar.gz", "tar.gz", map[string]string{"x": "y"})
	for _, args := range [][2]string{{bad, good}, {good, bad}} {
		if _, err := archdiff.Diff(context.Background(), args[0], args[1], "tar.gz", 5); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("Diff(%s, %s): %v, want an error naming %s", args[0], args[1], err, bad)
		}
	}
}
