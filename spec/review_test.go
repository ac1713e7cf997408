package spec

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestPathsCleaned: workdir, collect and the test's workdir are cleaned, and the
// defaults follow a cleaned workdir. Every row has a test block, so that every row
// checks the test workdir.
func TestPathsCleaned(t *testing.T) {
	const test = `
  test { script = "true" }`
	tests := []struct {
		name                          string
		attrs                         string
		workdir, collect, testWorkdir string
	}{
		{"defaults", test, "/build", "/build/node_modules", "/test"},
		{"workdir with dot-dot and trailing slash", `workdir = "/build/../x/"` + test, "/x", "/x/node_modules", "/test"},
		{"collect after a cleaned workdir", `workdir = "//w/./"
  collect = "/w/out/"` + test, "/w", "/w/out", "/test"},
		{"test workdir", `test {
    workdir = "/t/./u/"
    script  = "true"
  }`, "/build", "/build/node_modules", "/t/u"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "target \"t\" {\n  " + tt.attrs + cellBody + "}\n"
			c := planString(t, src, Options{})[0]
			if c.Test == nil {
				t.Fatal("no test")
			}
			if c.Workdir != tt.workdir || c.Collect != tt.collect || c.Test.Workdir != tt.testWorkdir {
				t.Errorf("workdir %q, collect %q, test workdir %q; want %q, %q, %q",
					c.Workdir, c.Collect, c.Test.Workdir, tt.workdir, tt.collect, tt.testWorkdir)
			}
		})
	}
}

func TestValidationMentionsLocals(t *testing.T) {
	src := `
locals { allowed = ["x64"] }
variable "arch" {
  default = "x64"
  validation {
    condition     = contains(local.allowed, var.arch)
    error_message = "No."
  }
}
target "t" {` + cellBody + `}
`
	f, diags := LoadSource(context.Background(), "test.hcl", []byte(src), Options{})
	out := render(f, diags)
	if !strings.Contains(out, "Local value not available here") || strings.Contains(out, "none.") || !strings.Contains(out, "test.hcl:6:30") {
		t.Errorf("diagnostics:\n%s", out)
	}
}

func TestRawValueByType(t *testing.T) {
	tests := []struct {
		name, decl, arg, want string
	}{
		{"no type: literal", ``, `v=["x", "y"]`, `"[\"x\", \"y\"]"`},
		{"string: literal", `type = string`, `v=["x", "y"]`, `"[\"x\", \"y\"]"`},
		{"any: an HCL expression", `type = any`, `v=["x", "y"]`, `["x","y"]`},
		{"any: a quoted string", `type = any`, `v="x"`, `"x"`},
		{"list: an HCL expression", `type = list(string)`, `v=["x", "y"]`, `["x","y"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "variable \"v\" {\n  " + tt.decl + "\n  default = null\n}\n" + `target "t" {
  image    = "i"
  script   = "s"
  artifact = "a.zip"
  env      = { V = jsonencode(var.v) }
}
`
			for _, opts := range []Options{{Vars: []string{tt.arg}}, {Environ: []string{"MATRIX_VAR_" + tt.arg}}} {
				c := planString(t, src, opts)[0]
				if got := c.Env[0].Value; got != tt.want {
					t.Errorf("%+v: var.v = %q, want %q", opts, got, tt.want)
				}
			}
		})
	}
}

// TestRepeatedVarShowsItsOwnSource: each --var value's diagnostic shows that value,
// not the text of a later --var for the same variable.
func TestRepeatedVarShowsItsOwnSource(t *testing.T) {
	f, diags := LoadSource(context.Background(), "test.hcl", []byte(varsSrc), Options{Vars: []string{"n=abc", `n=["x"]`}})
	if len(diags) != 2 {
		t.Fatalf("%d diagnostics, want 2:\n%s", len(diags), render(f, diags))
	}
	for i, want := range []string{"1: abc", `1: ["x"]`} {
		out := render(f, diags[i:i+1])
		if !strings.Contains(out, want) || !strings.Contains(out, fmt.Sprintf("--var option %d>", i+1)) {
			t.Errorf("diagnostic %d lacks %q:\n%s", i+1, want, out)
		}
	}
}

// TestPlanCellLimit: the limit applies to the whole plan, not only to each target, and
// is reported at the matrix of the target that crosses it.
func TestPlanCellLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("plans 60,000 cells")
	}
	target := func(name string) string {
		return `target "` + name + `" {
  matrix   = { a = range(300), b = range(200) }
  image    = "img"
  script   = "true"
  artifact = "` + name + `-${matrix.a}-${matrix.b}.tar.gz"
}
`
	}
	f := loadString(t, target("a")+target("b"), Options{})
	tests := []struct {
		targets []string
		cells   int
		diag    string // "" or the rendered position of the one diagnostic
	}{
		{[]string{"b"}, 60000, ""},
		{nil, 60000, "test.hcl:8:14"},
	}
	for _, tt := range tests {
		cells, diags := f.Plan(context.Background(), tt.targets...)
		out := render(f, diags)
		if len(cells) != tt.cells {
			t.Errorf("%v: %d cells, want %d", tt.targets, len(cells), tt.cells)
		}
		if tt.diag == "" && len(diags) > 0 || tt.diag != "" && (len(diags) != 1 || !strings.Contains(out, "Matrix too large") || !strings.Contains(out, tt.diag) || !strings.Contains(out, "larger than 100000 cells")) {
			t.Errorf("%v: diagnostics:\n%s", tt.targets, out)
		}
	}
}
