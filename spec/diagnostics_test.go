package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDiagnosticsEscapedForTerminal: what a diagnostic shows from outside the program
// (a file's name, its source lines, a target's label, a value in a message) is escaped,
// with colours on and off; with colours, HCL's own colour codes are the only escape
// sequences left. testdata/bad/terminal_escapes.hcl shows the same in a golden file.
func TestDiagnosticsEscapedForTerminal(t *testing.T) {
	dir := t.TempDir()
	varFile := filepath.Join(dir, "v\x1b]0;TITLE\x07.vars")
	if err := os.WriteFile(varFile, []byte("toks = [\"x\"]\nvalue = 1 +\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file, src string
		opts            Options
	}{
		{"parse error in a file with controls in its name", "m\x1b[2J\u009b.hcl", "target \"t\x1b[8m\" {\n  image = 1 +\n}\n", Options{}},
		{"evaluation error in a target with controls in its label", "m.hcl", "target \"t\x1b[8m\" {\n  image    = \"i\x1b[2J\" + 1\n  script   = \"true\"\n  artifact = \"a.zip\"\n}\n", Options{}},
		{"a var-file with controls in its name, source not shown", "m.hcl", sensitiveHead + sensitiveTarget(""), Options{VarFiles: []string{varFile}}},
		{"an invalid byte and a carriage return", "m.hcl", "target \"t\" {\n  image    = \"\xff\r\" + 1\n  script   = \"true\"\n  artifact = \"a.zip\"\n}\n", Options{}},
	}
	for _, tt := range tests {
		for _, color := range []bool{false, true} {
			f, _, diags := loadSourcePlan(tt.file, []byte(tt.src), tt.opts)
			if !diags.HasErrors() {
				t.Fatalf("%s: no error", tt.name)
			}
			var b strings.Builder
			if err := f.WriteDiagnostics(&b, diags, color); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if color {
				out = strings.NewReplacer("\x1b[31m", "", "\x1b[0m", "", "\x1b[1;4m", "").Replace(out)
			}
			if c := rawControl(out); c != "" {
				t.Errorf("%s (color %v): %s unescaped:\n%q", tt.name, color, c, out)
			}
			if !strings.Contains(out, `\x1b`) && !strings.Contains(out, `\xff`) {
				t.Errorf("%s (color %v): the escaped control is not shown:\n%s", tt.name, color, out)
			}
		}
	}
}
