package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/engine"
	"github.com/matrixbuild/matrix/manifest"
)

// TestUnchangedRerunStartsNothing: with no flag, a re-run reuses the artifact of a
// cell installed from its current lock entry and starts no container for it (the
// engine's own events, by the run's label); a cell without a lock entry is built
// again, "not locked". --reuse reuses both and starts nothing at all; an artifact
// whose bytes changed on disk is built again, "artifact modified"; --force builds
// everything. Each build's reason is in the progress output and its record.
func TestUnchangedRerunStartsNothing(t *testing.T) {
	needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	pinned := target("rerun-pinned", `
		mkdir -p out
		if [ "$${MATRIX_LOCKED:-}" != 1 ]; then
		  echo '{"name":"x"}' > package.json
		  echo '{"resolved":"1"}' > package-lock.json
		fi
		cp package-lock.json out/
	`, "  test {\n    image = \""+testImage+"\"\n    network = \"host\"\n    script = \"test -f out/package-lock.json\"\n  }\n")
	loose := target("rerun-loose", `mkdir -p out; echo loose > out/f`, "  lock_files = []\n")
	specPath := w.spec(t, pinned+loose)

	type run struct {
		res        result
		containers int
		records    map[string]manifest.Artifact
	}
	matrix := func(args ...string) run {
		t.Helper()
		start := time.Now()
		res := w.matrix(t, nil, append(append([]string{"run", "--out", w.out}, args...), specPath)...)
		end := time.Now()
		if res.code != 0 {
			t.Fatalf("run %v: exit %d\n%s\n%s", args, res.code, res.stdout, res.stderr)
		}
		m, err := manifest.Read(w.out)
		if err != nil {
			t.Fatal(err)
		}
		recs := map[string]manifest.Artifact{}
		for _, a := range m.Artifacts {
			recs[a.File] = a
		}
		return run{res, runContainers(t, runID(res.stderr), start, end), recs}
	}
	first := matrix()
	if first.containers != 3 || first.records["rerun-pinned.tar.gz"].BuildReason != "no earlier artifact" {
		t.Fatalf("the first run: %d containers (want 3: two builds, a test), records %+v\n%s", first.containers, first.records, first.res.stderr)
	}

	second := matrix()
	if second.containers != 1 || second.records["rerun-pinned.tar.gz"].RunID != first.records["rerun-pinned.tar.gz"].RunID ||
		!strings.Contains(second.res.stdout, "1 built, 1 reused, 0 failed") ||
		!strings.Contains(second.res.stderr, "[rerun-loose.tar.gz] matrix: building rerun-loose.tar.gz: not locked") ||
		!strings.HasPrefix(second.records["rerun-loose.tar.gz"].BuildReason, "not locked") {
		t.Errorf("an unchanged re-run: %d containers (want 1: the build of the cell that is not locked)\n%s\n%s", second.containers, second.res.stdout, second.res.stderr)
	}

	third := matrix("--reuse")
	if third.containers != 0 || !strings.Contains(third.res.stdout, "0 built, 2 reused, 0 failed") {
		t.Errorf("an unchanged re-run with --reuse: %d containers\n%s\n%s", third.containers, third.res.stdout, third.res.stderr)
	}

	// The output directory is not trusted: the reuse hashes what is on disk.
	path := filepath.Join(w.out, "rerun-pinned.tar.gz")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-1] ^= 1
	writeFile(t, path, string(data))
	fourth := matrix()
	if fourth.containers != 3 || fourth.records["rerun-pinned.tar.gz"].BuildReason != "artifact modified" ||
		!strings.Contains(fourth.res.stderr, "[rerun-pinned.tar.gz] matrix: building rerun-pinned.tar.gz: artifact modified") {
		t.Errorf("a modified artifact: %d containers (want 3), record %+v\n%s", fourth.containers, fourth.records["rerun-pinned.tar.gz"], fourth.res.stderr)
	}

	fifth := matrix("--force")
	if fifth.containers != 3 || fifth.records["rerun-pinned.tar.gz"].BuildReason != "--force" || fifth.records["rerun-loose.tar.gz"].BuildReason != "--force" {
		t.Errorf("--force: %d containers (want 3)\n%s", fifth.containers, fifth.res.stderr)
	}
	if res := w.matrix(t, nil, "run", "--reuse", "--force", "--out", w.out, specPath); res.code != 2 {
		t.Errorf("--reuse --force: exit %d, want 2\n%s", res.code, res.stderr)
	}
}

// runContainers counts the engine's container create events of the run runID between
// two times, by the run's label.
func runContainers(t *testing.T, runID string, since, until time.Time) int {
	t.Helper()
	if runID == "" {
		t.Fatal("no run id")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	unix := func(at time.Time) string { return fmt.Sprintf("%d.%09d", at.Unix(), at.Nanosecond()) }
	out, err := exec.CommandContext(ctx, "docker", "events", "--since", unix(since.Add(-time.Second)), "--until", unix(until.Add(time.Second)),
		"--filter", "type=container", "--filter", "event=create",
		"--filter", "label="+engine.LabelRun+"="+runID, "--format", "{{.ID}}").Output()
	if err != nil {
		t.Fatalf("docker events: %v", err)
	}
	return len(strings.Fields(string(out)))
}
