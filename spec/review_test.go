package spec

import (
	"strings"
	"testing"
)

func TestPathsCleaned(t *testing.T) {
	tests := []struct {
		name                          string
		attrs                         string
		workdir, collect, testWorkdir string
	}{
		{"defaults", ``, "/build", "/build/node_modules", "/test"},
		{"workdir with dot-dot and trailing slash", `workdir = "/build/../x/"`, "/x", "/x/node_modules", "/test"},
		{"collect after a cleaned workdir", `workdir = "//w/./"
  collect = "/w/out/"`, "/w", "/w/out", "/test"},
		{"test workdir", `test {
    workdir = "/t/./u/"
    script  = "true"
  }`, "/build", "/build/node_modules", "/t/u"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "target \"t\" {\n  " + tt.attrs + cellBody + "}\n"
			c := planString(t, src, Options{})[0]
			testWorkdir := ""
			if c.Test != nil {
				testWorkdir = c.Test.Workdir
			} else {
				testWorkdir = "/test"
			}
			if c.Workdir != tt.workdir || c.Collect != tt.collect || testWorkdir != tt.testWorkdir {
				t.Errorf("workdir %q, collect %q, test workdir %q; want %q, %q, %q",
					c.Workdir, c.Collect, testWorkdir, tt.workdir, tt.collect, tt.testWorkdir)
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
	f, diags := LoadSource("test.hcl", []byte(src), Options{})
	out := render(f, diags)
	if !strings.Contains(out, "Local value not available here") || strings.Contains(out, "none.") || !strings.Contains(out, "test.hcl:6:30") {
		t.Errorf("diagnostics:\n%s", out)
	}
}
