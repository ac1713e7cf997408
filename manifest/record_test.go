package manifest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/internal/atomicfile"
)

// artifactIn writes an artifact file into dir and returns its record.
func artifactIn(t *testing.T, dir, name, content string) Artifact {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(content))
	return Artifact{File: name, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(content))}
}

// TestWriteIsOneUnit writes a new pair over an earlier one and fails each step of
// Write in turn, once as a failing disk (that step fails, the rest runs) and once as
// a crash (nothing from that step on reaches the disk). Whatever the step, the
// directory's record is then the earlier pair or the new one, possibly pending, and
// after what the next run does (Complete, then the clean-up of temporaries) the pair
// on disk verifies.
func TestWriteIsOneUnit(t *testing.T) {
	count := 0
	atomicfile.Fault = func(string, string) error { count++; return nil }
	writePair(t)
	atomicfile.Fault = nil
	if count < 9 {
		t.Fatalf("Write took %d steps, want at least 9", count)
	}
	for _, crash := range []bool{false, true} {
		for n := range count {
			var step string
			var stepPath string
			calls := 0
			atomicfile.Fault = func(s, path string) error {
				calls++
				if calls == n+1 {
					step, stepPath = s, path
				}
				if calls == n+1 || crash && calls > n+1 {
					return syscall.ENOSPC
				}
				return nil
			}
			dir, err := writePair(t)
			atomicfile.Fault = nil
			name := func() string {
				return "step " + step + " " + filepath.Base(stepPath) + map[bool]string{false: " failing", true: " crashing"}[crash]
			}

			rec, rerr := ReadRecord(dir)
			if rerr != nil {
				t.Fatalf("%s: ReadRecord: %v", name(), rerr)
			}
			got := rec.Manifest.RunID
			if err == nil && got != "new" {
				t.Errorf("%s: Write succeeded, and the record is run %s", name(), got)
			}
			if err != nil && !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("%s: err = %v, want the disk's error", name(), err)
			}
			if sha256Hex(rec.Sums) != rec.Manifest.sumsSHA256() {
				t.Errorf("%s: the record read is torn: SHA256SUMS %q with manifest of run %s", name(), rec.Sums, got)
			}
			if !crash && rec.Pending != "" && (step != "rename" || !strings.HasSuffix(stepPath, FileName)) && step != "syncdir" {
				t.Errorf("%s: a failing step left the record pending", name())
			}
			// The next run: complete, then clean up.
			if err := rec.Complete(); err != nil {
				t.Fatalf("%s: Complete: %v", name(), err)
			}
			removeTemps(t, dir)
			m, err := Read(dir)
			if err != nil || m.RunID != got {
				t.Fatalf("%s: manifest.json after completing: %+v, %v; want run %s", name(), m, err, got)
			}
			rep, err := Verify(context.Background(), dir)
			if err != nil || len(rep.Problems) > 0 || rep.Pending != "" {
				t.Errorf("%s: verify after completing: %+v, %v", name(), rep, err)
			}
		}
	}
}

// writePair writes a pair of run "old" listing a.tar.gz into a new directory, then
// the pair of run "new" listing a.tar.gz and b.tar.gz, and returns the directory and
// the second Write's error.
func writePair(t *testing.T) (string, error) {
	t.Helper()
	dir := t.TempDir()
	a, b := artifactIn(t, dir, "a.tar.gz", "aaa"), artifactIn(t, dir, "b.tar.gz", "bbb")
	fault := atomicfile.Fault
	atomicfile.Fault = nil
	if err := Write(dir, &Manifest{RunID: "old", Artifacts: []Artifact{a}}); err != nil {
		t.Fatal(err)
	}
	atomicfile.Fault = fault
	return dir, Write(dir, &Manifest{RunID: "new", Artifacts: []Artifact{a, b}})
}

func removeTemps(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if atomicfile.IsTemp(e.Name()) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// TestVerifyTakesThePendingManifest: between the two renames, verify checks against
// the manifest the writer left complete, says so, and finds no problem; a SHA256SUMS
// that belongs to no manifest is a problem.
func TestVerifyTakesThePendingManifest(t *testing.T) {
	atomicfile.Fault = func(step, path string) error {
		if step == "rename" && strings.HasSuffix(path, FileName) {
			return syscall.EIO
		}
		return nil
	}
	dir, err := writePair(t)
	atomicfile.Fault = nil
	if err == nil || !strings.Contains(err.Error(), "the next matrix run puts it in place") {
		t.Fatalf("err = %v, want the pending record explained", err)
	}
	rep, err := Verify(context.Background(), dir)
	if err != nil || len(rep.Problems) > 0 || !atomicfile.IsTempOf(rep.Pending, FileName) || rep.Checked != 2 {
		t.Errorf("verify: %+v, %v; want the pending manifest's 2 artifacts checked", rep, err)
	}
	if m, err := Read(dir); err != nil || m.RunID != "old" {
		t.Errorf("manifest.json: %+v, %v; want the earlier one until a run completes", m, err)
	}

	removeTemps(t, dir) // what only a hand would do
	rep, err = Verify(context.Background(), dir)
	if err != nil || len(rep.Problems) == 0 || !strings.HasPrefix(rep.Problems[0].String(), "SHA256SUMS: does not belong to manifest.json") {
		t.Errorf("verify of a torn pair: %+v, %v", rep, err)
	}
}

// TestVerifyReadsAnOlderManifest: a manifest written before it recorded the sha256 of
// its SHA256SUMS belongs with the SHA256SUMS made of its artifacts.
func TestVerifyReadsAnOlderManifest(t *testing.T) {
	dir := t.TempDir()
	a := artifactIn(t, dir, "a.tar.gz", "aaa")
	os.WriteFile(filepath.Join(dir, SumsName), []byte(a.SHA256+"  a.tar.gz\n"), 0o644)
	old := `{"schema_version": 1, "tool": "matrix", "artifacts": [{"file": "a.tar.gz", "sha256": "` + a.SHA256 + `", "size": 3}], "failed": []}`
	os.WriteFile(filepath.Join(dir, FileName), []byte(old), 0o644)
	if rep, err := Verify(context.Background(), dir); err != nil || len(rep.Problems) > 0 || rep.Checked != 1 {
		t.Errorf("verify: %+v, %v", rep, err)
	}
}

// TestVerifyRefusesWhatIsNotARegularFile: an artifact that is a fifo, a link to a
// device or a link to a file elsewhere is a problem found at once, never opened; a
// SHA256SUMS or a manifest that is a fifo or a link cannot be verified.
func TestVerifyRefusesWhatIsNotARegularFile(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "outside")
	os.WriteFile(outside, []byte("aaa"), 0o644)
	plant := map[string]func(path string) error{
		"fifo":        func(path string) error { return syscall.Mkfifo(path, 0o644) },
		"device link": func(path string) error { return os.Symlink("/dev/zero", path) },
		"link out":    func(path string) error { return os.Symlink(outside, path) },
	}
	for what, make := range plant {
		t.Run(what, func(t *testing.T) {
			dir := writeRun(t, map[string]string{"a.tar.gz": "aaa"})
			os.Remove(filepath.Join(dir, "a.tar.gz"))
			if err := make(filepath.Join(dir, "a.tar.gz")); err != nil {
				t.Fatal(err)
			}
			rep, err := verifyWithin(t, dir)
			if err != nil || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].Reason, "not a regular file") {
				t.Errorf("verify: %+v, %v", rep, err)
			}
			for _, name := range []string{SumsName, FileName} {
				dir := writeRun(t, map[string]string{"a.tar.gz": "aaa"})
				os.Remove(filepath.Join(dir, name))
				if err := make(filepath.Join(dir, name)); err != nil {
					t.Fatal(err)
				}
				if _, err := verifyWithin(t, dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
					t.Errorf("%s as a %s: err = %v", name, what, err)
				}
			}
		})
	}
}

// verifyWithin verifies dir, failing the test if that takes more than 10 seconds.
func verifyWithin(t *testing.T, dir string) (Report, error) {
	t.Helper()
	type result struct {
		rep Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := Verify(context.Background(), dir)
		done <- result{rep, err}
	}()
	select {
	case r := <-done:
		return r.rep, r.err
	case <-time.After(10 * time.Second):
		t.Fatalf("verify %s still runs after 10 s", dir)
		return Report{}, nil
	}
}

// TestReadRefusesAManifestOverTheBound: manifest.json is read only up to MaxSize.
func TestReadRefusesAManifestOverTheBound(t *testing.T) {
	dir := t.TempDir()
	f, _ := os.Create(filepath.Join(dir, FileName))
	f.Truncate(MaxSize + 1) // sparse: costs nothing
	f.Close()
	if _, err := Read(dir); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("err = %v", err)
	}
}
