package spec

import (
	"reflect"
	"testing"

	"github.com/matrixbuild/matrix/plan"
)

// TestSkip: the first skip block whose condition holds skips the cell with its reason
// (trimmed); a skipped cell keeps its place in the plan and has only its target, axes
// and reason, since nothing else of it is evaluated: not the blocks after the one that
// held (the third would fail), not its attributes (its artifact would be invalid and
// shared).
func TestSkip(t *testing.T) {
	src := `
target "sharp" {
  matrix = { sharp = ["0.32.6", "0.33.5", "0.34.3"], node = [18, 22] }
  skip {
    condition = !semver_intersects(npm_package("sharp", matrix.sharp).engines.node, "${matrix.node}.x")
    reason    = "sharp ${matrix.sharp} needs Node.js ${npm_package("sharp", matrix.sharp).engines.node}"
  }
  skip {
    condition = matrix.sharp == "0.32.6"
    reason    = <<-EOT
      too old
    EOT
  }
  skip {
    condition = semver_major(matrix.sharp == "0.33.5" || matrix.sharp == "0.34.3" && matrix.node == 22 ? "1.0.0" : "bad") > 1
    reason    = "never"
  }
  image    = "img"
  script   = "true"
  artifact = matrix.sharp == "0.33.5" || matrix.sharp == "0.34.3" && matrix.node == 22 ? "sharp-${matrix.sharp}-${matrix.node}.zip" : "../same"
}
`
	cells := planString(t, src, Options{Resolver: &fakeResolver{}})
	skipped := func(sharp string, node float64, reason string) plan.Cell {
		return plan.Cell{Target: "sharp", Axes: []plan.Axis{{Name: "sharp", Value: sharp}, {Name: "node", Value: node}}, Skip: reason}
	}
	want := []plan.Cell{
		skipped("0.32.6", 18, "too old"),
		skipped("0.32.6", 22, "too old"),
		{Skip: "", Artifact: "sharp-0.33.5-18.zip"},
		{Skip: "", Artifact: "sharp-0.33.5-22.zip"},
		skipped("0.34.3", 18, "sharp 0.34.3 needs Node.js ^20.3.0 || >=21.0.0"),
		{Skip: "", Artifact: "sharp-0.34.3-22.zip"},
	}
	if len(cells) != len(want) {
		t.Fatalf("%d cells, want %d: %v", len(cells), len(want), names(cells))
	}
	for i, c := range cells {
		w := want[i]
		if w.Skip == "" {
			if c.Skip != "" || c.Artifact != w.Artifact || c.Image != "img" {
				t.Errorf("cell %d: %+v, want it built as %s", i, c, w.Artifact)
			}
			continue
		}
		if !reflect.DeepEqual(c, w) {
			t.Errorf("cell %d:\n got %+v\nwant %+v", i, c, w)
		}
	}
}

// TestSkipEveryCell: a skip block that uses no registry function works without a
// Resolver, and every cell may be skipped.
func TestSkipEveryCell(t *testing.T) {
	src := `
target "t" {
  matrix = { v = [1, 2] }
  skip {
    condition = true
    reason    = "not yet: ${matrix.v}"
  }
  image    = "img"
  script   = "true"
  artifact = "a.zip"
}
`
	cells := planString(t, src, Options{})
	if len(cells) != 2 || cells[0].Skip != "not yet: 1" || cells[1].Skip != "not yet: 2" {
		t.Errorf("cells: %+v", cells)
	}
}
