package main

import "testing"

// TestPlanShowsTestAxes: the table shows the tests each cell runs (the test axis's
// values, on the tests' platform when it is not the build's) and each skipped test
// with its reason; --json gives a skipped test its axes and reason only, no empty
// fields.
func TestPlanShowsTestAxes(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"plan-testaxes.golden", []string{"plan", "testdata/testaxes.hcl"}},
		{"plan-testaxes-json.golden", []string{"plan", "--json", "testdata/testaxes.hcl"}},
	} {
		code, out, stderr := runCmd(t, tc.args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, stderr)
		}
		golden(t, tc.golden, "\x00", out)
	}
}
