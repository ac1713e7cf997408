package runner

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/plan"
)

// TestRunBuildsOnceTestsOnMany: a cell whose test block has axes is built once and
// tested in each test's image; it is good only if every test that is not skipped
// passes: one failing test fails the cell, naming it, publishes nothing and records
// every test; when all pass, the manifest records each with its axes, a skipped one
// with its reason, and the cell's metadata.
func TestRunBuildsOnceTestsOnMany(t *testing.T) {
	for _, failing := range []string{"rt:24", ""} {
		t.Run("failing="+failing, func(t *testing.T) {
			var tested []string
			exec := &fakeExec{test: func(ctx context.Context, job executor.TestJob) error {
				tested = append(tested, job.Image.Ref+" "+job.Cell.Test.Script)
				if job.Image.Ref == failing {
					return &executor.ExitError{Code: 1}
				}
				return nil
			}}
			opts := options(t)
			cs := cells("a.zip")
			cs[0].Format = "zip"
			cs[0].Metadata = map[string]string{"compatible_runtimes": "nodejs20.x nodejs22.x nodejs24.x"}
			for _, node := range []float64{18, 20, 22, 24} {
				tt := plan.Test{Axes: []plan.Axis{{Name: "node", Value: node}}, Image: "rt:" + plan.AxisString(node), Workdir: "/opt",
					Script: "node " + plan.AxisString(node), Timeout: time.Minute}
				if node == 18 {
					tt = plan.Test{Axes: tt.Axes, Skip: "sharp 0.35.5 supports Node.js >=20.9.0, not 18"}
				}
				cs[0].Tests = append(cs[0].Tests, tt)
			}
			results, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts)
			if n := exec.calls("a.zip"); n != 1 {
				t.Errorf("built %d times, want once", n)
			}
			if want := "rt:20 node 20,rt:22 node 22,rt:24 node 24"; strings.Join(tested, ",") != want {
				t.Errorf("tests run: %v, want %s", tested, want)
			}
			m, rerr := manifest.Read(opts.OutDir)
			if rerr != nil {
				t.Fatal(rerr)
			}
			var recorded []manifest.Test
			if failing != "" {
				if err == nil {
					t.Fatal("a cell with a failing test succeeded")
				}
				if msg := results[0].Err.Error(); !strings.Contains(msg, "the tests [node=24] of 4 failed") {
					t.Errorf("error = %v, want it to name the failing test", msg)
				}
				if got := artifactsOnDisk(t, opts.OutDir); len(got) != 0 {
					t.Errorf("artifact published: %v", got)
				}
				f := m.Failed[0]
				if f.Test != nil {
					t.Errorf("failure records a single test: %+v", f.Test)
				}
				recorded = f.Tests
			} else {
				if err != nil {
					t.Fatal(err)
				}
				a := m.Artifacts[0]
				if a.Test != nil || a.Metadata["compatible_runtimes"] != "nodejs20.x nodejs22.x nodejs24.x" {
					t.Errorf("artifact's test %+v, metadata %v", a.Test, a.Metadata)
				}
				recorded = a.Tests
			}
			var got []string
			for _, tr := range recorded {
				got = append(got, axesString(tr.Axes)+" "+tr.Image.Ref+" "+map[bool]string{true: "passed", false: "failed"}[tr.Passed]+" "+tr.Skipped)
			}
			want := "[node=18]  failed sharp 0.35.5 supports Node.js >=20.9.0, not 18|[node=20] rt:20 passed |[node=22] rt:22 passed |[node=24] rt:24 " +
				map[bool]string{true: "failed", false: "passed"}[failing != ""] + " "
			if strings.Join(got, "|") != want {
				t.Errorf("recorded tests:\n%s\nwant\n%s", strings.Join(got, "|"), want)
			}
		})
	}
}
