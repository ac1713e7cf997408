package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGitHubActionsOutput: with GITHUB_ACTIONS=true the real binary writes each cell's
// log inside ::group::/::endgroup::, a container's line that looks like a workflow
// command only behind its "[ARTIFACT] " prefix, a failed cell as an ::error annotation
// at its target's line in the matrix file, a diagnostic as one at its range, and
// appends the summary table to GITHUB_STEP_SUMMARY after what is there. --progress
// json writes only events to stdout, each of schema version 1, the run_finished last.
func TestGitHubActionsOutput(t *testing.T) {
	needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	hcl := goodTarget() + target("bad", `
		echo '::error::forged by the script'
		echo 'bad output'
		exit 3
	`, "")
	specPath := w.spec(t, hcl)
	badLine := 0
	for i, l := range strings.Split(hcl, "\n") {
		if strings.HasPrefix(l, `target "bad"`) {
			badLine = i + 1
		}
	}
	summaryFile := filepath.Join(w.dir, "step-summary.md")
	writeFile(t, summaryFile, "# earlier step\n")
	env := []string{"GITHUB_ACTIONS=true", "GITHUB_STEP_SUMMARY=" + summaryFile}

	res := w.matrix(t, env, "run", "--keep-going", "--out", w.out, specPath)
	if res.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", res.code, res.stderr)
	}
	for _, want := range []string{
		"::group::good.tar.gz: built in ",
		"::group::bad.tar.gz: failed in ",
		"\n[bad.tar.gz] ::error::forged by the script\n[bad.tar.gz] bad output\n",
		fmt.Sprintf("\n::error file=%s,line=%d,title=matrix%%3A bad.tar.gz failed::script exited with status 3", specPath, badLine),
	} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
		}
	}
	if strings.Count(res.stderr, "::group::") != 2 || strings.Count(res.stderr, "::endgroup::") != 2 {
		t.Errorf("want two groups:\n%s", res.stderr)
	}
	// Each group holds its cell's lines only, whole.
	for _, g := range strings.Split(res.stderr, "::group::")[1:] {
		body, _, _ := strings.Cut(g, "::endgroup::")
		cell, _, _ := strings.Cut(body, ":")
		for _, l := range strings.Split(strings.TrimSpace(body), "\n")[1:] {
			if !strings.HasPrefix(l, "["+cell+"] ") {
				t.Errorf("group %s holds %q", cell, l)
			}
		}
	}
	for _, l := range strings.Split(res.stderr, "\n") {
		if strings.HasPrefix(l, "::error::forged") {
			t.Errorf("a container's line became a workflow command: %q", l)
		}
	}
	summary, err := os.ReadFile(summaryFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# earlier step\n### matrix: 1 built, 0 reused, 1 failed in ", "| built | good.tar.gz |", "| FAILED | bad.tar.gz |"} {
		if !strings.Contains(string(summary), want) {
			t.Errorf("job summary lacks %q:\n%s", want, summary)
		}
	}
	if !strings.Contains(res.stdout, "FAILED  bad.tar.gz") || !strings.Contains(res.stdout, "1 built, 0 reused, 1 failed in ") {
		t.Errorf("summary on stdout:\n%s", res.stdout)
	}

	// A diagnostic is an annotation at its range.
	bad := filepath.Join(w.dir, "bad.hcl")
	writeFile(t, bad, strings.Replace(hcl, `workdir  = "/build"`, `workdir  = "/build"`+"\n  no_such_attribute = 1", 1))
	res = w.matrix(t, env, "run", "--out", w.out, bad)
	if want := "::error file=" + bad + ",line="; res.code != 1 || !strings.Contains(res.stderr, want) || !strings.Contains(res.stderr, ",col=") {
		t.Errorf("a diagnostic: exit %d; want %q with its range:\n%s", res.code, want, res.stderr)
	}

	// --progress json: events only on stdout.
	res = w.matrix(t, nil, "run", "--reuse", "--keep-going", "--progress", "json", "--out", w.out, specPath)
	lines := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
	var last struct {
		V      int
		Event  string
		Counts struct{ Reused, Failed int }
	}
	for _, l := range lines {
		if err := json.Unmarshal([]byte(l), &last); err != nil || last.V != 1 {
			t.Fatalf("stdout line %q: %v, want an event of schema 1", l, err)
		}
	}
	if res.code != 1 || last.Event != "run_finished" || last.Counts.Reused != 1 || last.Counts.Failed != 1 {
		t.Errorf("exit %d, last event %+v; want run_finished with 1 reused and 1 failed", res.code, last)
	}
	if !strings.Contains(res.stderr, "0 built, 1 reused, 1 failed in ") {
		t.Errorf("the summary is not on stderr:\n%s", res.stderr)
	}
}
