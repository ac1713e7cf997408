package manifest

import (
	"crypto/sha256"
	"encoding/hex"
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
		}, []string{"extra.tar.gz: listed in SHA256SUMS but not in manifest.json"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeRun(t, map[string]string{"a.tar.gz": "aaa", "b.tar.gz": "bbb"})
			tc.damage(dir)
			checked, problems, err := Verify(dir)
			if err != nil {
				t.Fatal(err)
			}
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
