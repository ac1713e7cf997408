package integration

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/manifest"
)

// selectMatrix is 4 x 3 cells of a quick target, one skipped.
func selectMatrix() string {
	return strings.Replace(target("sel", `
		mkdir -p out
		echo cell > out/cell.txt
	`, `
  matrix = { a = ["1", "2", "3", "4"], b = ["x", "y", "z"] }
  skip {
    condition = matrix.a == "4" && matrix.b == "z"
    reason    = "not this one"
  }
`), `artifact = "sel.tar.gz"`, `artifact = "sel-${matrix.a}-${matrix.b}.tar.gz"`, 1)
}

// planIDs runs plan --json with args and returns the IDs of the cells it prints and
// its exact output.
func planIDs(t *testing.T, w *workspace, args ...string) ([]string, string) {
	t.Helper()
	r := w.matrix(t, nil, append([]string{"plan", "--json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("plan --json %v: exit %d: %s", args, r.code, r.stderr)
	}
	var cells []struct {
		ID      string `json:"id"`
		Skipped string `json:"skipped"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &cells); err != nil {
		t.Fatalf("plan --json %v: %v", args, err)
	}
	var ids []string
	for _, c := range cells {
		if c.Skipped == "" {
			ids = append(ids, c.ID)
		}
	}
	return ids, r.stdout
}

// TestShardsAcrossProcesses: separate processes, given the same file and flags in
// another order, print the same shards byte for byte; the shards are disjoint and
// cover the plan's cells that are not skipped, by count and by the durations of a
// manifest.
func TestShardsAcrossProcesses(t *testing.T) {
	w := newWorkspace(t)
	file := w.spec(t, selectMatrix())
	all, _ := planIDs(t, w, file)
	if len(all) != 11 {
		t.Fatalf("plan: %d cells to build, want 11", len(all))
	}
	durations := &manifest.Manifest{SchemaVersion: manifest.SchemaVersion, Artifacts: []manifest.Artifact{}}
	for i, id := range all {
		durations.Artifacts = append(durations.Artifacts, manifest.Artifact{File: fmt.Sprintf("x%d", i), CellID: id, DurationSecs: float64(1 + i*i)})
	}
	data, err := json.Marshal(durations)
	if err != nil {
		t.Fatal(err)
	}
	durationsFile := filepath.Join(w.dir, "earlier.json")
	writeFile(t, durationsFile, string(data))

	for _, extra := range [][]string{nil, {"--durations", durationsFile}} {
		seen := map[string]int{}
		for k := 1; k <= 3; k++ {
			shard := fmt.Sprintf("%d/3", k)
			ids, first := planIDs(t, w, append([]string{"--shard", shard, "--only", "a=*", "--only", "b=?"}, append(extra, file)...)...)
			_, again := planIDs(t, w, append(append([]string{file, "--only", "b=?"}, extra...), "--only", "a=*", "--shard", shard)...)
			if first != again {
				t.Errorf("shard %s %v: two processes, flags reordered, printed\n%s\nand\n%s", shard, extra, first, again)
			}
			if len(ids) == 0 {
				t.Errorf("shard %s %v is empty", shard, extra)
			}
			for _, id := range ids {
				if prev, ok := seen[id]; ok {
					t.Errorf("%v: %s in shards %d and %d", extra, id, prev, k)
				}
				seen[id] = k
			}
		}
		if len(seen) != len(all) {
			t.Errorf("%v: the shards hold %d cells, want the %d of the plan", extra, len(seen), len(all))
		}
	}
}

// TestRunSelectedCells: run --shard and run --cell build exactly their cells, the
// manifest records each cell's ID as plan shows it, and two shards' directories
// together hold every artifact of a whole run with the same bytes.
func TestRunSelectedCells(t *testing.T) {
	e := needDocker(t)
	w := newWorkspace(t)
	file := w.spec(t, selectMatrix())
	all, _ := planIDs(t, w, file)
	out := w.out

	whole := w.matrix(t, nil, "run", "-o", out, file)
	if whole.code != 0 {
		t.Fatalf("whole run: exit %d: %s", whole.code, whole.stderr)
	}
	wm, err := manifest.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{}
	for _, a := range wm.Artifacts {
		sums[a.CellID] = a.SHA256
	}
	if got := slices.Sorted(func(yield func(string) bool) {
		for id := range sums {
			yield(id)
		}
	}); !slices.Equal(got, slices.Sorted(slices.Values(all))) {
		t.Errorf("manifest cell_ids %v, plan's IDs %v", got, all)
	}
	if len(wm.Skipped) != 1 || wm.Skipped[0].CellID == "" {
		t.Errorf("manifest skipped = %+v, want one with its cell_id", wm.Skipped)
	}

	var fromShards []string
	for k := 1; k <= 2; k++ {
		ids, _ := planIDs(t, w, "--shard", fmt.Sprintf("%d/2", k), file)
		w.out = filepath.Join(w.dir, fmt.Sprintf("shard%d", k))
		r := w.matrix(t, nil, "run", "--shard", fmt.Sprintf("%d/2", k), "-o", w.out, file)
		if r.code != 0 {
			t.Fatalf("shard %d/2: exit %d: %s", k, r.code, r.stderr)
		}
		m := checkRun(t, e, w, r.stderr, want{ok: shardFiles(t, w, ids)})
		if len(m.Skipped) != 0 {
			t.Errorf("shard %d/2 records skipped cells %+v: they belong to no shard", k, m.Skipped)
		}
		for _, a := range m.Artifacts {
			if sums[a.CellID] != a.SHA256 {
				t.Errorf("shard %d/2: %s (%s) sha256 %s, the whole run's %s", k, a.File, a.CellID, a.SHA256, sums[a.CellID])
			}
			fromShards = append(fromShards, a.CellID)
		}
	}
	if slices.Sort(fromShards); !slices.Equal(fromShards, slices.Sorted(slices.Values(all))) {
		t.Errorf("the shards built %v, want every cell of the plan once: %v", fromShards, all)
	}

	w.out = filepath.Join(w.dir, "one")
	r := w.matrix(t, nil, "run", "--cell", all[4], "-o", w.out, file)
	if r.code != 0 {
		t.Fatalf("run --cell: exit %d: %s", r.code, r.stderr)
	}
	m := checkRun(t, e, w, r.stderr, want{ok: shardFiles(t, w, all[4:5])})
	if len(m.Artifacts) != 1 || m.Artifacts[0].CellID != all[4] {
		t.Errorf("run --cell %s: artifacts %+v", all[4], m.Artifacts)
	}

	for _, args := range [][]string{
		{"run", "--prune", "--shard", "1/2", file},
		{"run", "--cell", "nope", file},
		{"lock", "--only", "c=1", file},
	} {
		if r := w.matrix(t, nil, args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2: %s", args, r.code, r.stderr)
		}
	}
}

// shardFiles are the artifact names of the cells ids, as plan --json gives them.
func shardFiles(t *testing.T, w *workspace, ids []string) []string {
	t.Helper()
	r := w.matrix(t, nil, "plan", "--json", filepath.Join(w.dir, "matrix.hcl"))
	var cells []struct {
		ID       string `json:"id"`
		Artifact string `json:"artifact"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &cells); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cells {
		if slices.Contains(ids, c.ID) {
			out = append(out, c.Artifact)
		}
	}
	return out
}
