package spec

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/bad")

// TestBadFiles loads every testdata/bad/*.hcl, expands the targets that loaded, and compares
// the rendered diagnostics (ranges, source lines and carets) with NAME.golden. A file's
// leading "# var: NAME=VALUE" and "# var-file: PATH" comments give it options (paths
// relative to testdata/bad). Registry functions are answered by a fakeResolver, unless
// the file has a "# resolver: none" line.
func TestBadFiles(t *testing.T) {
	paths, err := filepath.Glob("testdata/bad/*.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 20 {
		t.Fatalf("only %d bad files", len(paths))
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".hcl")
		t.Run(name, func(t *testing.T) {
			got := renderBad(t, path)
			if bytes.Contains(got, []byte(secret)) {
				t.Errorf("the diagnostics show the sensitive value %q:\n%s", secret, got)
			}
			if c := rawControl(string(got)); c != "" {
				t.Errorf("the diagnostics show %s unescaped:\n%q", c, got)
			}
			golden := strings.TrimSuffix(path, ".hcl") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./spec -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("diagnostics differ from %s (rerun with -update if intended):\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}

// rawControl names the first control (but a newline or a tab) or invalid UTF-8 byte in
// s, which a terminal would act on instead of showing; "" when there is none.
func rawControl(s string) string {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\ufffd"):
			return fmt.Sprintf("the invalid byte %#x at %d", s[i], i)
		case r < 0x20 && r != '\n' && r != '\t', r >= 0x7f && r <= 0x9f,
			r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c: // bidi controls reorder what follows
			return fmt.Sprintf("the control %U at %d", r, i)
		}
	}
	return ""
}

func renderBad(t *testing.T, path string) []byte {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Resolver: &fakeResolver{}}
	sc := bufio.NewScanner(bytes.NewReader(src))
	for sc.Scan() {
		line := sc.Text()
		if line == "# resolver: none" {
			opts.Resolver = nil
		} else if v, ok := strings.CutPrefix(line, "# var: "); ok {
			opts.Vars = append(opts.Vars, v)
		} else if v, ok := strings.CutPrefix(line, "# var-file: "); ok {
			opts.VarFiles = append(opts.VarFiles, filepath.Join(filepath.Dir(path), v))
		}
	}
	f, _, diags := LoadPlan(context.Background(), path, opts)
	if !diags.HasErrors() {
		t.Errorf("%s: no error", path)
	}
	var out bytes.Buffer
	if err := f.WriteDiagnostics(&out, diags, false); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
