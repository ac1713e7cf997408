package pack

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// logicalTree is one tree written in two ways that differ in everything the
// packer must ignore.
func logicalTree(t testing.TB, variant int) []byte {
	long := "m/deep/" + strings.Repeat("long-directory-name/", 14) + "file.js"
	ents := []ent{
		dir("m/"), dir("m/deep/"), file("m/a.txt", "a"), exe("m/bin", "#!/bin/sh\n"),
		dir("m/lib/"), file("m/lib/x.js", "x"), symlink("m/lib/link", "x.js"), file(long, "long"),
		dir("m/a/"), file("m/a/b", "b"), hardlink("m/hard", "m/a.txt"),
	}
	if variant == 1 {
		ents = []ent{
			{hdr: &tar.Header{Typeflag: tar.TypeDir, Name: "./m", Mode: 0o2775, ModTime: time.Unix(1e9, 5), Uid: 501, Uname: "x",
				PAXRecords: map[string]string{"SCHILY.xattr.user.k": "v", "atime": "123.5", "ctime": "7"}}},
			{hdr: &tar.Header{Typeflag: tar.TypeReg, Name: "m/a.txt", Mode: 0o4664, Size: 1, ModTime: time.Now(), Gid: 7, Gname: "staff", Format: tar.FormatGNU, AccessTime: time.Now()}, body: "a"},
			hardlink("m/hard", "m/a.txt"),
			{hdr: &tar.Header{Typeflag: tar.TypeReg, Name: "m/bin", Mode: 0o4701, Size: 10}, body: "#!/bin/sh\n"},
			file("./m/lib/x.js", "x"),
			symlink("m/lib/link", "./x.js"),
			{hdr: &tar.Header{Typeflag: tar.TypeReg, Name: long, Mode: 0o600, Size: 4, Format: tar.FormatGNU}, body: "long"},
			file("m/a/b", "b"),
			// m/deep/, m/lib/ and m/a/ only appear as parents.
		}
		ents[5].mode = 0o755 // symlink modes do not matter
	}
	return stream(t, ents...)
}

func TestWriteReproducible(t *testing.T) {
	for _, format := range []string{"tar.gz", "zip"} {
		t.Run(format, func(t *testing.T) {
			opts := Options{Format: format, Prefix: "nodejs/"}
			a, sa, err := pack(t, logicalTree(t, 0), opts)
			if err != nil {
				t.Fatal(err)
			}
			b, sb, err := pack(t, logicalTree(t, 1), opts)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Errorf("same tree, different bytes:\n%v\n%v", contents(t, a, format), contents(t, b, format))
			}
			files := 0
			for _, body := range contents(t, a, format) {
				if body != "<dir>" {
					files++
				}
			}
			if n := len(contents(t, a, format)); sa.Entries != n || sa.Files != files || sa.Dirs != n-files || sa.ContentBytes != 1+10+1+1+4+1+1 {
				t.Errorf("stats %+v; archive has %d entries, %d files", sa, n, files)
			}
			if sa.Entries != sb.Entries || sa.ContentBytes != sb.ContentBytes {
				t.Errorf("stats %+v and %+v differ", sa, sb)
			}
			old := runtime.GOMAXPROCS(1)
			c, _, err := pack(t, logicalTree(t, 0), opts)
			runtime.GOMAXPROCS(old)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, c) {
				t.Error("bytes depend on GOMAXPROCS")
			}
		})
	}
}

func TestTarGzFormat(t *testing.T) {
	epoch := time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)
	out, _, err := pack(t, logicalTree(t, 1), Options{Epoch: epoch.Add(999 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	// gzip header: no flags (no name), MTIME 0, OS unknown.
	if h := out[:10]; h[3] != 0 || !bytes.Equal(h[4:8], []byte{0, 0, 0, 0}) || h[9] != 255 {
		t.Errorf("gzip header % x", h)
	}
	var names []string
	pax := 0
	for _, g := range readTarGz(t, out) {
		h := g.hdr
		names = append(names, strings.TrimSuffix(h.Name, "/"))
		if h.Typeflag != tar.TypeDir && h.Typeflag != tar.TypeReg {
			t.Errorf("%s: type %q", h.Name, h.Typeflag)
		}
		if (h.Typeflag == tar.TypeDir) != strings.HasSuffix(h.Name, "/") {
			t.Errorf("%s: type %q", h.Name, h.Typeflag)
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: owner %d:%d %q:%q", h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if !h.ModTime.Equal(epoch) || !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
			t.Errorf("%s: times %v %v %v", h.Name, h.ModTime, h.AccessTime, h.ChangeTime)
		}
		want := int64(0o644)
		if h.Typeflag == tar.TypeDir || h.Name == "m/bin" {
			want = 0o755
		}
		if h.Mode != want {
			t.Errorf("%s: mode %o, want %o", h.Name, h.Mode, want)
		}
		switch {
		case len(h.Name) <= 256:
			if h.Format != tar.FormatUSTAR || h.PAXRecords != nil {
				t.Errorf("%s: format %v, PAX %v", h.Name, h.Format, h.PAXRecords)
			}
		case h.Format != tar.FormatPAX || len(h.PAXRecords) != 1 || h.PAXRecords["path"] != h.Name:
			t.Errorf("%s: format %v, PAX records %v", h.Name, h.Format, h.PAXRecords)
		default:
			pax++
		}
	}
	if pax == 0 {
		t.Error("no entry with a PAX header: make the long name longer")
	}
	if !slices.IsSorted(names) {
		t.Errorf("names not sorted: %q", names)
	}
	want := []string{"m", "m/a", "m/a.txt", "m/a/b"}
	if !slices.Equal(names[:4], want) {
		t.Errorf("names start %q, want %q", names[:4], want)
	}
}

func TestZipFormat(t *testing.T) {
	out, _, err := pack(t, logicalTree(t, 1), Options{Format: "zip", Prefix: "./nodejs/x//"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var extra []byte
	for i, g := range readZip(t, out) {
		h := g.zh
		names = append(names, strings.TrimSuffix(h.Name, "/"))
		if !h.Modified.Equal(DefaultEpoch) {
			t.Errorf("%s: modified %v", h.Name, h.Modified)
		}
		if i == 0 {
			extra = h.Extra
		} else if !bytes.Equal(h.Extra, extra) {
			t.Errorf("%s: extra % x, want % x", h.Name, h.Extra, extra)
		}
		want := fs.FileMode(0o644)
		switch {
		case strings.HasSuffix(h.Name, "/"):
			want = fs.ModeDir | 0o755
		case h.Name == "nodejs/x/m/bin":
			want = 0o755
		}
		if h.Mode() != want {
			t.Errorf("%s: mode %v, want %v", h.Name, h.Mode(), want)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("names not sorted: %q", names)
	}
	if want := []string{"nodejs", "nodejs/x", "nodejs/x/m", "nodejs/x/m/a"}; !slices.Equal(names[:4], want) {
		t.Errorf("names start %q, want %q", names[:4], want)
	}
}

// failReader fails the test when read: the packer must not read past a header
// it refuses.
type failReader struct{ t *testing.T }

func (f failReader) Read([]byte) (int, error) {
	f.t.Error("content of a refused entry was read")
	return 0, errors.New("read")
}

func TestHugeHeaderFailsFast(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "m/", Mode: 0o755})
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "m/sparse", Mode: 0o644, Size: 1 << 40})
	tw.Flush() // the header only, no content
	r := io.MultiReader(&buf, failReader{t})
	_, err := Write(context.Background(), io.Discard, r, Options{TempDir: t.TempDir()})
	checkErr(t, err, ErrTooLarge, "m/sparse", "")
}

func TestWriteCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Write(ctx, io.Discard, bytes.NewReader(logicalTree(t, 0)), Options{TempDir: t.TempDir()})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

func TestWriteBadStreams(t *testing.T) {
	for name, in := range map[string][]byte{
		"empty":     stream(t),
		"only ./":   stream(t, dir("./")),
		"truncated": stream(t, dir("m/"), file("m/a", strings.Repeat("x", 2000)))[:1500],
		"garbage":   bytes.Repeat([]byte("not a tar "), 100),
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := pack(t, in, Options{}); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestOptionsErrors(t *testing.T) {
	for _, opts := range []Options{
		{Format: "tar.xz"},
		{Prefix: "../x"},
		{Prefix: "/abs"},
		{Format: "zip", Epoch: time.Unix(0, 0)},
		{Epoch: time.Unix(-5, 0)},
		{MaxSize: -1},
	} {
		if _, _, err := pack(t, logicalTree(t, 0), opts); err == nil {
			t.Errorf("%+v: no error", opts)
		}
	}
}

func TestEpochFromEnv(t *testing.T) {
	for _, tt := range []struct {
		env  []string
		want time.Time
		bad  bool
	}{
		{nil, DefaultEpoch, false},
		{[]string{"SOURCE_DATE_EPOCH="}, DefaultEpoch, false},
		{[]string{"A=1", "SOURCE_DATE_EPOCH=1700000000"}, time.Unix(1700000000, 0).UTC(), false},
		{[]string{"SOURCE_DATE_EPOCH=1", "SOURCE_DATE_EPOCH=2"}, time.Unix(2, 0).UTC(), false},
		{[]string{"SOURCE_DATE_EPOCH=yesterday"}, time.Time{}, true},
		{[]string{"SOURCE_DATE_EPOCH=-1"}, time.Time{}, true},
	} {
		got, err := EpochFromEnv(tt.env)
		if (err != nil) != tt.bad || !got.Equal(tt.want) {
			t.Errorf("EpochFromEnv(%q) = %v, %v", tt.env, got, err)
		}
	}
}

// rawBlock is a USTAR header block made by hand, for headers that archive/tar
// refuses to write.
func rawBlock(name string, typ byte, size int64) []byte {
	b := make([]byte, 512)
	copy(b, name)
	copy(b[100:], "0000644\x00")
	copy(b[108:], "0000000\x00")
	copy(b[116:], "0000000\x00")
	copy(b[124:], fmt.Sprintf("%011o\x00", size))
	copy(b[136:], "00000000000\x00")
	b[156] = typ
	copy(b[257:], "ustar\x0000")
	copy(b[148:], "        ")
	sum := 0
	for _, c := range b {
		sum += int(c)
	}
	copy(b[148:], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

func pad(b []byte) []byte { return append(b, make([]byte, (512-len(b)%512)%512)...) }

// A PAX 1.0 sparse file, as GNU tar --sparse writes it, whose real size is
// 1 TiB with one byte of data.
func TestSparseTerabytes(t *testing.T) {
	rec := func(k, v string) string {
		s := " " + k + "=" + v + "\n"
		n := len(s)
		for len(fmt.Sprint(n))+len(s) != n {
			n = len(fmt.Sprint(n)) + len(s)
		}
		return fmt.Sprint(n) + s
	}
	pax := rec("GNU.sparse.major", "1") + rec("GNU.sparse.minor", "0") +
		rec("GNU.sparse.name", "m/sparse") + rec("GNU.sparse.realsize", "1099511627776")
	sparseMap := pad([]byte("1\n1099511627775\n1\n"))
	var in []byte
	in = append(in, rawBlock("m/", '5', 0)...)
	in = append(in, rawBlock("m/PaxHeaders/sparse", 'x', int64(len(pax)))...)
	in = append(in, pad([]byte(pax))...)
	in = append(in, rawBlock("m/GNUSparseFile.0/sparse", '0', int64(len(sparseMap)+1))...)
	in = append(in, pad(append(sparseMap, 'x'))...)
	in = append(in, make([]byte, 1024)...)
	_, _, err := pack(t, in, Options{})
	checkErr(t, err, ErrTooLarge, "m/sparse", "")
}
