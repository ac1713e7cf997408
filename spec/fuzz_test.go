package spec

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadPlan loads and expands arbitrary bytes: it may report anything, but must
// never panic, and must render what it reports.
func FuzzLoadPlan(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/bad/*.hcl")
	seeds = append(seeds, "../matrix.hcl")
	for _, p := range seeds {
		if src, err := os.ReadFile(p); err == nil {
			f.Add(src)
		}
	}
	f.Add([]byte("target \"t\" {\n" + `matrix = { a = [1, 2], b = ["x"] }
include = [{ a = 1, c = true }, { d = "n" }]
exclude = [{ b = "x", a = 2 }]` + cellBody + "}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		file, diags := LoadSource("fuzz.hcl", src, Options{Environ: []string{"MATRIX_VAR_x=1"}})
		if file == nil {
			t.Fatal("nil File")
		}
		if !diags.HasErrors() {
			cells, more := file.Plan()
			diags = append(diags, more...)
			for _, c := range cells {
				_ = c.Name()
				if _, err := c.MarshalJSON(); err != nil {
					t.Fatalf("MarshalJSON: %v", err)
				}
				if !more.HasErrors() && (c.Artifact == "" || strings.ContainsAny(c.Artifact, `/\`)) {
					t.Fatalf("accepted artifact %q", c.Artifact)
				}
			}
		}
		if err := file.WriteDiagnostics(io.Discard, diags, false); err != nil {
			t.Fatal(err)
		}
	})
}
