package runner

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/manifest"
)

// TestRunRefusesArtifactNamesThatAreNotPlain: plan.Cell also comes from JSON, so the
// runner applies the file-name rule itself. A cell whose artifact is not a plain file
// name fails before anything of it touches the disk: no artifact, log or temporary
// file anywhere, inside the output directory or out of it; the other cells build.
func TestRunRefusesArtifactNamesThatAreNotPlain(t *testing.T) {
	bad := []string{"../../evil.tar.gz", "../evil.tar.gz", "sub/evil.tar.gz", `..\evil.tar.gz`, ".hidden.tar.gz", "", "..", "-rf.tar.gz", "evil\x1b[2J.tar.gz"}
	base := t.TempDir()
	opts := options(t)
	opts.OutDir = filepath.Join(base, "a", "b", "out")
	opts.KeepGoing = true
	cs := cells(append(slices.Clone(bad), "good.tar.gz")...)
	exec := &fakeExec{}
	results, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts)
	var runErr *RunError
	if !errors.As(err, &runErr) || runErr.Failed != len(bad) {
		t.Fatalf("err = %v, want %d cells failed", err, len(bad))
	}
	for i, name := range bad {
		if results[i].Err == nil || !strings.Contains(results[i].Err.Error(), "is not a plain file name") {
			t.Errorf("%q: err = %v, want the file-name rule", name, results[i].Err)
		}
		if n := exec.calls(name); n != 0 {
			t.Errorf("%q: built %d times", name, n)
		}
	}
	if last := results[len(bad)]; last.Err != nil {
		t.Errorf("the good cell failed: %v", last.Err)
	}

	// Everything below base is the output directory's, and in it only the good cell's.
	var found []string
	filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(base, path)
		found = append(found, filepath.ToSlash(rel))
		return err
	})
	want := []string{".", "a", "a/b", "a/b/out", "a/b/out/.matrix.lock", "a/b/out/SHA256SUMS",
		"a/b/out/good.tar.gz", "a/b/out/logs", "a/b/out/logs/good.tar.gz.log", "a/b/out/manifest.json", "a/b/out/report.html"}
	if !slices.Equal(found, want) {
		t.Errorf("files below %s:\n%s\nwant:\n%s", base, strings.Join(found, "\n"), strings.Join(want, "\n"))
	}

	m, err := manifest.Read(opts.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Failed) != len(bad) {
		t.Fatalf("manifest failed = %+v", m.Failed)
	}
	for _, f := range m.Failed {
		if f.Log != "" {
			t.Errorf("%q: the manifest points at log %q, which was never written", f.Artifact, f.Log)
		}
	}
}

// TestRunRefusesDuplicateArtifacts: two cells of one run that would write the same
// file (also in another case: they collide on case-insensitive file systems) stop the
// run before anything is built or written, naming both cells. Skipped cells make no
// artifact and never collide.
func TestRunRefusesDuplicateArtifacts(t *testing.T) {
	tests := []struct {
		name  string
		names []string
		want  []string
	}{
		{"same name", []string{"a.tar.gz", "b.tar.gz", "a.tar.gz"},
			[]string{`cells t[i=0] and t[i=2] both produce the artifact "a.tar.gz"`}},
		{"names differing in case", []string{"a.tar.gz", "b.tar.gz", "A.TAR.gz"},
			[]string{`cell t[i=0] produces "a.tar.gz" and cell t[i=2] produces "A.TAR.gz": the names differ only in case`}},
		{"two pairs", []string{"a.tar.gz", "b.tar.gz", "B.tar.gz", "a.tar.gz"},
			[]string{`t[i=1] produces "b.tar.gz" and cell t[i=2] produces "B.tar.gz"`, `cells t[i=0] and t[i=3] both produce the artifact "a.tar.gz"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := options(t)
			opts.KeepGoing = true
			cs := cells(tc.names...)
			cs = append(cs, skipped(len(cs), "no"), skipped(len(cs)+1, "no"))
			exec := &fakeExec{}
			results, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts)
			if err == nil {
				t.Fatal("a run with duplicate artifact names went ahead")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v\nwant %q in it", err, w)
				}
			}
			if results != nil || len(exec.builds) != 0 {
				t.Errorf("built before refusing: %v", exec.builds)
			}
			if entries, _ := os.ReadDir(opts.OutDir); len(entries) > 0 {
				t.Errorf("the refused run wrote %v", entries)
			}
		})
	}
}
