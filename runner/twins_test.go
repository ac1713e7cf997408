package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/plan"
)

// Two cells of a run with the same inputs but their artifact names are built once:
// the other gets the same bytes under its own name, says whose they are, and is
// tested as its own. A cell with another script is built on its own.
func TestRunBuildsIdenticalCellsOnce(t *testing.T) {
	cs := cells("a.tar.gz", "b.tar.gz", "c.tar.gz")
	for i := range cs {
		cs[i].Script = "true"
		cs[i].Test = &plan.Test{Image: "img", Workdir: "/test", Script: "node -e 1", Timeout: time.Minute}
	}
	cs[2].Script = "something else"
	var mu sync.Mutex
	tested := map[string]int{}
	exec := &fakeExec{test: func(ctx context.Context, job executor.TestJob) error {
		mu.Lock()
		tested[job.Cell.Artifact]++
		mu.Unlock()
		return nil
	}}
	opts := options(t)
	if _, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts); err != nil {
		t.Fatal(err)
	}
	if got := exec.calls("a.tar.gz") + exec.calls("b.tar.gz"); got != 1 {
		t.Errorf("a and b, of the same inputs, were built %d times, want once: %v", got, exec.builds)
	}
	if exec.calls("c.tar.gz") != 1 {
		t.Errorf("c, of another script, was built %d times, want once", exec.calls("c.tar.gz"))
	}
	for _, name := range []string{"a.tar.gz", "b.tar.gz", "c.tar.gz"} {
		if tested[name] != 1 {
			t.Errorf("%s tested %d times, want once", name, tested[name])
		}
	}
	m, err := manifest.Read(opts.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	arts := map[string]manifest.Artifact{}
	for _, a := range m.Artifacts {
		arts[a.File] = a
	}
	a, b := arts["a.tar.gz"], arts["b.tar.gz"]
	built, copied := a, b
	if exec.calls("b.tar.gz") == 1 {
		built, copied = b, a
	}
	if copied.SameBuildAs != built.File || built.SameBuildAs != "" || arts["c.tar.gz"].SameBuildAs != "" {
		t.Errorf("same_build_as: a %q, b %q, c %q; want only %s naming %s", a.SameBuildAs, b.SameBuildAs, arts["c.tar.gz"].SameBuildAs, copied.File, built.File)
	}
	if a.SHA256 != b.SHA256 || a.SHA256 == arts["c.tar.gz"].SHA256 {
		t.Errorf("sha256: a %s, b %s, c %s", a.SHA256, b.SHA256, arts["c.tar.gz"].SHA256)
	}
	if copied.File != "" && (copied.Test == nil || !copied.Test.Passed || copied.Axes[0] == built.Axes[0] || copied.Log != "logs/"+copied.File+".log") {
		t.Errorf("the copy's record is not its own: %+v", copied)
	}
	log, _ := os.ReadFile(filepath.Join(opts.OutDir, "logs", copied.File+".log"))
	if !strings.Contains(string(log), "not built: "+built.File+" of this run has the same inputs") {
		t.Errorf("the copy's log does not say whose bytes it has:\n%s", log)
	}
	if rep, err := manifest.Verify(context.Background(), opts.OutDir); err != nil || len(rep.Problems) > 0 || rep.Checked != 3 {
		t.Errorf("verify: %+v, %v", rep, err)
	}
	assertClean(t, opts.OutDir)
}

// When the cell that builds for both fails its own test, the other builds for itself.
func TestRunBuildsATwinWhoseBuildFailed(t *testing.T) {
	cs := cells("a.tar.gz", "b.tar.gz")
	for i := range cs {
		cs[i].Script = "true"
		cs[i].Test = &plan.Test{Image: "img", Workdir: "/test", Script: "node -e 1", Timeout: time.Minute}
	}
	cs[0].Test.Script = "exit 1"
	exec := &fakeExec{test: func(ctx context.Context, job executor.TestJob) error {
		if job.Cell.Test.Script == "exit 1" {
			return errors.New("exit 1")
		}
		return nil
	}}
	opts := options(t)
	opts.KeepGoing = true
	results, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts)
	if err == nil {
		t.Fatal("a's failing test did not fail the run")
	}
	if results[0].Err == nil || results[1].Err != nil || results[1].Artifact == nil || results[1].Artifact.SameBuildAs != "" {
		t.Fatalf("results: a %v, b %v %+v", results[0].Err, results[1].Err, results[1].Artifact)
	}
	assertClean(t, opts.OutDir)
}
