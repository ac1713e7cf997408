package spec

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestTestAxesPlan: a test block's axes make one test per value, in order, each with
// its axes in the plan's JSON; a skip block of the test skips one with its reason;
// test.KEY and matrix.KEY are both available; metadata is the cell's.
func TestTestAxesPlan(t *testing.T) {
	src := `
target "t" {
  matrix   = { arch = ["x64"] }
  image    = "img"
  script   = "true"
  artifact = "a-${matrix.arch}.zip"
  metadata = { compatible_architectures = matrix.arch == "x64" ? "x86_64" : "arm64" }
  test {
    matrix = { node = [18, 20, 22] }
    image  = "rt:${test.node}"
    skip {
      condition = test.node < 20
      reason    = "node ${test.node} is too old"
    }
    script = "check ${matrix.arch} ${test.node}"
  }
}`
	f, cells, diags := loadSourcePlan("test.hcl", []byte(src), Options{})
	if diags.HasErrors() {
		t.Fatal(render(f, diags))
	}
	if len(cells) != 1 || cells[0].Test != nil || len(cells[0].Tests) != 3 {
		t.Fatalf("cells = %+v", cells)
	}
	data, err := json.Marshal(cells[0])
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Tests []struct {
			Axes    []map[string]any `json:"axes"`
			Skipped string           `json:"skipped"`
			Image   string           `json:"image"`
			Script  string           `json:"script"`
		} `json:"tests"`
		Metadata map[string]string `json:"metadata"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, tt := range got.Tests {
		lines = append(lines, strings.Join([]string{tt.Axes[0]["name"].(string), string(must(json.Marshal(tt.Axes[0]["value"]))), tt.Skipped, tt.Image, tt.Script}, "|"))
	}
	want := "node|18|node 18 is too old||,node|20||rt:20|check x64 20,node|22||rt:22|check x64 22"
	if strings.Join(lines, ",") != want || got.Metadata["compatible_architectures"] != "x86_64" {
		t.Errorf("plan JSON tests:\n%s\nwant\n%s\nmetadata %v", strings.Join(lines, ","), want, got.Metadata)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
