package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/manifest"
)

// TestReportCommand: matrix report DIR writes DIR/report.html of DIR's manifest (or
// elsewhere with -o, stdout with -o -); an axis no cell has is wrong usage (exit 2),
// its name escaped; a directory without records is a problem (exit 1). --format
// markdown prints the run's table of cells for a job summary.
func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	m := &manifest.Manifest{RunID: "r1", Artifacts: []manifest.Artifact{{File: "a.tar.gz", RunID: "r1", Target: "t",
		Axes: []manifest.Axis{{Name: "n\x1b[2J", Value: float64(1)}}, SHA256: strings.Repeat("a", 64)}}}
	if err := manifest.Write(dir, m); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "page.html")
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
		file   string // written
	}{
		{[]string{"report", dir}, 0, "", "matrix: wrote " + filepath.Join(dir, "report.html"), filepath.Join(dir, "report.html")},
		{[]string{"report", dir, "-o", other}, 0, "", "matrix: wrote " + other, other},
		{[]string{"report", dir, "-o", "-"}, 0, `data-cell="t[n\x1b[2J=1]"`, "", ""},
		{[]string{"report", dir, "--rows", "nope"}, 2, "", `no cell has the axis "nope" for the rows (the axes: n\x1b[2J)`, ""},
		{[]string{"report", t.TempDir()}, 1, "", "no manifest.json there", ""},
		{[]string{"report", "--format", "markdown", dir}, 0, "### matrix: 1 built, 0 reused, 0 failed in 0s; " + filepath.Join(dir, "manifest.json"), "", ""},
		{[]string{"report", "--format", "markdown", dir}, 0, "| built | a.tar.gz | ", "", ""},
		{[]string{"report", "--format", "pdf", dir}, 2, "", `--format "pdf": want html or markdown`, ""},
		{[]string{"report", "a", "b"}, 2, "", "accepts at most 1 arg", ""},
	} {
		if tc.file != "" {
			os.Remove(tc.file)
		}
		code, stdout, stderr := runCmd(t, tc.args...)
		if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%q: exit %d, stdout %.200q, stderr %q; want %d, %q, %q", tc.args, code, stdout, stderr, tc.code, tc.stdout, tc.stderr)
		}
		if strings.Contains(stderr, "\x1b") {
			t.Errorf("%q: stderr holds a raw ESC: %q", tc.args, stderr)
		}
		if tc.file != "" {
			if data, err := os.ReadFile(tc.file); err != nil || !strings.Contains(string(data), `data-state="built"`) {
				t.Errorf("%q: %s: %v", tc.args, tc.file, err)
			}
		}
	}
}
