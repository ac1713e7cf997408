package main

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
)

// lintWorkflow fails the test with every finding of actionlint (the library, without
// shellcheck or pyflakes, which it would run as programs) in the workflow.
func lintWorkflow(t *testing.T, name string, workflow []byte) {
	t.Helper()
	l, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// "<stdin>": actionlint looks for no project (no .github) around the name.
	errs, err := l.Lint("<stdin>", workflow, nil)
	if err != nil {
		t.Fatalf("%s: actionlint: %v", name, err)
	}
	for _, e := range errs {
		t.Errorf("%s:%d:%d: %s [%s]", name, e.Line, e.Column, e.Message, e.Kind)
	}
	if len(errs) > 0 {
		t.Logf("%s:\n%s", name, workflow)
	}
}

// TestCIGitHubWorkflow: the workflow of the root matrix.hcl with its defaults is the
// golden file, and actionlint finds nothing in it, nor in the workflows of other
// options (chunks, variables, runners).
func TestCIGitHubWorkflow(t *testing.T) {
	goldenPath, err := filepath.Abs("testdata/ci-github.golden")
	if err != nil {
		t.Fatal(err)
	}
	// The root of the repository, where a maintainer runs it; the plan's registry
	// calls are answered from the pins of matrix.lock.json (--locked), no network.
	t.Chdir("../..")
	code, out, stderr := runCmd(t, "ci", "github")
	if code != 0 {
		t.Fatalf("ci github: exit %d: %s", code, stderr)
	}
	if *updateGolden {
		if err := os.WriteFile(goldenPath, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("ci github:\n%s\nwant (go test ./cmd/matrix -update rewrites it):\n%s", out, want)
	}
	lintWorkflow(t, "ci github", []byte(out))

	// The other options on the small test file: planning the root file takes seconds
	// under -race.
	sel := filepath.Join("cmd", "matrix", selectFile)
	for _, args := range [][]string{
		{"--chunks", "3", "--var", `note=it's ["x64"]`, "--runs-on", "linux/arm64=self-hosted", sel},
		{"--locked=false", "--matrix-version", "v1.2.3", "--lock-file", "select.lock.json", sel},
		// YAML's plain scalars end at " #" and cannot hold ": ": shell-quoting is not enough.
		{"--var", "note=a: b #c", "--lock-file", "my lock #1.json", sel},
	} {
		code, out, stderr := runCmd(t, append([]string{"ci", "github"}, args...)...)
		if code != 0 {
			t.Fatalf("ci github %v: exit %d: %s", args, code, stderr)
		}
		lintWorkflow(t, strings.Join(args, " "), []byte(out))
		// The merge job plans as the build jobs did: with --locked, not the registry's
		// latest answers (a version published since would be a cell no shard built).
		if wantMerge := map[bool]string{true: "matrix merge --locked --file", false: "matrix merge --file"}[args[0] != "--locked=false"]; !strings.Contains(out, wantMerge+" ") {
			t.Errorf("ci github %v: no %q in\n%s", args, wantMerge, out)
		}
		if args[1] == "note=a: b #c" {
			for _, w := range []string{"\n          matrix run --cell \"$CELL\" --out \"out/$CELL\" --locked --var 'note=a: b #c' --lock-file 'my lock #1.json' cmd/matrix/testdata/select.hcl\n",
				"\n  MATRIX_LOCK: 'my lock #1.json'\n"} {
				if !strings.Contains(out, w) {
					t.Errorf("ci github %v: no %q in\n%s", args, w, out)
				}
			}
		}
		if args[0] == "--chunks" {
			for _, w := range []string{"build-3:", "--shard 3/3", "needs: [plan, build-1, build-2, build-3]",
				`--runs-on linux/arm64=self-hosted --locked --var 'note=it'\''s ["x64"]' cmd/matrix/testdata/select.hcl`} {
				if !strings.Contains(out, w) {
					t.Errorf("ci github %v: no %q in\n%s", args, w, out)
				}
			}
		}
	}
}

// TestCIGitHubRefuses: what a workflow cannot hold, and a file outside the
// repository, are usage errors.
func TestCIGitHubRefuses(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--var", "x=${{ secrets.TOKEN }}", selectFile}, `a workflow cannot hold "${{"`},
		{[]string{"--var", "x=a\nb", selectFile}, "a line break"},
		{[]string{"/etc/matrix.hcl"}, "give FILE relative to the repository's root"},
		{[]string{"../matrix.hcl"}, "give FILE relative to the repository's root"},
		{[]string{"--chunks", "300", selectFile}, "--chunks 300: want 1 to 256"},
		{[]string{"--matrix-version", "v1 && curl", selectFile}, "--matrix-version"},
	} {
		code, _, stderr := runCmd(t, append([]string{"ci", "github"}, tt.args...)...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("ci github %q: exit %d, %q; want exit 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}

// TestREADMEWorkflowsLint: the workflows README.md shows (the scheduled refresh) pass
// actionlint too.
func TestREADMEWorkflowsLint(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(data, -1)
	n := 0
	for _, b := range blocks {
		if !strings.Contains(string(b[1]), "jobs:") {
			continue // not a workflow
		}
		n++
		lintWorkflow(t, "README.md workflow "+strings.SplitN(string(b[1]), "\n", 2)[0], b[1])
	}
	if n == 0 {
		t.Fatal("README.md shows no workflow (a ```yaml block with jobs:); the test reads it wrongly")
	}
}

// TestCIGitHubRefusesSensitiveVar: a --var of a sensitive variable would be written
// into the workflow, a file committed to the repository: refused, naming the
// variable, and nothing printed.
func TestCIGitHubRefusesSensitiveVar(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	src := "variable \"token\" {\n  sensitive = true\n  default   = \"\"\n}\n\ntarget \"t\" {\n  image    = \"node:22\"\n  platform = \"linux/amd64\"\n  script   = \"true\"\n  artifact = \"t.tar.gz\"\n}\n"
	if err := os.WriteFile("matrix.hcl", []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCmd(t, "ci", "github", "--var", "token=s3cr3t-value", "matrix.hcl")
	if code != 2 || strings.Contains(out, "s3cr3t-value") || strings.Contains(stderr, "s3cr3t-value") || !strings.Contains(stderr, `"token" is sensitive`) {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 naming the sensitive variable, and its value nowhere", code, out, stderr)
	}
}
