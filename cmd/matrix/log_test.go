package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/progress"
)

// TestLogFlags: --log-format json writes the tool's own messages, its closing error
// included, as slog JSON records on stderr, the error's first line as the message and
// the rest as its detail; --log-level error keeps only errors; a bad value is a usage
// error.
func TestLogFlags(t *testing.T) {
	dir := t.TempDir()
	t.Run("json", func(t *testing.T) {
		code, _, stderr := runCmd(t, "--log-format", "json", "verify", dir)
		var rec struct {
			Level, Msg string
		}
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rec); err != nil || code != 1 || rec.Level != "ERROR" || !strings.Contains(rec.Msg, "manifest.json") {
			t.Errorf("exit %d, stderr %q (%v); want a JSON error record naming manifest.json", code, stderr, err)
		}
	})
	t.Run("text", func(t *testing.T) {
		code, _, stderr := runCmd(t, "verify", dir)
		if code != 1 || !strings.HasPrefix(stderr, "matrix: ") || strings.Contains(stderr, "{") {
			t.Errorf("exit %d, stderr %q; want matrix: lines", code, stderr)
		}
	})
	for _, args := range [][]string{{"--log-level", "loud", "verify", dir}, {"--log-format", "xml", "verify", dir}} {
		code, _, stderr := runCmd(t, args...)
		if code != exitUsage || !strings.Contains(stderr, args[0]) {
			t.Errorf("%v: exit %d, stderr %q; want a usage error naming the flag", args, code, stderr)
		}
	}
}

// TestLogErrorJSONEscapesBidi: a bidi override in an error reaches the JSON record as
// a \u escape, not raw.
func TestLogErrorJSONEscapesBidi(t *testing.T) {
	var stderr strings.Builder
	l, err := logFlags{level: "info", format: "json"}.logger(&stderr)
	if err != nil {
		t.Fatal(err)
	}
	logError(l, errString("cell \u202egz.exe failed\nlast line \x1b[2J"))
	if strings.ContainsAny(stderr.String(), "\u202e\x1b") || !strings.Contains(stderr.String(), `\u202e`) || !strings.Contains(stderr.String(), `"detail":"last line \u001b[2J"`) {
		t.Errorf("record %q", stderr.String())
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// TestProgressFlagsChecked: a bad --progress, or --progress-file without json, is a
// usage error before anything is read, connected or written.
func TestProgressFlagsChecked(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--progress", "fancy", "--out", dir + "/out", dir + "/none.hcl"}, `--progress "fancy": want auto, tty, plain or json`},
		{[]string{"run", "--progress-file", dir + "/events", "--out", dir + "/out", dir + "/none.hcl"}, "--progress-file: only with --progress json"},
		{[]string{"lock", "--progress", "fancy", dir + "/none.hcl"}, `--progress "fancy"`},
	} {
		code, _, stderr := runCmd(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("a refused command wrote %v", entries)
	}
}

// TestLogErrorGitHubNoForgedCommands: under GitHub Actions the closing error, which
// quotes a failed script's last lines indented, has no line the runner reads as a
// workflow command ("::" after white space, "##[" anywhere).
func TestLogErrorGitHubNoForgedCommands(t *testing.T) {
	t.Setenv("GITHUB_ACTIONS", "true")
	var stderr strings.Builder
	l, err := logFlags{level: "info", format: "text"}.logger(&stderr)
	if err != nil {
		t.Fatal(err)
	}
	logError(l, errString("1 of 1 cells failed; first: script exited with 1; last lines of logs/a.log:\n    ::error::forged\n    ok ##[error]forged"))
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.HasPrefix(strings.TrimLeft(line, " \t"), "::") || strings.Contains(line, "##[") {
			t.Errorf("a workflow command: %q in\n%s", line, stderr.String())
		}
	}
}

// TestSummaryGitHubNoForgedCommands: under GitHub Actions the summary a run ends with,
// whose reasons quote a failed script's last line, has no "##[" the runner would read.
func TestSummaryGitHubNoForgedCommands(t *testing.T) {
	t.Setenv("GITHUB_ACTIONS", "true")
	t.Setenv("GITHUB_STEP_SUMMARY", "")
	var out, stderr strings.Builder
	d := &display{sink: progress.Discard, summary: &out, stop: func() {}}
	d.finish(progress.Summary{Rows: []progress.Row{{Cell: "a.tar.gz", Result: progress.Failed,
		Reason: "script exited with 1; last lines of logs/a.log:\n    ok ##[error]forged"}}}, &stderr)
	if strings.Contains(out.String(), "##[") || !strings.Contains(out.String(), `##\x5berror]forged`) {
		t.Errorf("summary:\n%s", out.String())
	}
}
