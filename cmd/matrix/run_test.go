package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunBadFlags: every bad command line is refused with exit 2 and a message naming
// the flag, before anything is built or any directory created.
func TestRunBadFlags(t *testing.T) {
	good := filepath.Join(t.TempDir(), "m.hcl")
	if err := os.WriteFile(good, []byte(`target "t" {
  image    = "local/debian:bookworm"
  script   = "true"
  artifact = "a.tar.gz"
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
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
		{"source date epoch", "SOURCE_DATE_EPOCH=yesterday", []string{"run"}, 2, "SOURCE_DATE_EPOCH"},
		{"source date epoch negative", "SOURCE_DATE_EPOCH=-5", []string{"run"}, 2, "SOURCE_DATE_EPOCH"},
		{"verify two dirs", "", []string{"verify", "a", "b"}, 2, "accepts at most 1 arg"},
		{"validate two files", "", []string{"validate", "a", "b"}, 2, "accepts at most 1 arg"},
		{"unknown command", "", []string{"build"}, 2, "unknown command \"build\""},
		{"missing matrix file", "", []string{"run", "--out", "OUT", "nowhere.hcl"}, 1, "nowhere.hcl"},
		{"undeclared var", "", []string{"run", "--out", "OUT", "--var", "nope=1", good}, 1, "nope"},
		{"no engine", "DOCKER_HOST=unix:///tmp/no-such-engine.sock", []string{"run", "--out", "OUT", good}, 1,
			"no Docker engine answers at unix:///tmp/no-such-engine.sock"},
		{"locked without lock file", "", []string{"run", "--out", "OUT", "--locked", good}, 1, "matrix.lock.json does not exist"},
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
