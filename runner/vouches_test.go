package runner

import (
	"testing"

	"github.com/matrixbuild/matrix/manifest"
)

// A record vouches for an artifact only with the same tests: the one test's
// definition, and for test axes each test's axes, skip reason and definition.
func TestVouchesComparesEveryTest(t *testing.T) {
	node := func(v, def, skipped string) manifest.Test {
		return manifest.Test{Axes: []manifest.Axis{{Name: "node", Value: v}}, Definition: def, Skipped: skipped, Passed: skipped == ""}
	}
	tests := []manifest.Test{node("20", "d20", ""), node("22", "d22", ""), node("24", "d24", "")}
	base := manifest.Artifact{File: "a.tar.gz", SHA256: "s", Size: 1, Tests: tests}
	with := func(ts ...manifest.Test) manifest.Artifact { a := base; a.Tests = ts; return a }
	for _, tc := range []struct {
		name string
		a    manifest.Artifact
		want bool
	}{
		{"same tests", with(tests...), true},
		{"one test's definition changed", with(node("20", "d20", ""), node("22", "other", ""), node("24", "d24", "")), false},
		{"a test axis value added", with(append(append([]manifest.Test{}, tests...), node("26", "d26", ""))...), false},
		{"a test axis value dropped", with(tests[:2]...), false},
		{"a test now skipped", with(node("20", "d20", ""), node("22", "", "too old"), node("24", "d24", "")), false},
		{"another axis value", with(node("20", "d20", ""), node("23", "d22", ""), node("24", "d24", "")), false},
		{"the one test instead", func() manifest.Artifact {
			a := base
			a.Tests = nil
			a.Test = &manifest.Test{Definition: "d20"}
			return a
		}(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &manifest.Record{Manifest: &manifest.Manifest{Artifacts: []manifest.Artifact{base}}}
			if got := vouches(rec, tc.a); got != tc.want {
				t.Errorf("vouches = %v, want %v", got, tc.want)
			}
		})
	}
}
