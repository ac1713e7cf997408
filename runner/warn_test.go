package runner

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/manifest"
)

// An artifact larger than its cell's warn_size is kept, with a warning in the run's
// output, the cell's log and its manifest entry; one within it, or a cell without a
// warn_size, gets none.
func TestRunWarnsAboutSize(t *testing.T) {
	cs := cells("over.tar.gz", "within.tar.gz", "none.tar.gz")
	cs[0].WarnSize = 10
	cs[1].WarnSize = 1 << 20
	opts := options(t)
	var progress bytes.Buffer
	opts.Progress = &progress
	results, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cs, opts)
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Read(opts.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Cell.Artifact, r.Err)
		}
		var want []string
		if i == 0 {
			want = []string{"over.tar.gz is " + strconv.FormatInt(r.Artifact.Size, 10) + " bytes, over its warn_size of 10 bytes"}
		}
		if !slices.Equal(r.Artifact.Warnings, want) || !slices.Equal(m.Artifacts[slices.IndexFunc(m.Artifacts, func(a manifest.Artifact) bool { return a.File == r.Cell.Artifact })].Warnings, want) {
			t.Errorf("%s: warnings %q (manifest: %+v), want %q", r.Cell.Artifact, r.Artifact.Warnings, m.Artifacts, want)
		}
		log, _ := os.ReadFile(filepath.Join(opts.OutDir, r.Artifact.Log))
		for _, w := range want {
			if !strings.Contains(progress.String(), "matrix: warning: "+w) || !strings.Contains(string(log), "matrix: warning: "+w) {
				t.Errorf("the warning %q is not in the run's output and the cell's log:\n%s\n%s", w, progress.String(), log)
			}
		}
	}
	// Once among the status lines, which --quiet keeps, and once among the cell's.
	if n := strings.Count("\n"+progress.String(), "\nmatrix: warning: "); n != 1 {
		t.Errorf("%d warnings among the status lines, want 1:\n%s", n, progress.String())
	}
}
