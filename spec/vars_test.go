package spec

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const varsSrc = `
variable "s" {
  type    = string
  default = "default"
}
variable "n" {
  type    = number
  default = 1
}
variable "l" {
  type    = list(string)
  default = ["d"]
}
variable "o" {
  type    = object({ a = string, b = optional(number, 7) })
  default = { a = "x" }
}
target "t" {
  image    = "i"
  script   = "s"
  artifact = "a.tgz"
  env = {
    S = var.s
    N = var.n
    L = join(",", var.l)
    O = "${var.o.a}/${var.o.b}"
  }
}
`

func envOf(t *testing.T, opts Options) map[string]string {
	t.Helper()
	cells := planString(t, varsSrc, opts)
	m := map[string]string{}
	for _, e := range cells[0].Env {
		m[e.Name] = e.Value
	}
	return m
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVariablePrecedence(t *testing.T) {
	file1 := writeFile(t, "1.hcl", "s = \"file1\"\nn = 3\n")
	file2 := writeFile(t, "2.hcl", "s = \"file2\"\nl = [\"f2a\", \"f2b\"]\n")
	tests := []struct {
		name string
		opts Options
		want map[string]string
	}{
		{"defaults", Options{}, map[string]string{"S": "default", "N": "1", "L": "d", "O": "x/7"}},
		{"environment over default", Options{Environ: []string{"MATRIX_VAR_s=env", "MATRIX_VAR_n=2", "MATRIX_VAR_undeclared=ignored", "OTHER=x"}},
			map[string]string{"S": "env", "N": "2", "L": "d"}},
		{"var-file over environment, later file wins", Options{Environ: []string{"MATRIX_VAR_s=env", "MATRIX_VAR_l=[\"e\"]"}, VarFiles: []string{file1, file2}},
			map[string]string{"S": "file2", "N": "3", "L": "f2a,f2b"}},
		{"-var over var-file, later -var wins", Options{VarFiles: []string{file1}, Vars: []string{"s=cli1", "n=5", "s=cli2"}},
			map[string]string{"S": "cli2", "N": "5"}},
		{"-var of a string is taken literally", Options{Vars: []string{`s=["not", "parsed"]`}},
			map[string]string{"S": `["not", "parsed"]`}},
		{"-var of other types is an HCL expression", Options{Vars: []string{`l=["a", "b"]`, `o={ a = "y", b = 2 }`}},
			map[string]string{"L": "a,b", "O": "y/2"}},
		{"optional attribute defaults apply to given values", Options{Vars: []string{`o={ a = "z" }`}},
			map[string]string{"O": "z/7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := envOf(t, tt.opts)
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestVariableErrors(t *testing.T) {
	undeclared := writeFile(t, "u.hcl", "s = \"ok\"\nnope = 1\n")
	tests := []struct {
		name string
		src  string
		opts Options
		want []string // substrings of the rendered diagnostics
	}{
		{"undeclared -var", varsSrc, Options{Vars: []string{"nope=1"}},
			[]string{"Value for undeclared variable", `declares no variable "nope"`}},
		{"-var without =", varsSrc, Options{Vars: []string{"s"}},
			[]string{"Invalid --var option"}},
		{"undeclared var-file attribute has a range", varsSrc, Options{VarFiles: []string{undeclared}},
			[]string{"Value for undeclared variable", undeclared + ":2:1", "^~~~"}},
		{"missing var-file", varsSrc, Options{VarFiles: []string{"/nonexistent/x.hcl"}},
			[]string{"Cannot read variable file"}},
		{"wrong type from -var", varsSrc, Options{Vars: []string{"n=abc"}},
			[]string{"Variables not allowed", `Variable "n" is of type number, so its value (--var n) is read as an HCL expression, not as text: for example --var 'n=3'.`}},
		{"a version for a list", varsSrc, Options{Vars: []string{"l=2.0.2"}},
			[]string{"Invalid number literal", `for example --var 'l=["2.0.2"]'.`}},
		{"a word for a list", varsSrc, Options{Environ: []string{"MATRIX_VAR_l=x64"}},
			[]string{"Variables not allowed", `for example MATRIX_VAR_l='["x64"]'.`}},
		{"a string for an object", varsSrc, Options{Vars: []string{`o="x"`}},
			[]string{"Invalid value for variable", `for example --var 'o={ a = "text" }'.`}},
		{"wrong type from environment", varsSrc, Options{Environ: []string{`MATRIX_VAR_n="x"`}},
			[]string{"Invalid value for variable", "environment variable MATRIX_VAR_n", "a number is required"}},
		{"required variable without value", `variable "r" {}` + "\n" + `target "t" {
  image = var.r
  script = "s"
  artifact = "a.zip"
}`, Options{},
			[]string{"No value for required variable", "--var r=VALUE", "--var-file", "MATRIX_VAR_r", "test.hcl:1:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, diags := LoadSource(context.Background(), "test.hcl", []byte(tt.src), tt.opts)
			if !diags.HasErrors() {
				t.Fatal("no error")
			}
			out := render(f, diags)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("diagnostics lack %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestVariableValidation(t *testing.T) {
	src := `
variable "archs" {
  type    = list(string)
  default = ["x64"]
  validation {
    condition     = length(setsubtract(var.archs, ["x64", "arm64"])) == 0
    error_message = "Only x64 and arm64, not ${join(", ", var.archs)}."
  }
  validation {
    condition     = length(var.archs) > 0
    error_message = "At least one arch."
  }
}
target "t" {
  matrix   = { arch = var.archs }
  image    = "i"
  script   = "s"
  artifact = "a-${matrix.arch}.zip"
}
`
	if cells := planString(t, src, Options{Vars: []string{`archs=["x64","arm64"]`}}); len(cells) != 2 {
		t.Errorf("%d cells, want 2", len(cells))
	}
	f, diags := LoadSource(context.Background(), "test.hcl", []byte(src), Options{Vars: []string{`archs=["x64","s390x"]`}})
	out := render(f, diags)
	for _, w := range []string{"Invalid value for variable", "Only x64 and arm64, not x64, s390x.", "comes from --var archs", "test.hcl:6:21", "^~~~"} {
		if !strings.Contains(out, w) {
			t.Errorf("diagnostics lack %q:\n%s", w, out)
		}
	}
	_, diags = LoadSource(context.Background(), "test.hcl", []byte(src), Options{Vars: []string{`archs=[]`}})
	if len(diags) != 2 { // the empty axis too
		t.Log(render(f, diags))
		t.Errorf("empty archs: %d diagnostics, want 2: %v", len(diags), diags)
	}
}

func TestSensitiveValuesNotRendered(t *testing.T) {
	src := `
variable "token" {
  type      = string
  default   = "s3cret"
  sensitive = true
}
target "t" {
  image    = "i"
  script   = "s"
  artifact = "a.zip"
  retries  = var.token
}
`
	f, _, diags := loadSourcePlan("test.hcl", []byte(src), Options{})
	out := render(f, diags)
	if !strings.Contains(out, "Sensitive value in retries") || strings.Contains(out, "s3cret") {
		t.Errorf("diagnostics:\n%s", out)
	}
}

// TestInvalidValueNotReplacedByDefault: when a given value is invalid, Plan (which runs
// after Load's errors too) does not quietly use the default in its place.
func TestInvalidValueNotReplacedByDefault(t *testing.T) {
	f, diags := LoadSource(context.Background(), "test.hcl", []byte(varsSrc), Options{Vars: []string{"n=abc"}})
	if !diags.HasErrors() {
		t.Fatal("no error")
	}
	cells, more := f.Plan(context.Background())
	if len(cells) != 0 || len(more) != 0 {
		t.Errorf("planned %d cells with the default of n; diagnostics: %s", len(cells), render(f, more))
	}
}
