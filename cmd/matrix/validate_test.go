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
