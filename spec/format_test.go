package spec

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFormat: each testdata/fmt/NAME.hcl formats to NAME.hcl.golden, or, when it
// does not parse, gives the diagnostics there; a formatted source formats to itself.
// go test ./spec/ -run TestFormat -update rewrites the golden files.
func TestFormat(t *testing.T) {
	inputs, err := filepath.Glob("testdata/fmt/*.hcl")
	if err != nil || len(inputs) < 5 {
		t.Fatalf("inputs %v: %v", inputs, err)
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			out, file, diags := Format(src, filepath.Base(in))
			var got []byte
			if diags.HasErrors() {
				if out != nil {
					t.Errorf("a source with errors was formatted")
				}
				var buf bytes.Buffer
				if err := file.WriteDiagnostics(&buf, diags, false); err != nil {
					t.Fatal(err)
				}
				got = buf.Bytes()
			} else {
				got = out
				again, _, _ := Format(out, in)
				if !bytes.Equal(again, out) {
					t.Errorf("formatting the formatted source changes it:\n%s", again)
				}
			}
			golden := in + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("differs from %s:\n%s", golden, got)
			}
			if strings.HasPrefix(filepath.Base(in), "formatted") && !bytes.Equal(got, src) {
				t.Errorf("a formatted source changed:\n%s", got)
			}
		})
	}
}
