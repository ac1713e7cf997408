package plan

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestCellID(t *testing.T) {
	sharp := Cell{Target: "sharp-lambda", Axes: []Axis{{"sharp", "0.34.5"}, {"arch", "arm64"}}}
	tests := []struct {
		name string
		cell Cell
		want string
	}{
		// Pinned: an ID is a promise to CI workflows and earlier manifests; a change of
		// the rule must be deliberate (and documented), never a side effect.
		{"pinned", sharp, "sharp-lambda-arm64-0.34.5-9a169314"},
		{"axes reordered", Cell{Target: "sharp-lambda", Axes: []Axis{{"arch", "arm64"}, {"sharp", "0.34.5"}}}, "sharp-lambda-arm64-0.34.5-9a169314"},
		{"other attributes do not count", Cell{Target: "sharp-lambda", Axes: sharp.Axes, Image: "x", Platform: "linux/arm64", Artifact: "a.tar.gz"}, "sharp-lambda-arm64-0.34.5-9a169314"},
		{"a number as the file wrote it", Cell{Target: "t", Axes: []Axis{{"node", 22.0}}}, Cell{Target: "t", Axes: []Axis{{"node", "22"}}}.ID()},
		{"no axes", Cell{Target: "build"}, "build-" + Cell{Target: "build"}.ID()[len("build-"):]},
		{"unsafe characters", Cell{Target: "T", Axes: []Axis{{"image", "ghcr.io/a/b:1 ../x"}}}, "t-ghcr.io-a-b-1-..-x-" + Cell{Target: "T", Axes: []Axis{{"image", "ghcr.io/a/b:1 ../x"}}}.ID()[len("t-ghcr.io-a-b-1-..-x-"):]},
	}
	safe := regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*[0-9a-f]{8}$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.cell.ID()
			if got != tt.want {
				t.Errorf("ID() = %q, want %q", got, tt.want)
			}
			if !safe.MatchString(got) || len(got) > maxSlug+1+IDHashLen {
				t.Errorf("ID() = %q: not a short, file-name-safe ID", got)
			}
		})
	}
}

func TestCellIDDistinguishes(t *testing.T) {
	cells := []Cell{
		{Target: "t", Axes: []Axis{{"a", "x y"}}},
		{Target: "t", Axes: []Axis{{"a", "x/y"}}}, // the same slug
		{Target: "t", Axes: []Axis{{"a", "x"}, {"b", "y"}}},
		{Target: "t", Axes: []Axis{{"a", "xy"}}},
		{Target: "t", Axes: []Axis{{"b", "x y"}}}, // the axis's name counts
		{Target: "u", Axes: []Axis{{"a", "x y"}}},
		{Target: "t", Axes: []Axis{{"a", strings.Repeat("v", 60) + "1"}}},
		{Target: "t", Axes: []Axis{{"a", strings.Repeat("v", 60) + "2"}}}, // beyond the slug
	}
	if err := CheckIDs(cells); err != nil {
		t.Fatal(err)
	}
	var dup *DuplicateIDError
	if err := CheckIDs(append(cells, cells[1])); !errors.As(err, &dup) || dup.Again != cells[1].Name() {
		t.Errorf("CheckIDs of a plan with a cell twice: %v, want a DuplicateIDError naming %s", err, cells[1].Name())
	}
}
