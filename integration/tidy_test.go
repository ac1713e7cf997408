package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/manifest"
)

// TestTidyOutputs: each artifact's record names its matrix file; a target dropped
// from the file leaves its artifact recorded until `run --prune` removes it with its
// log, naming it, and names what no record lists instead of removing it; `verify`
// exits 3 for such a file (or a failed cell of the last run) when every recorded
// artifact verifies, and 0 once there is nothing to report. Under --reuse, a changed
// test runs again on the artifact without building it ("reused, retested").
func TestTidyOutputs(t *testing.T) {
	needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	test := func(script string) string {
		return "  test {\n    image = \"" + testImage + "\"\n    network = \"host\"\n    script = \"" + script + "\"\n  }\n"
	}
	keep := target("keep", `mkdir -p out; echo keep > out/f`, test("test -f out/f"))
	drop := target("drop", `mkdir -p out; echo drop > out/f`, "")
	specPath := w.spec(t, keep+drop)
	if res := w.matrix(t, nil, "run", "--out", w.out, specPath); res.code != 0 {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	m, err := manifest.Read(w.out)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range m.Artifacts {
		if a.Spec == nil || a.Spec.Path != specPath || a.Spec.SHA256 == "" {
			t.Errorf("%s: spec %+v", a.File, a.Spec)
		}
	}
	if res := w.matrix(t, nil, "verify", w.out); res.code != 0 {
		t.Errorf("verify: exit %d\n%s", res.code, res.stderr)
	}
	writeFile(t, filepath.Join(w.out, "notes.txt"), "mine\n")
	if res := w.matrix(t, nil, "verify", w.out); res.code != 3 || !strings.Contains(res.stderr, "notes.txt: not recorded") {
		t.Errorf("verify with an unlisted file: exit %d, want 3\n%s", res.code, res.stderr)
	}

	// The test changes: --reuse runs it again on the artifact, without building.
	specPath = w.spec(t, target("keep", `mkdir -p out; echo keep > out/f`, test("grep -q keep out/f"))+drop)
	res := w.matrix(t, nil, "run", "--reuse", "--out", w.out, specPath)
	if res.code != 0 || !strings.Contains(res.stdout, "reused, retested  keep.tar.gz") || !strings.Contains(res.stdout, "reused            drop.tar.gz") ||
		strings.Contains(res.stderr, "[keep.tar.gz] matrix: packed") {
		t.Errorf("a changed test under --reuse: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}

	specPath = w.spec(t, keep)
	res = w.matrix(t, nil, "run", "--prune", "--out", w.out, specPath)
	if res.code != 0 || !strings.Contains(res.stderr, "--prune: removed drop.tar.gz, logs/drop.tar.gz.log: the plan no longer produces drop.tar.gz") ||
		!strings.Contains(res.stderr, "which matrix never removes: notes.txt") {
		t.Errorf("run --prune: exit %d\n%s", res.code, res.stderr)
	}
	for _, name := range []string{"drop.tar.gz", "logs/drop.tar.gz.log"} {
		if _, err := os.Lstat(filepath.Join(w.out, name)); err == nil {
			t.Errorf("%s was not pruned", name)
		}
	}
	os.Remove(filepath.Join(w.out, "notes.txt"))
	if res := w.matrix(t, nil, "verify", w.out); res.code != 0 {
		t.Errorf("verify after --prune: exit %d\n%s", res.code, res.stderr)
	}
	assertNoPartialFiles(t, w.out)
}
