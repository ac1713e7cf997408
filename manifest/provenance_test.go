package manifest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/matrixbuild/matrix/internal/atomicfile"
)

// statementOf is a minimal statement of artifacts (what matchSubjects reads), with
// run to tell statements apart.
func statementOf(run string, artifacts ...Artifact) []byte {
	var subjects []string
	for _, a := range sorted(artifacts) {
		subjects = append(subjects, fmt.Sprintf(`{"name":%q,"digest":{"sha256":%q}}`, a.File, a.SHA256))
	}
	return []byte(fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v1","subject":[%s],"run":%q}`+"\n", strings.Join(subjects, ","), run))
}

// writeWithProvenance is writePair with a statement written with each pair.
func writeWithProvenance(t *testing.T) (string, error) {
	t.Helper()
	dir := t.TempDir()
	a, b := artifactIn(t, dir, "a.tar.gz", "aaa"), artifactIn(t, dir, "b.tar.gz", "bbb")
	fault := atomicfile.Fault
	atomicfile.Fault = nil
	if err := WriteWithProvenance(dir, &Manifest{RunID: "old", Artifacts: []Artifact{a}}, statementOf("old", a)); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, SignatureName), []byte("signature of old"), 0o644)
	atomicfile.Fault = fault
	return dir, WriteWithProvenance(dir, &Manifest{RunID: "new", Artifacts: []Artifact{a, b}}, statementOf("new", a, b))
}

// TestProvenanceIsPartOfTheUnit: the statement is written with the pair as one unit.
// Each step failed in turn, as a failing disk and as a crash: the record read, once
// completed as the next run completes it, has the statement of its own run beside
// it (verify finds no problem), never the other run's; the earlier signature goes
// once the new statement is in place.
func TestProvenanceIsPartOfTheUnit(t *testing.T) {
	count := 0
	atomicfile.Fault = func(string, string) error { count++; return nil }
	writeWithProvenance(t)
	atomicfile.Fault = nil
	for _, crash := range []bool{false, true} {
		for n := range count {
			calls := 0
			step := ""
			atomicfile.Fault = func(s, path string) error {
				calls++
				if calls == n+1 {
					step = s + " " + filepath.Base(path)
				}
				if calls == n+1 || crash && calls > n+1 {
					return syscall.ENOSPC
				}
				return nil
			}
			dir, err := writeWithProvenance(t)
			atomicfile.Fault = nil
			name := fmt.Sprintf("step %d (%s), crash %v", n, step, crash)
			if err != nil && !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("%s: %v", name, err)
			}
			rec, err := ReadRecord(dir)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			run := rec.Manifest.RunID
			if err := rec.Complete(); err != nil {
				t.Fatalf("%s: Complete: %v", name, err)
			}
			removeTemps(t, dir)
			rep, err := Verify(context.Background(), dir)
			if err != nil || len(rep.Problems) > 0 {
				t.Errorf("%s: verify after completing: %+v, %v", name, rep, err)
			}
			prov, _ := os.ReadFile(filepath.Join(dir, ProvenanceName))
			if !strings.Contains(string(prov), `"run":"`+run+`"`) {
				t.Errorf("%s: the record is run %s's, the statement %s", name, run, prov)
			}
			if _, err := os.Stat(filepath.Join(dir, SignatureName)); run == "old" && err != nil {
				t.Errorf("%s: the signature of the statement that stands: %v", name, err)
			}
		}
	}
	dir, err := writeWithProvenance(t)
	if _, serr := os.Stat(filepath.Join(dir, SignatureName)); err != nil || !os.IsNotExist(serr) {
		t.Errorf("a new statement kept the earlier signature: %v, %v", err, serr)
	}
}

// TestVerifyFindsAnEditedStatement: a statement that is not the one the manifest
// records is a problem that says so.
func TestVerifyFindsAnEditedStatement(t *testing.T) {
	dir, err := writeWithProvenance(t)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, ProvenanceName)
	data, _ := os.ReadFile(path)
	os.WriteFile(path, []byte(strings.Replace(string(data), "new", "NEW", 1)), 0o644)
	rep, err := Verify(context.Background(), dir)
	if err != nil || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].String(), "provenance.intoto.jsonl: does not belong to manifest.json") {
		t.Errorf("verify: %+v, %v", rep.Problems, err)
	}
}

// TestRecordWithoutStatementRemovesTheEarlierOne: records written without a statement
// (a run that built nothing) remove the earlier statement and signature, which would
// disagree with the new SHA256SUMS; one found beside such records is a problem.
func TestRecordWithoutStatementRemovesTheEarlierOne(t *testing.T) {
	dir, err := writeWithProvenance(t)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, SignatureName), []byte("sig"), 0o644)
	if err := Write(dir, &Manifest{RunID: "empty"}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{ProvenanceName, SignatureName} {
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("%s is still there: %v", name, err)
		}
	}
	os.WriteFile(filepath.Join(dir, ProvenanceName), statementOf("stale"), 0o644)
	rep, err := Verify(context.Background(), dir)
	if err != nil || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].String(), "records no statement") {
		t.Errorf("verify: %+v, %v", rep.Problems, err)
	}
}
