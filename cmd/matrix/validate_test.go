package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateReportsEveryTarget: a problem Load finds in one target does not hide the
// problems Plan finds in another.
func TestValidateReportsEveryTarget(t *testing.T) {
	file := filepath.Join(t.TempDir(), "m.hcl")
	src := `
target "a" {
  image    = "img"
  script   = "true"
  artifact = "a.zip"
  bogus    = 1
}
target "b" {
  image    = "img"
  script   = "true"
  artifact = "b.zip"
  timeout  = "forever"
}
`
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"validate", "plan"} {
		code, out, stderr := runCmd(t, cmd, file)
		if code != 1 || out != "" || !strings.Contains(stderr, `"bogus"`) || !strings.Contains(stderr, `"forever" is not a duration`) {
			t.Errorf("%s: exit %d, stdout %q, stderr:\n%s", cmd, code, out, stderr)
		}
	}
}

func TestValidateMissingFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nowhere.hcl")
	code, out, stderr := runCmd(t, "validate", missing)
	if code != 1 || out != "" || !strings.Contains(stderr, "Cannot read the matrix file") || !strings.Contains(stderr, "nowhere.hcl") {
		t.Errorf("exit %d, stdout %q, stderr:\n%s", code, out, stderr)
	}
	t.Log(stderr)
}

// TestValidateEscapesDiagnostics: a diagnostic that quotes a value from --var or an
// axis ("In cell ...", a value in the detail) shows its controls and bidi overrides
// escaped, never raw.
func TestValidateEscapesDiagnostics(t *testing.T) {
	file := filepath.Join(t.TempDir(), "m.hcl")
	src := `
variable "branch" {}
target "a" {
  matrix = {
    branch = [var.branch]
  }
  image    = "img"
  script   = "true"
  artifact = "a.zip"
  timeout  = "forever-${matrix.branch}"
}
`
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCmd(t, "validate", "--var", "branch=main\u202e\x1b[2Jx", file)
	if code != 1 || !strings.Contains(stderr, "In cell") || !strings.Contains(stderr, `main\u202e\x1b[2Jx`) ||
		strings.Contains(stderr, "\u202e") || strings.Contains(stderr, "\x1b") {
		t.Errorf("exit %d, stderr:\n%q", code, stderr)
	}
}
