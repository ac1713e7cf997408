package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/plan"
)

const selectFile = "testdata/select.hcl"

// TestPlanSelectGolden: plan's table, its GitHub matrix and the three shards of the
// plan, by golden file; each command's stdout after a line naming it.
func TestPlanSelectGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		runs   [][]string
	}{
		{"plan-table.golden", [][]string{
			{"plan", selectFile},
			{"plan", "--only", "sharp=0.34.*,arch=arm64", "--only", "os=book*", selectFile},
			{"plan", "--cell", "cross-19d395d8", "--cell", "sharp-arm64-0.33.5-65655ccf", selectFile},
			{"plan", "--json", "--cell", "sharp-arm64-0.33.5-65655ccf", selectFile},
		}},
		{"plan-github.golden", [][]string{
			{"plan", "--format", "github", selectFile},
			{"plan", "--format", "github", "--runs-on", "linux/arm/v7=pi-runner", "--runs-on", "linux/arm64=self-hosted", "--only", "arch=arm64", "--only", "os=*", selectFile},
		}},
		{"plan-shard.golden", [][]string{
			{"plan", "--shard", "1/3", selectFile},
			{"plan", "--shard", "2/3", selectFile},
			{"plan", "--shard", "3/3", selectFile},
			{"plan", "--shard", "1/2", "--only", "arch=x64", selectFile},
			{"plan", "--shard", "2/2", "--only", "arch=x64", selectFile},
		}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			var all strings.Builder
			for _, args := range tc.runs {
				code, out, stderr := runCmd(t, args...)
				if code != 0 {
					t.Fatalf("%v: exit %d: %s", args, code, stderr)
				}
				fmt.Fprintf(&all, "$ matrix %s\n%s", strings.Join(args, " "), out)
			}
			golden(t, tc.golden, "\x00", all.String())
		})
	}
}

// TestPlanSelectErrors: a wrong selection is a usage error (exit 2) that names what
// is wrong, before anything is read.
func TestPlanSelectErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--cell", "sharp-arm64-0.34.4"}, 2, `--cell "sharp-arm64-0.34.4": no cell of the plan has this ID (` + "`matrix plan` lists them); did you mean sharp-arm64-0.34.4-f652f3a1?"},
		{[]string{"--cell", "f652f3a1"}, 2, "did you mean sharp-arm64-0.34.4-f652f3a1?"},
		{[]string{"--only", "cpu=x64"}, 2, `--only "cpu=x64": no cell has an axis "cpu"; the axes are sharp, arch, os`},
		{[]string{"--only", "node=22"}, 2, `"node" is an axis of a test block`},
		{[]string{"--only", "arch"}, 2, `--only "arch": "arch" has no "="`},
		{[]string{"--shard", "4/3"}, 2, "--shard \"4/3\": want 1 <= K <= N"},
		{[]string{"--durations", "x.json"}, 2, "--durations: balances --shard, which is not given"},
		{[]string{"--shard", "1/2", "--durations", "testdata/none.json"}, 1, "--durations: stat testdata/none.json: no such file"},
		{[]string{"--shard", "1/2", "--durations", selectFile}, 1, "testdata/select.hcl: not a manifest"},
		{[]string{"--format", "xml"}, 2, `--format "xml": want table, json or github`},
		{[]string{"--json", "--format", "github"}, 2, "--json and --format github: give one"},
		{[]string{"--runs-on", "linux/arm64=x"}, 2, "--runs-on: only for --format github"},
		{[]string{"--format", "github", "--runs-on", "linux/arm64"}, 2, `--runs-on "linux/arm64": want PLATFORM=LABEL`},
	} {
		code, _, stderr := runCmd(t, append(append([]string{"plan"}, tt.args...), selectFile)...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("plan %v: exit %d, %q; want exit %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
}

// TestPlanGitHubLimit: more than 256 cells to build is an error saying how to split
// them; 256 are one matrix, every key on one line of JSON.
func TestPlanGitHubLimit(t *testing.T) {
	cells := make([]plan.Cell, 257)
	for i := range cells {
		cells[i] = plan.Cell{Target: "t", Axes: []plan.Axis{{Name: "i", Value: float64(i)}}, Platform: "linux/arm64"}
	}
	cells = append(cells, plan.Cell{Target: "t", Axes: []plan.Axis{{Name: "i", Value: "skipped"}}, Skip: "skipped cells do not count"})
	var out bytes.Buffer
	err := writePlanGitHub(&out, cells, defaultRunsOn)
	if err == nil || !strings.Contains(err.Error(), "257 cells to build: a GitHub Actions matrix runs at most 256 jobs; split them into 2 matrices with --shard 1/2 ... --shard 2/2 (matrix ci github --chunks 2 writes the workflow)") {
		t.Errorf("257 cells: %v", err)
	}
	if err := writePlanGitHub(&out, cells[1:], defaultRunsOn); err != nil {
		t.Fatal(err)
	}
	var m struct {
		Include []map[string]any `json:"include"`
	}
	if err := json.Unmarshal(out.Bytes(), &m); err != nil || len(m.Include) != 256 || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("256 cells: %d jobs, %v, %d lines", len(m.Include), err, strings.Count(out.String(), "\n"))
	}
	if j := m.Include[0]; j["cell"] != cells[1].ID() || j["runs-on"] != "ubuntu-24.04-arm" || j["emulate"] != false || j["i"] != "1" {
		t.Errorf("first job: %v", j)
	}
}

// TestRunEmptyShard: a shard that gets none of the selected cells (more shards than
// cells, as a CI's fixed `parallel: N` can give) has nothing to do: exit 0, saying
// so, before any engine is asked or OUT written; a --cell or --only that selects
// nothing is still an error.
func TestRunEmptyShard(t *testing.T) {
	dir := t.TempDir()
	out := dir + "/out"
	for _, args := range [][]string{
		{"run", "--shard", "50/50", "--engine", "tcp://127.0.0.1:1", "--out", out, selectFile},
		{"lock", "--shard", "50/50", "--engine", "tcp://127.0.0.1:1", selectFile},
	} {
		code, _, stderr := runCmd(t, args...)
		if code != 0 || !strings.Contains(stderr, "--shard 50/50: none of the") {
			t.Errorf("%v: exit %d, %q; want exit 0 saying the shard has no cells", args, code, stderr)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("OUT of an empty shard: %v", err)
	}
	code, _, stderr := runCmd(t, "run", "--only", "os=none", "--engine", "tcp://127.0.0.1:1", "--out", out, selectFile)
	if code != 1 || !strings.Contains(stderr, "selects none") {
		t.Errorf("--only selecting nothing: exit %d, %q; want exit 1", code, stderr)
	}
}

// TestPlanGitHubKeysCaseInsensitive: GitHub reads a matrix's keys without case, so
// an axis named Cell, RUNS-ON or Emulate would replace the job's own, and two axes
// differing only in case would be a duplicate key: such an axis is left out (the
// cell's ID holds its value).
func TestPlanGitHubKeysCaseInsensitive(t *testing.T) {
	cells := []plan.Cell{{Target: "t", Platform: "linux/amd64", Axes: []plan.Axis{
		{Name: "Cell", Value: "forged"}, {Name: "RUNS-ON", Value: "attacker-runner"}, {Name: "arch", Value: "x64"}, {Name: "Arch", Value: "X64"},
	}}}
	var out bytes.Buffer
	if err := writePlanGitHub(&out, cells, defaultRunsOn); err != nil {
		t.Fatal(err)
	}
	var m struct{ Include []map[string]any }
	if err := json.Unmarshal(out.Bytes(), &m); err != nil || len(m.Include) != 1 {
		t.Fatalf("%s: %v", out.String(), err)
	}
	seen := map[string]bool{}
	for k := range m.Include[0] {
		if seen[strings.ToLower(k)] {
			t.Errorf("keys differing only in case: %s", out.String())
		}
		seen[strings.ToLower(k)] = true
	}
	if j := m.Include[0]; len(j) != 4 || j["cell"] != cells[0].ID() || j["runs-on"] != "ubuntu-24.04" || j["arch"] != "x64" {
		t.Errorf("job %v", j)
	}
}
