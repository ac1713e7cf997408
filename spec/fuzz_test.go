package spec

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/internal/filename"
)

// FuzzLoadPlan loads and expands arbitrary bytes as LoadPlan does (planning what loaded
// after errors too): it may report anything, but must never panic or overflow the
// stack (seeds nest deeply), must render what it
// reports, and every cell it returns must have a plain artifact file name, or be
// skipped with a reason and nothing else evaluated. Registry functions are answered by
// the fake Resolver.
func FuzzLoadPlan(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/bad/*.hcl")
	seeds = append(seeds, "testdata/matrix.hcl")
	for _, p := range seeds {
		if src, err := os.ReadFile(p); err == nil {
			f.Add(src)
		}
	}
	for name, shape := range deep { // past the nesting limit, and just within it
		f.Add([]byte("locals {\n  " + name + " = " + shape(maxNesting+50) + "\n}\n"))
		f.Add([]byte("target \"t\" {\n  env = { X = " + shape(maxNesting/4) + " }" + cellBody + "}\n"))
	}
	f.Add([]byte("locals {\n  x = " + strings.Repeat("[", 100_000) + "\n}\n"))
	// A %{ for } directive (its names panicked the loader), numbers past the bounds.
	f.Add([]byte("locals {\n  a = \"x\"\n  b = \"%{for i in range(2)}${local.a}%{endfor}\"\n  n = jsonencode(1e99999)\n  l = " + strings.Repeat("7", 2000) + "\n}\n"))
	f.Add([]byte("target \"t\" {\n" + `matrix = { a = [1, 2], b = ["x"] }
include = [{ a = 1, c = true }, { d = "n" }]
exclude = [{ b = "x", a = 2 }]` + cellBody + "}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		file, cells, diags := loadSourcePlan("fuzz.hcl", src, Options{Environ: []string{"MATRIX_VAR_x=1"}, Resolver: &fakeResolver{}})
		if file == nil {
			t.Fatal("nil File")
		}
		for _, c := range cells {
			_ = c.Name()
			if _, err := c.MarshalJSON(); err != nil {
				t.Fatalf("MarshalJSON: %v", err)
			}
			if c.Skip != "" {
				if c.Artifact != "" || c.Image != "" || strings.TrimSpace(c.Skip) != c.Skip {
					t.Fatalf("skipped cell %s has more than its reason: %+v", c.Name(), c)
				}
				continue
			}
			if why := filename.Why(c.Artifact); why != "" {
				t.Fatalf("accepted artifact %q: %s", c.Artifact, why)
			}
		}
		if err := file.WriteDiagnostics(io.Discard, diags, false); err != nil {
			t.Fatal(err)
		}
	})
}
