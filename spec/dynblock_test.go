package spec

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDynamicBlockOfUnknownForEach: a dynamic block whose for_each is unknown —
// here because its variable's --var value is wrong — gets a body from dynblock that
// cannot key a map; planning reports the variable's error instead of crashing
// ("hash of unhashable type dynblock.unknownBody").
func TestDynamicBlockOfUnknownForEach(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "matrix.hcl")
	src := `
variable "cache" {
  type    = bool
  default = true
}
target "t" {
  image    = "img"
  script   = "true"
  artifact = "t.tar.gz"
  dynamic "mount" {
    for_each = var.cache ? ["npm"] : []
    content {
      type   = "cache"
      source = mount.value
      target = "/root/.npm"
    }
  }
  test {
    image  = "img"
    script = "true"
    dynamic "mount" {
      for_each = var.cache ? ["npm"] : []
      content {
        type   = "cache"
        source = mount.value
        target = "/root/.npm"
      }
    }
  }
}
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"cache=xyz", "cache=true"} {
		_, cells, diags := LoadPlan(context.Background(), path, Options{Vars: []string{v}})
		switch v {
		case "cache=xyz":
			if !diags.HasErrors() || !strings.Contains(diags.Error(), "var.cache") {
				t.Errorf("%s: diagnostics %v, want the variable's error", v, diags)
			}
		default:
			if diags.HasErrors() || len(cells) != 1 || len(cells[0].Mounts) != 1 {
				t.Errorf("%s: %d cells, %v", v, len(cells), diags)
			}
		}
	}
}
