package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/manifest"
)

// statementHook is an Options.Provenance that writes the subjects of m and the lock
// files it was given, as a statement would.
func statementHook(got *map[string]executor.Files) func(*manifest.Manifest, map[string]executor.Files) ([]byte, error) {
	return func(m *manifest.Manifest, lockFiles map[string]executor.Files) ([]byte, error) {
		*got = lockFiles
		var subjects []string
		for _, a := range m.Artifacts {
			subjects = append(subjects, fmt.Sprintf(`{"name":%q,"digest":{"sha256":%q}}`, a.File, a.SHA256))
		}
		// The runner hands over m before sorting: so does the real hook, which sorts.
		return []byte(`{"subject":[` + strings.Join(sortedSubjects(subjects), ",") + `]}` + "\n"), nil
	}
}

func sortedSubjects(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// TestRunWritesProvenanceWithRecords: a run with a Provenance hook writes its
// statement with the records (the manifest records its sha256), handing the hook the
// lock files of the cells it built; a hook that fails is an error of the records:
// nothing is recorded and the artifacts the run put in place are taken back.
func TestRunWritesProvenanceWithRecords(t *testing.T) {
	opts := options(t)
	var lockFiles map[string]executor.Files
	opts.Provenance = statementHook(&lockFiles)
	cs := cells("b.tar.gz", "a.tar.gz")
	cs[0].LockFiles = []string{"package-lock.json"}
	if _, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cs, opts); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Read(opts.OutDir)
	if err != nil || m.ProvenanceSHA256 == "" {
		t.Fatalf("manifest %+v, %v", m, err)
	}
	if _, err := os.Stat(filepath.Join(opts.OutDir, manifest.ProvenanceName)); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(lockFiles["b.tar.gz"]["package-lock.json"]), "lock of b.tar.gz") {
		t.Errorf("lock files handed to the hook: %q", lockFiles)
	}
	if rep, err := manifest.Verify(context.Background(), opts.OutDir); err != nil || len(rep.Problems) > 0 {
		t.Errorf("verify: %+v, %v", rep.Problems, err)
	}

	failing := options(t)
	failing.Provenance = func(*manifest.Manifest, map[string]executor.Files) ([]byte, error) {
		return nil, errors.New("no statement today")
	}
	_, err = readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cells("c.tar.gz"), failing)
	var recErr *RecordError
	if !errors.As(err, &recErr) || !strings.Contains(err.Error(), "making provenance.intoto.jsonl: no statement today") {
		t.Fatalf("err = %v, want a RecordError saying why", err)
	}
	if entries := artifactsOnDisk(t, failing.OutDir); len(entries) != 0 {
		t.Errorf("artifacts left without a record: %v", entries)
	}
	assertClean(t, failing.OutDir)
}
