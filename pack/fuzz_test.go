package pack

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

func FuzzWrite(f *testing.F) {
	f.Add(logicalTree(f, 0))
	f.Add(logicalTree(f, 1))
	f.Add(stream(f, dir("m/"), dir("m/d/"), symlink("m/d/up", ".."), symlink("m/e", "d")))
	f.Add(stream(f, dir("m/"), dir("m/a/"), dir("m/b/"), symlink("m/a/b", "../b"), symlink("m/b/c", "../a/b/c")))
	f.Add(stream(f, dir("m/"), hardlink("m/h", "m/f"), file("m/f", "F"), symlink("m/s", "h"), hardlink("m/g", "m/s")))
	f.Add(stream(f, file("f", "single file")))
	// Scripts: valid tar streams are where link resolution is exercised.
	f.Add([]byte("S\nd m\nd m/d\nf m/d/a x\nl m/l d/a\nl m/e d\nh m/h m/d/a"))
	f.Add([]byte("S\nd m\nd m/a\nd m/b\nl m/a/b ../b\nl m/b/c ../a/b/c\nl m/b/d ../../m/a"))
	f.Add([]byte("S\nh m/h m/s\nl m/s .\nf m/x/y z"))
	f.Fuzz(func(t *testing.T, in []byte) {
		if script, ok := bytes.CutPrefix(in, []byte("S\n")); ok {
			in = scriptStream(t, string(script))
		}
		for _, format := range []string{"tar.gz", "zip"} {
			opts := Options{Format: format, MaxSize: 1 << 16, MaxEntries: 200, AllowDangling: len(in)%2 == 0, TempDir: t.TempDir()}
			var out bytes.Buffer
			st, err := Write(context.Background(), &out, bytes.NewReader(in), opts)
			if err != nil {
				return
			}
			if st.Entries > opts.MaxEntries || st.ContentBytes > opts.MaxSize {
				t.Fatalf("stats %+v over the limits", st)
			}
			var names []string
			var size int64
			if format == "zip" {
				for _, g := range readZip(t, out.Bytes()) {
					names = append(names, g.name)
					size += int64(len(g.body))
				}
			} else {
				for _, g := range readTarGz(t, out.Bytes()) {
					if g.hdr.Typeflag != tar.TypeReg && g.hdr.Typeflag != tar.TypeDir {
						t.Fatalf("%s: type %q", g.name, g.hdr.Typeflag)
					}
					names = append(names, g.name)
					size += int64(len(g.body))
				}
			}
			if len(names) != st.Entries || size != st.ContentBytes {
				t.Fatalf("archive has %d entries, %d bytes; stats %+v", len(names), size, st)
			}
			base, _, _ := strings.Cut(names[0], "/")
			for _, n := range names {
				if n2, err := normalise(n); err != nil || n2 != strings.TrimSuffix(n, "/") {
					t.Fatalf("bad name %q in the archive: %v", n, err)
				}
				if b, _, _ := strings.Cut(n, "/"); b != base {
					t.Fatalf("%q outside %q", n, base)
				}
			}
			var again bytes.Buffer
			if _, err := Write(context.Background(), &again, bytes.NewReader(in), opts); err != nil || !bytes.Equal(again.Bytes(), out.Bytes()) {
				t.Fatalf("second run differs (%v)", err)
			}
		}
	})
}

// scriptStream builds a tar stream from lines "d NAME", "f NAME BODY",
// "l NAME TARGET" (symlink) and "h NAME TARGET" (hard link).
func scriptStream(t *testing.T, script string) []byte {
	var ents []ent
	for line := range strings.Lines(script) {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		arg := ""
		if len(f) > 2 {
			arg = f[2]
		}
		switch f[0] {
		case "d":
			ents = append(ents, dir(f[1]))
		case "f":
			ents = append(ents, file(f[1], arg))
		case "x":
			ents = append(ents, exe(f[1], arg))
		case "l":
			ents = append(ents, symlink(f[1], arg))
		case "h":
			ents = append(ents, hardlink(f[1], arg))
		}
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		h := &tar.Header{Typeflag: e.typ, Name: e.name, Linkname: e.link, Mode: e.mode, Size: int64(len(e.body))}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if tw.WriteHeader(h) != nil {
			continue // names the tar writer refuses
		}
		io.WriteString(tw, e.body)
	}
	tw.Close()
	return buf.Bytes()
}

// syntheticModules is a tree shaped like sharp's node_modules: about 2000
// files, 17 MB, mostly small text files and a few large binaries.
func syntheticModules(b *testing.B) ([]byte, int64) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("function return const require module exports var this prototype length value undefined null if else for")
	text := func(n int) string {
		var sb strings.Builder
		for sb.Len() < n {
			sb.WriteString(words[rng.IntN(len(words))])
			sb.WriteByte(" ;\n("[rng.IntN(4)])
		}
		return sb.String()[:n]
	}
	binary := func(n int) string {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(rng.IntN(256) & rng.IntN(256)) // skewed, somewhat compressible
		}
		return string(p)
	}
	ents := []ent{dir("node_modules/"), dir("node_modules/.bin/")}
	var total int64
	for p := range 100 {
		pkg := fmt.Sprintf("node_modules/pkg%03d", p)
		ents = append(ents, dir(pkg+"/"), dir(pkg+"/lib/"), symlink(fmt.Sprintf("node_modules/.bin/cli%03d", p), fmt.Sprintf("../pkg%03d/lib/f00.js", p)))
		for f := range 20 {
			body := text(64 + rng.IntN(8000))
			ents = append(ents, file(fmt.Sprintf("%s/lib/f%02d.js", pkg, f), body))
			total += int64(len(body))
		}
	}
	for i := range 4 {
		body := binary(2 << 20)
		ents = append(ents, exe(fmt.Sprintf("node_modules/pkg%03d/lib/native-%d.node", i, i), body))
		total += int64(len(body))
	}
	b.Logf("%d entries, %d bytes of content", len(ents), total)
	return stream(b, ents...), total
}

func BenchmarkWrite17MB(b *testing.B) {
	in, total := syntheticModules(b)
	for _, format := range []string{"tar.gz", "zip"} {
		b.Run(format, func(b *testing.B) {
			b.SetBytes(total)
			opts := Options{Format: format, TempDir: b.TempDir()}
			for b.Loop() {
				st, err := Write(context.Background(), io.Discard, bytes.NewReader(in), opts)
				if err != nil {
					b.Fatal(err)
				}
				if st.Files < 2000 {
					b.Fatalf("%d files", st.Files)
				}
			}
		})
	}
}
