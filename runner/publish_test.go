package runner

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/plan"
)

// changingExec builds each artifact with content naming the build, so that a rebuilt
// artifact differs from the one it replaces.
type changingExec struct {
	*fakeExec
	build string
}

func (c *changingExec) Build(ctx context.Context, job executor.Job, collect func(io.Reader) error) (executor.Files, error) {
	fmt.Fprintf(job.Log, "building %s of build %s\n", job.Cell.Artifact, c.build)
	return executor.Files{}, collect(bytes.NewReader(treeTar(job.Cell.Artifact + " of build " + c.build)))
}

// firstRun returns a directory where run "first" built and recorded a.tar.gz and
// b.tar.gz, for replaceRun to copy.
func firstRun(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	opts := Options{OutDir: dir, Jobs: 1, RunID: "first"}
	if _, err := readAndRun(context.Background(), []executor.Executor{&changingExec{&fakeExec{}, "first"}}, cells("a.tar.gz", "b.tar.gz"), opts); err != nil {
		t.Fatal(err)
	}
	return dir
}

// replaceRun is the run under test: into a copy of the directory of firstRun, run
// "second" rebuilds a.tar.gz (other bytes), builds c.tar.gz (new) and carries
// b.tar.gz over, one cell at a time (so that its steps come in one order), with fault
// as atomicfile.Fault. It returns the copy and the second run's error.
func replaceRun(t *testing.T, first string, fault func(step, path string) error) (string, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(first)); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadRecords(dir)
	if err != nil {
		t.Fatal(err)
	}
	atomicfile.Fault = fault
	defer func() { atomicfile.Fault = nil }()
	opts := Options{OutDir: dir, Jobs: 1, RunID: "second"}
	_, err = Run(context.Background(), []executor.Executor{&changingExec{&fakeExec{}, "second"}}, cells("a.tar.gz", "c.tar.gz"), recs, opts)
	return dir, err
}

// TestRunArtifactsAndRecordsAgreeAtEachStep fails each step that the run of
// replaceRun takes on the disk, in turn: once as a failing disk (that step fails, the
// rest run), once as a crash (nothing from that step on reaches the disk), each on a
// file system with hard links and on one without. After a failing step the artifacts
// on disk are the ones the record lists (verify passes, an artifact is on disk when
// and only when it is recorded), with no step of the next run needed. After a crash,
// verify explains each problem with how to finish it, and after what the next run
// does first the same holds, with no temporary left. Before undo entries, a failure
// between publishing a.tar.gz and committing the records left the new a.tar.gz beside
// records of the old one.
func TestRunArtifactsAndRecordsAgreeAtEachStep(t *testing.T) {
	for _, links := range []bool{true, false} {
		noLinks := func(step string) error {
			if step == "link" && !links {
				return syscall.EPERM
			}
			return nil
		}
		first := firstRun(t)
		var mu sync.Mutex
		count := 0
		if _, err := replaceRun(t, first, func(step, _ string) error {
			mu.Lock()
			defer mu.Unlock()
			count++
			return noLinks(step)
		}); err != nil {
			t.Fatal(err)
		}
		t.Logf("links %v: %d steps", links, count)
		if count < 20 {
			t.Fatalf("the run took %d steps, want at least 20", count)
		}
		for _, crash := range []bool{false, true} {
			for n := range count {
				var failedStep string
				calls := 0
				dir, err := replaceRun(t, first, func(step, path string) error {
					mu.Lock()
					defer mu.Unlock()
					calls++
					if calls == n+1 {
						failedStep = fmt.Sprintf("step %d (%s %s)", n+1, step, filepath.Base(path))
					}
					if calls == n+1 || crash && calls > n+1 {
						return syscall.ENOSPC
					}
					return noLinks(step)
				})
				name := fmt.Sprintf("links %v, %s %s", links, map[bool]string{false: "failing", true: "crashing"}[crash], failedStep)
				// Only a sync after a rename (a warning), the removal of a temporary
				// (done again by the next run), a link (a rename instead) or writing
				// report.html (said; the records stand) may fail and the run succeed.
				if err == nil && !crash && failedStep != "" && !strings.Contains(failedStep, "syncdir") &&
					!strings.Contains(failedStep, "remove") && !strings.Contains(failedStep, "link") &&
					!strings.Contains(failedStep, "report.html") {
					t.Errorf("%s: the run succeeded", name)
				}
				if !crash {
					assertArtifactsAgree(t, dir, name, false)
					continue
				}
				rep, verr := manifest.Verify(context.Background(), dir)
				if verr != nil {
					t.Fatalf("%s: verify: %v", name, verr)
				}
				explained := map[string]bool{}
				for _, p := range rep.Problems {
					explained[p.File] = explained[p.File] || strings.Contains(p.Reason, "the next matrix run")
				}
				for _, p := range rep.Problems {
					if !explained[p.File] {
						t.Errorf("%s: verify before the next run: %s, with no word on how to finish", name, p)
					}
				}
				var progress bytes.Buffer
				if _, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, nil, Options{OutDir: dir, RunID: "next", Progress: &progress}); err != nil {
					t.Fatalf("%s: the next run: %v", name, err)
				}
				assertArtifactsAgree(t, dir, name+", then the next run", true)
			}
		}
	}
}

// assertArtifactsAgree checks the directory of replaceRun: verify finds no problem,
// each artifact is on disk when and only when the record lists it, a.tar.gz is the
// build of the run that its record names, and, when clean, no temporary is left.
func assertArtifactsAgree(t *testing.T, dir, name string, clean bool) {
	t.Helper()
	rep, err := manifest.Verify(context.Background(), dir)
	if err != nil || len(rep.Problems) > 0 {
		t.Errorf("%s: verify: %v %v", name, rep.Problems, err)
	}
	rec, err := manifest.ReadRecord(dir)
	if err != nil || rec.Manifest == nil {
		t.Fatalf("%s: record: %v", name, err)
	}
	recorded := map[string]manifest.Artifact{}
	for _, a := range rec.Manifest.Artifacts {
		recorded[a.File] = a
	}
	for _, file := range []string{"a.tar.gz", "b.tar.gz", "c.tar.gz"} {
		_, statErr := os.Lstat(filepath.Join(dir, file))
		if _, ok := recorded[file]; ok != (statErr == nil) {
			t.Errorf("%s: %s recorded %v, on disk: %v", name, file, ok, statErr)
		}
	}
	if a, ok := recorded["a.tar.gz"]; !ok || a.RunID != "first" && a.RunID != "second" {
		t.Errorf("%s: a.tar.gz recorded as %+v", name, a)
	} else if log, err := os.ReadFile(filepath.Join(dir, a.Log)); err != nil || !strings.Contains(string(log), "building a.tar.gz of build "+a.RunID+"\n") {
		// The log goes with its artifact: one taken back takes its log back too.
		t.Errorf("%s: a.tar.gz, built by run %s, has the log %q (%v)", name, a.RunID, log, err)
	}
	if _, ok := recorded["b.tar.gz"]; !ok {
		t.Errorf("%s: b.tar.gz, carried over, is no longer recorded", name)
	}
	if clean {
		assertClean(t, dir)
		if len(rep.Notes) > 0 || rep.Pending != "" {
			t.Errorf("%s: verify notes %v, pending %q", name, rep.Notes, rep.Pending)
		}
	}
}

// TestRunUndoesWhatItCouldNotRecord: a run whose records cannot be written (the
// disk full at manifest.json's temporary) puts back the earlier artifact it
// replaced, removes the one it built where there was none, says so, and fails naming
// the records; OUT is as before the run, with no temporary left.
func TestRunUndoesWhatItCouldNotRecord(t *testing.T) {
	first := firstRun(t)
	before, err := os.ReadFile(filepath.Join(first, "a.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := replaceRun(t, first, func(step, path string) error {
		if step == "create" && strings.HasPrefix(filepath.Base(path), "."+manifest.FileName+".tmp-") {
			return syscall.ENOSPC
		}
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "recording the run") {
		t.Fatalf("err = %v, want the records' failure", err)
	}
	if now, _ := os.ReadFile(filepath.Join(dir, "a.tar.gz")); !bytes.Equal(now, before) {
		t.Error("a.tar.gz is not the earlier build")
	}
	if _, err := os.Lstat(filepath.Join(dir, "c.tar.gz")); err == nil {
		t.Error("c.tar.gz, built but not recorded, is still there")
	}
	assertArtifactsAgree(t, dir, "records failing", true)
}

// TestRunRecordsOverWhatIsNotARegularFile: an artifact's name held by a link when the
// run replaces it is not kept (never followed); the replacement is recorded, and no
// undo entry is left.
func TestRunRecordsOverWhatIsNotARegularFile(t *testing.T) {
	opts := options(t)
	outside := filepath.Join(t.TempDir(), "outside")
	os.WriteFile(outside, []byte("outside\n"), 0o644)
	if err := os.Symlink(outside, filepath.Join(opts.OutDir, "a.tar.gz")); err != nil {
		t.Fatal(err)
	}
	if _, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, []plan.Cell{cells("a.tar.gz")[0]}, opts); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Lstat(filepath.Join(opts.OutDir, "a.tar.gz")); err != nil || !info.Mode().IsRegular() {
		t.Errorf("a.tar.gz: %v, %v", info, err)
	}
	if data, _ := os.ReadFile(outside); string(data) != "outside\n" {
		t.Errorf("written through the link: %q", data)
	}
	assertClean(t, opts.OutDir)
}
