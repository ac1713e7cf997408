package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/manifest"
)

// TestVerifyExitCodes: 0 when every recorded artifact verifies and there is nothing
// else; 3 when they verify but the directory holds what no record lists (the tool's
// own files and temporaries aside) or the last run failed cells, each named; 1 when a
// recorded artifact does not verify; 2 for wrong usage.
func TestVerifyExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		change  func(dir string, m *manifest.Manifest)
		code    int
		stderrs []string
	}{
		{"clean", nil, 0, nil},
		{"the tool's own files", func(dir string, m *manifest.Manifest) {
			os.WriteFile(filepath.Join(dir, ".matrix.lock"), nil, 0o644)
			os.WriteFile(filepath.Join(dir, ".a.tar.gz.tmp-123"), nil, 0o644)
			os.WriteFile(filepath.Join(dir, "logs", "gone.tar.gz.log"), nil, 0o644)
		}, 0, nil},
		{"unlisted files", func(dir string, m *manifest.Manifest) {
			os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o644)
			os.Mkdir(filepath.Join(dir, "old"), 0o755)
		}, 3, []string{"notes.txt: not recorded", "old/: not recorded", "2 entries no record lists"}},
		{"failed cells", func(dir string, m *manifest.Manifest) {
			m.Failed = []manifest.Failure{{Artifact: "b.tar.gz", Error: "script exited with status 1\nmore", Log: "logs/b.tar.gz.log"}}
		}, 3, []string{"b.tar.gz: failed in run r1: script exited with status 1 ... (logs/b.tar.gz.log)", "1 failed cell in the last run"}},
		{"changed artifact", func(dir string, m *manifest.Manifest) {
			os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o644)
			os.WriteFile(filepath.Join(dir, "a.tar.gz"), []byte("other"), 0o644)
		}, 1, []string{"a.tar.gz: changed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.Mkdir(filepath.Join(dir, "logs"), 0o755)
			data := []byte("artifact")
			sum := sha256.Sum256(data)
			os.WriteFile(filepath.Join(dir, "a.tar.gz"), data, 0o644)
			m := &manifest.Manifest{RunID: "r1", Artifacts: []manifest.Artifact{{File: "a.tar.gz", SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data))}}}
			if tc.change != nil {
				tc.change(dir, m)
			}
			if err := manifest.Write(dir, m); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := runCmd(t, "verify", dir)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, stderr)
			}
			for _, want := range tc.stderrs {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
		})
	}
	if code, _, _ := runCmd(t, "verify", "a", "b"); code != 2 {
		t.Errorf("two directories: exit %d, want 2", code)
	}
}

// TestVerifyEscapesNamesFromTheDirectory: the names a manifest or SHA256SUMS lists
// and the text verify reports about them come from the directory: controls (ESC,
// OSC, C1 CSI, newlines) and bidi overrides in them are printed escaped, never raw.
func TestVerifyEscapesNamesFromTheDirectory(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "logs"), 0o755)
	hostile := []string{"\x1b]0;PWNED\x07x.tar.gz", "\u202eevil.tar.gz", "\u009b2Jc1.tar.gz", "new\nline.tar.gz"}
	m := &manifest.Manifest{RunID: "r1\x1b[2J"}
	for _, name := range hostile {
		m.Artifacts = append(m.Artifacts, manifest.Artifact{File: name, SHA256: strings.Repeat("a", 64), Size: 1})
	}
	m.Failed = []manifest.Failure{{Artifact: "\u202ef.tar.gz", Error: "\x1b[31mred"}}
	if err := manifest.Write(dir, m); err != nil {
		t.Fatal(err)
	}
	// SHA256SUMS names what the manifest lists; rewrite it without the newline name,
	// whose line the format cannot hold, and with one more hostile name.
	var sums strings.Builder
	for _, name := range append(hostile[:3], "\u202emore.tar.gz") {
		sums.WriteString(strings.Repeat("a", 64) + "  " + name + "\n")
	}
	os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(sums.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "\u202eunlisted\x1b[2J"), nil, 0o644)
	code, stdout, stderr := runCmd(t, "verify", dir)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{`\x1b]0;PWNED\x07x.tar.gz`, `\u202eevil.tar.gz`, `\u009b2Jc1.tar.gz`, `new\x0aline.tar.gz`, `\u202emore.tar.gz`, `\u202eunlisted\x1b[2J`} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if strings.ContainsAny(stdout+stderr, "\x1b\x07\u009b\u202e") || strings.Contains(stderr, "new\nline") {
		t.Errorf("raw controls in the output:\n%q", stderr)
	}
}
