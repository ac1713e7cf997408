package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/plan"
	"github.com/matrixbuild/matrix/runner"
)

// oneTargetFile writes a valid matrix file of one target and returns its path.
func oneTargetFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.hcl")
	if err := os.WriteFile(path, []byte(`target "t" {
  image    = "local/debian:bookworm"
  script   = "true"
  artifact = "a.tar.gz"
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRunBadFlags: every bad command line is refused with exit 2 and a message naming
// the flag, before anything is built or any directory created.
func TestRunBadFlags(t *testing.T) {
	good := oneTargetFile(t)
	tests := []struct {
		name string
		env  string
		args []string
		code int
		want string
	}{
		{"jobs zero", "", []string{"run", "--jobs", "0"}, 2, "--jobs 0"},
		{"jobs negative", "", []string{"run", "-j", "-3"}, 2, "--jobs -3"},
		{"jobs absurd", "", []string{"run", "--jobs", "100000"}, 2, "want a number from 1 to 256"},
		{"jobs not a number", "", []string{"run", "--jobs", "many"}, 2, "invalid argument \"many\""},
		{"pull unknown", "", []string{"run", "--pull", "sometimes"}, 2, "--pull \"sometimes\""},
		{"pull empty", "", []string{"run", "--pull", ""}, 2, "--pull \"\""},
		{"out empty", "", []string{"run", "--out", ""}, 2, "--out: empty"},
		{"unknown flag", "", []string{"run", "--fast"}, 2, "unknown flag: --fast"},
		{"var without value", "", []string{"run", "--var"}, 2, "flag needs an argument"},
		{"source date epoch", "SOURCE_DATE_EPOCH=yesterday", []string{"run"}, 1, "SOURCE_DATE_EPOCH"},
		{"source date epoch negative", "SOURCE_DATE_EPOCH=-5", []string{"run"}, 1, "SOURCE_DATE_EPOCH"},
		{"verify two dirs", "", []string{"verify", "a", "b"}, 2, "accepts at most 1 arg"},
		{"validate two files", "", []string{"validate", "a", "b"}, 2, "accepts at most 1 arg"},
		{"unknown command", "", []string{"build"}, 2, "unknown command \"build\""},
		{"missing matrix file", "", []string{"run", "--out", "OUT", "nowhere.hcl"}, 1, "nowhere.hcl"},
		{"undeclared var", "", []string{"run", "--out", "OUT", "--var", "nope=1", good}, 1, "nope"},
		{"no engine", "DOCKER_HOST=unix:///tmp/no-such-engine.sock", []string{"run", "--out", "OUT", good}, 1,
			"no Docker engine answers at unix:///tmp/no-such-engine.sock"},
		{"locked without lock file", "", []string{"run", "--out", "OUT", "--locked", good}, 1, "m.lock.json does not exist"},
		{"prune with targets", "", []string{"run", "--out", "OUT", "--prune", good, "t"}, 2, "--prune removes what the whole file no longer produces: name no targets (t)"},
		{"locked without the given lock file", "", []string{"run", "--out", "OUT", "--locked", "--lock-file", "other.json", good}, 1, "other.json does not exist"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			args := append([]string{}, tc.args...)
			for i, a := range args {
				if a == "OUT" {
					args[i] = out
				}
			}
			if tc.env != "" {
				k, v, _ := strings.Cut(tc.env, "=")
				t.Setenv(k, v)
			}
			t.Chdir(dir) // a default ./out must not appear either
			code, _, stderr := runCmd(t, args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) > 0 {
				t.Errorf("a refused command wrote %v", entries)
			}
		})
	}
}

func TestVerifyReportsProblems(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := runCmd(t, "verify", dir)
	if code != 1 || !strings.Contains(stderr, "manifest.json") {
		t.Errorf("verify of an empty directory: exit %d, %q", code, stderr)
	}
}

// TestRunRefusesUnreadableManifestFirst: a manifest.json that cannot be read stops
// `matrix run` before it connects to an engine (there is none here), sweeps, prints its
// banner or creates anything: the output directory is exactly as it was, whether an
// earlier run made it or it holds the manifest only.
func TestRunRefusesUnreadableManifestFirst(t *testing.T) {
	spec := oneTargetFile(t)
	tests := []struct {
		name    string
		earlier bool // the directory also holds what an earlier run left
		write   func(path string) error
		want    string
	}{
		{"corrupt", true, func(path string) error {
			return os.WriteFile(path, []byte(`{"schema_version": 1, "artifacts": [`), 0o644)
		}, "not a manifest"},
		{"newer schema", true, func(path string) error {
			return os.WriteFile(path, []byte(`{"schema_version": 2, "artifacts": []}`), 0o644)
		}, "schema_version 2, this tool reads 1 (a newer matrix wrote it)"},
		{"newer schema, nothing else", false, func(path string) error {
			return os.WriteFile(path, []byte(`{"schema_version": 2, "artifacts": []}`), 0o644)
		}, "schema_version 2"},
		{"not a regular file", false, func(path string) error { return os.Mkdir(path, 0o755) }, "not a regular file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			if err := os.MkdirAll(out, 0o755); err != nil {
				t.Fatal(err)
			}
			if tc.earlier {
				for name, content := range map[string]string{".matrix.lock": "", "a.tar.gz": "artifact", "SHA256SUMS": "sums\n", "logs/a.tar.gz.log": "log\n"} {
					os.MkdirAll(filepath.Dir(filepath.Join(out, name)), 0o755)
					if err := os.WriteFile(filepath.Join(out, name), []byte(content), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			path := filepath.Join(out, "manifest.json")
			if err := tc.write(path); err != nil {
				t.Fatal(err)
			}
			before := listing(t, out)
			t.Setenv("DOCKER_HOST", "unix:///tmp/no-such-engine.sock")
			code, _, stderr := runCmd(t, "run", "--reuse", "--out", out, spec)
			want := path + ": " + tc.want
			if code != 1 || !strings.Contains(stderr, want) || !strings.Contains(stderr, "nothing was built: move it away (or remove it) to start the records over") {
				t.Errorf("exit %d, stderr %q; want exit 1 and %q", code, stderr, want)
			}
			if strings.Contains(stderr, "Docker engine") || strings.Contains(stderr, "matrix: run ") {
				t.Errorf("reached the engine before refusing: %q", stderr)
			}
			if after := listing(t, out); after != before {
				t.Errorf("the output directory changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// listing is every entry below dir with its type, mode, size, modification time and
// content.
func listing(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		fmt.Fprintf(&b, "%s %v %d %d", rel, info.Mode(), info.Size(), info.ModTime().UnixNano())
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, " %q", data)
		}
		b.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestRunOutNotADirectory(t *testing.T) {
	spec := oneTargetFile(t)
	before, err := os.ReadFile(spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_HOST", "unix:///tmp/no-such-engine.sock")
	code, _, stderr := runCmd(t, "run", "--out", spec, spec)
	if want := "--out " + spec + ": not a directory"; code != 1 || !strings.Contains(stderr, want) || strings.Contains(stderr, "remove") || strings.Contains(stderr, "--help") {
		t.Errorf("exit %d, stderr %q; want exit 1 and %q, no advice to remove it", code, stderr, want)
	}
	if after, _ := os.ReadFile(spec); !bytes.Equal(after, before) {
		t.Errorf("the file given as --out changed")
	}
}

func TestRunBadSourceDateEpochIsNoUsageError(t *testing.T) {
	spec := oneTargetFile(t)
	t.Setenv("DOCKER_HOST", "unix:///tmp/no-such-engine.sock")
	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	code, _, stderr := runCmd(t, "run", "--out", filepath.Join(t.TempDir(), "out"), spec)
	if code != 1 || !strings.Contains(stderr, `SOURCE_DATE_EPOCH="yesterday" is not a number`) || strings.Contains(stderr, "--help") {
		t.Errorf("exit %d, stderr %q; want exit 1, the variable named and no usage hint", code, stderr)
	}
}

// TestSummaryNamesTheManifestOnlyWhenWritten: the summary's last line names
// manifest.json when the run wrote it; when recording failed it says that it was not
// written, and why; when only its directory's sync failed, that it is in place. Every
// value of the summary is escaped, the error quoting a script's output included.
func TestSummaryNamesTheManifestOnlyWhenWritten(t *testing.T) {
	results := []runner.Result{
		{Cell: plan.Cell{Artifact: "a.tar.gz"}, Artifact: &manifest.Artifact{File: "a.tar.gz", RunID: "run", SHA256: "ab"}},
		{Cell: plan.Cell{Artifact: "b.tar.gz"}, Err: errors.New("script exited with status 1; last lines of logs/b.tar.gz.log:\n    \x1b[2J\rok   forged")},
		{Cell: plan.Cell{Artifact: "c.tar.gz"}, Err: errors.New("engine says \x1b]0;PWNED\x07")},
	}
	const counts = "1 built, 0 reused, 2 failed in 2m31s; "
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"written", &runner.RunError{Failed: 2, Total: 3}, counts + "OUT/manifest.json\n"},
		{"not written", &runner.RecordError{Err: fmt.Errorf("writing OUT/manifest.json: %w", syscall.ENOSPC)},
			counts + "OUT/manifest.json not written: writing OUT/manifest.json: no space left on device\n"},
		{"not durable", &runner.RecordError{Err: &atomicfile.NotDurableError{Path: "OUT/manifest.json", Err: syscall.EIO}},
			counts + "OUT/manifest.json (OUT/manifest.json is in place, but syncing its directory failed (a crash may undo it): input/output error)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := summaryOf("OUT/manifest.json", "run", results, 151*time.Second, tc.err).WriteText(&out); err != nil {
				t.Fatal(err)
			}
			lines := strings.SplitAfter(out.String(), "\n")
			if last := lines[len(lines)-2]; last != tc.want {
				t.Errorf("last line %q, want %q", last, tc.want)
			}
			if strings.ContainsAny(out.String(), "\x1b\x07\r") {
				t.Errorf("the summary holds controls:\n%q", out.String())
			}
			if want := `engine says \x1b]0;PWNED\x07`; !strings.Contains(out.String(), want) {
				t.Errorf("summary lacks %q:\n%s", want, out.String())
			}
		})
	}
}

// TestExitErrorIsEscaped: the error the command ends with may quote a container's
// output; it reaches stderr escaped, its lines kept.
func TestExitErrorIsEscaped(t *testing.T) {
	var stderr bytes.Buffer
	code := exitCode(errors.New("recording the run: x\n    \x1b[2J\rok   forged\u009b"), &stderr)
	if want := "matrix: recording the run: x\n    \\x1b[2J\\x0dok   forged\\u009b\n"; code != exitProblem || stderr.String() != want {
		t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), exitProblem, want)
	}
}

// TestSummarySaysRetested: an artifact reused with its test run again (--reuse, the
// test changed) is "reused, retested"; one reused as it was is "reused".
func TestSummarySaysRetested(t *testing.T) {
	cell := plan.Cell{Target: "t", Artifact: "a.tar.gz"}
	results := []runner.Result{
		{Cell: cell, Artifact: &manifest.Artifact{File: "a.tar.gz", RunID: "earlier", SHA256: "aa", Test: &manifest.Test{RunID: "run"}}},
		{Cell: cell, Artifact: &manifest.Artifact{File: "b.tar.gz", RunID: "earlier", SHA256: "bb", Test: &manifest.Test{RunID: "earlier"}}},
		{Cell: cell, Artifact: &manifest.Artifact{File: "c.tar.gz", RunID: "run", SHA256: "cc", Test: &manifest.Test{RunID: "run"}}},
	}
	var out bytes.Buffer
	if err := summaryOf("OUT/manifest.json", "run", results, time.Second, nil).WriteText(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"reused, retested  a.tar.gz", "reused            b.tar.gz", "built             c.tar.gz", "1 built, 2 reused, 0 failed in 1.0s;"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
}
