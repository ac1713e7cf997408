package manifest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func writeRun(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	m := &Manifest{Tool: "matrix"}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(content))
		m.Artifacts = append(m.Artifacts, Artifact{File: name, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(content))})
	}
	if err := Write(dir, m); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name   string
		damage func(dir string)
		want   []string
	}{
		{"intact", func(string) {}, nil},
		{"missing", func(dir string) { os.Remove(filepath.Join(dir, "b.tar.gz")) }, []string{"b.tar.gz: missing"}},
		{"changed", func(dir string) { os.WriteFile(filepath.Join(dir, "a.tar.gz"), []byte("AAA"), 0o644) }, []string{"a.tar.gz: changed: sha256"}},
		{"sums lists more", func(dir string) {
			f, _ := os.OpenFile(filepath.Join(dir, SumsName), os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString(strings.Repeat("0", 64) + "  extra.tar.gz\n")
			f.Close()
		}, []string{"SHA256SUMS: does not belong to manifest.json", "extra.tar.gz: listed in SHA256SUMS but not in manifest.json"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeRun(t, map[string]string{"a.tar.gz": "aaa", "b.tar.gz": "bbb"})
			tc.damage(dir)
			rep, err := Verify(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			checked, problems := rep.Checked, rep.Problems
			if checked != 2 {
				t.Errorf("checked %d, want 2", checked)
			}
			if len(problems) != len(tc.want) {
				t.Fatalf("problems = %v, want %v", problems, tc.want)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(problems[i].String(), w) {
					t.Errorf("problem %d = %q, want prefix %q", i, problems[i], w)
				}
			}
		})
	}
}

func TestSumsAreSha256sumCompatible(t *testing.T) {
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("no sha256sum")
	}
	dir := writeRun(t, map[string]string{"b.tar.gz": "bbb", "a.zip": "aaa"})
	data, _ := os.ReadFile(filepath.Join(dir, SumsName))
	if lines := strings.Split(strings.TrimSpace(string(data)), "\n"); !strings.HasSuffix(lines[0], "  a.zip") {
		t.Errorf("SHA256SUMS not sorted: %q", data)
	}
	cmd := exec.Command("sha256sum", "-c", SumsName)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sha256sum -c: %v\n%s", err, out)
	}
}

func TestReadRefusesUnknownSchema(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, FileName), []byte(`{"schema_version": 99}`), 0o644)
	if _, err := Read(dir); err == nil || !strings.Contains(err.Error(), "schema_version 99") {
		t.Fatalf("err = %v", err)
	}
}

func TestWriteLeavesNoTemporaries(t *testing.T) {
	dir := writeRun(t, map[string]string{"a.tar.gz": "aaa"})
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary left: %s", e.Name())
		}
	}
}

func TestReadRefusesWhatIsNotAManifest(t *testing.T) {
	tests := []struct {
		name string
		make func(path string) error
		want string
	}{
		{"corrupt", func(path string) error { return os.WriteFile(path, []byte(`{"schema_version": 1,`), 0o644) }, "not a manifest"},
		{"newer schema", func(path string) error { return os.WriteFile(path, []byte(`{"schema_version": 2}`), 0o644) }, "schema_version 2, this tool reads 1"},
		{"directory", func(path string) error { return os.Mkdir(path, 0o755) }, "not a regular file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			if err := tc.make(path); err != nil {
				t.Fatal(err)
			}
			_, err := Read(dir)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q naming %s", err, tc.want, path)
			}
			if errors.Is(err, fs.ErrNotExist) {
				t.Errorf("err = %v reads as a missing manifest", err)
			}
		})
	}
	if _, err := Read(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing manifest: err = %v, want fs.ErrNotExist", err)
	}
}

// TestWriteLeavesItsArgumentAlone: Write sorts and versions what it writes, not the
// caller's manifest.
func TestWriteLeavesItsArgumentAlone(t *testing.T) {
	m := &Manifest{Tool: "matrix", Artifacts: []Artifact{{File: "b.tar.gz"}, {File: "a.tar.gz"}}}
	if err := Write(t.TempDir(), m); err != nil {
		t.Fatal(err)
	}
	if m.SchemaVersion != 0 || m.Artifacts[0].File != "b.tar.gz" || m.Artifacts[1].File != "a.tar.gz" {
		t.Errorf("Write changed its argument: %+v", m)
	}
}

// TestSkippedRoundTrip: skipped cells are written as an array, empty rather than
// null, and a manifest written before skip blocks existed reads with none.
func TestSkippedRoundTrip(t *testing.T) {
	dir := t.TempDir()
	m := &Manifest{Tool: "matrix", Skipped: []Skipped{{
		Cell: "t[sharp=0.35.5,node=18]", Target: "t",
		Axes:   []Axis{{Name: "sharp", Value: "0.35.5"}, {Name: "node", Value: float64(18)}},
		Reason: "sharp 0.35.5 needs Node.js >=20.9.0",
	}}}
	if err := Write(dir, m); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, FileName))
	if !strings.Contains(string(data), `"skipped": [
    {
      "cell": "t[sharp=0.35.5,node=18]",
      "target": "t",`) || !strings.Contains(string(data), `"reason": "sharp 0.35.5 needs Node.js >=20.9.0"`) {
		t.Errorf("manifest.json:\n%s", data)
	}
	got, err := Read(dir)
	if err != nil || len(got.Skipped) != 1 || got.Skipped[0].Reason != m.Skipped[0].Reason {
		t.Fatalf("read back: %+v, %v", got, err)
	}

	if err := Write(dir, &Manifest{Tool: "matrix"}); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, FileName)); !strings.Contains(string(data), `"skipped": []`) {
		t.Errorf("no skipped cells should be an empty array:\n%s", data)
	}
	old := `{"schema_version": 1, "tool": "matrix", "artifacts": [], "failed": []}`
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := Read(dir); err != nil || got.Skipped != nil {
		t.Errorf("an older manifest: %+v, %v", got, err)
	}
}
