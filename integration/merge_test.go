package integration

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/lock"
	"github.com/matrixbuild/matrix/manifest"
)

// shardedSpec is a matrix of three cells, one per shard of --shard K/3 (the cells
// dealt out by ID: a, b, c); each cell records lock files. salt changes a cell's
// bytes without changing the file or the cell's ID.
const shardedSpec = `
variable "vs" {
  type    = list(string)
  default = ["a", "b", "c"]
}
variable "salt" { default = "" }

target "cell" {
  image    = "` + testImage + `"
  network  = "host"
  workdir  = "/build"
  matrix   = { v = var.vs }
  env      = { V = matrix.v, SALT = var.salt }
  script   = <<-EOT
    mkdir -p out
    echo "cell $V$SALT" > out/v.txt
    echo '{"name":"cell"}' > package.json
    echo "{\"lockfileVersion\":3,\"v\":\"$V\"}" > package-lock.json
  EOT
  collect  = "/build/out"
  artifact = "cell-${matrix.v}.tar.gz"
  timeout  = "2m"
  retries  = 0
}
`

// TestMergeShards runs the three cells of one matrix as three shards, in three
// processes at once, each from its own checkout of the same file into its own output
// directory (the shard's lock file copied in, as the CI recipe uploads it), merges
// them, and compares with a one-process run: the same SHA256SUMS byte for byte, the
// same lock file, matrix verify passes. A tampered artifact, two shards that built a
// cell with different bytes, and a missing shard each fail naming what is wrong and
// write nothing; --partial merges what is there.
func TestMergeShards(t *testing.T) {
	needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	specPath := w.spec(t, shardedSpec)

	whole := filepath.Join(w.dir, "whole")
	if res := w.matrix(t, nil, "run", "--quiet", "--lock-file", filepath.Join(w.dir, "whole.lock.json"), "--out", whole, specPath); res.code != 0 {
		t.Fatalf("the one-process run: exit %d\n%s", res.code, res.stderr)
	}

	shard := func(name, k string, extra ...string) (*started, string) {
		checkout := filepath.Join(w.dir, "checkout-"+name)
		if err := os.MkdirAll(checkout, 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(checkout, "matrix.hcl"), shardedSpec)
		out := filepath.Join(w.dir, "shard-"+name)
		args := append([]string{"run", "--quiet", "--shard", k + "/3", "--out", out}, extra...)
		return w.start(t, nil, append(args, filepath.Join(checkout, "matrix.hcl"))...), out
	}
	var dirs []string
	var runs []*started
	for i, v := range []string{"a", "b", "c"} {
		s, out := shard(v, strconv.Itoa(i+1))
		runs, dirs = append(runs, s), append(dirs, out)
	}
	for i, s := range runs {
		if code := s.wait(t, 3*time.Minute); code != 0 {
			t.Fatalf("shard %s: exit %d\n%s", dirs[i], code, s.stderr.String())
		}
		copyFile(t, filepath.Join(w.dir, "checkout-"+filepath.Base(dirs[i])[len("shard-"):], lock.FileName), filepath.Join(dirs[i], lock.FileName))
	}
	salted, saltedOut := shard("a2", "1", "--var", "salt=x")
	if code := salted.wait(t, 3*time.Minute); code != 0 {
		t.Fatalf("the salted shard: exit %d\n%s", code, salted.stderr.String())
	}

	merged := filepath.Join(w.dir, "merged")
	lockPath := filepath.Join(w.dir, lock.FileName)
	fails := func(what string, dirs []string, want ...string) {
		t.Helper()
		before := snapshot(t, w.dir, "home", "tmp")
		res := w.matrix(t, nil, append([]string{"merge", "--file", specPath, merged}, dirs...)...)
		for _, s := range want {
			if res.code != 1 || !strings.Contains(res.stderr, s) {
				t.Errorf("%s: exit %d, stderr lacks %q:\n%s", what, res.code, s, res.stderr)
			}
		}
		assertSameSnapshot(t, before, snapshot(t, w.dir, "home", "tmp"))
	}

	// A tampered artifact: the same size, other bytes.
	victim := filepath.Join(dirs[1], "cell-b.tar.gz")
	good, err := os.ReadFile(victim)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(good)
	bad[len(bad)/2] ^= 0xff
	writeFile(t, victim, string(bad))
	fails("a tampered artifact", dirs, "shard "+dirs[1]+": cell-b.tar.gz does not match its record", "changed: sha256 ")
	writeFile(t, victim, string(good))

	// Its cell-a has other bytes than shard a's; the variable it ran with says why
	// (two shards' different bytes are merge.TestMergeRefusesWhatIsWrong's).
	fails("a shard run with other variables", append(dirs, saltedOut),
		"shard "+saltedOut+`: its run gave the variable salt the value "x", not ""`)
	fails("a missing shard", dirs[:2], "1 planned cell(s) built by no shard: cell-c.tar.gz", "--partial")

	res := w.matrix(t, nil, append([]string{"merge", "--file", specPath, merged}, dirs...)...)
	if res.code != 0 || !strings.Contains(res.stdout, "merged 3 artifacts from 3 shards") {
		t.Fatalf("merge: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if a, b := readFile(t, filepath.Join(whole, manifest.SumsName)), readFile(t, filepath.Join(merged, manifest.SumsName)); a != b {
		t.Errorf("SHA256SUMS of the merge differs from the one-process run's:\n%s\n%s", b, a)
	}
	if a, b := readFile(t, filepath.Join(w.dir, "whole.lock.json")), readFile(t, lockPath); a != b {
		t.Errorf("the joined lock differs from the one-process run's:\n%s\n%s", b, a)
	}
	if out, err := w.command(t.Context(), nil, "verify", merged).CombinedOutput(); err != nil {
		t.Errorf("matrix verify %s: %v\n%s", merged, err, out)
	}
	m, err := manifest.Read(merged)
	if err != nil {
		t.Fatal(err)
	}
	shardRuns := map[string]bool{}
	for _, s := range m.Shards {
		shardRuns[s.RunID] = s.Artifacts == 1
	}
	if len(m.Shards) != 3 || len(shardRuns) != 3 {
		t.Errorf("the merged manifest records shards %+v, want the 3 shards' runs", m.Shards)
	}
	for _, a := range m.Artifacts {
		if !shardRuns[a.RunID] || a.Engine == "" {
			t.Errorf("%s: run_id %s engine %q, want a shard's run and its engine", a.File, a.RunID, a.Engine)
		}
		if _, err := os.Stat(filepath.Join(merged, "logs", a.File+".log")); err != nil {
			t.Errorf("%s: its log was not copied: %v", a.File, err)
		}
	}

	// The merged statement: subjects exactly SHA256SUMS (manifest.WriteWithProvenance
	// refuses others), one byproduct per shard run; signed with a fresh key, it verifies.
	st, _ := readStatement(t, merged)
	if len(st.Predicate.RunDetails.Byproducts) != 3 || st.Predicate.RunDetails.Metadata.InvocationID != m.RunID {
		t.Errorf("merged statement: runDetails %+v, want the merge's run and its 3 shards' statements", st.Predicate.RunDetails)
	}
	key, _ := sshKey(t, t.TempDir(), "merge@example")
	if res := w.matrix(t, nil, "sign", "--key", key, merged); res.code != 0 {
		t.Fatalf("sign the merge: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if res := w.matrix(t, nil, "verify", "--key", key+".pub", merged); res.code != 0 || !strings.Contains(res.stdout, "vouches for exactly the artifacts") {
		t.Errorf("verify --key of the merge: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if out, err := w.command(t.Context(), nil, "verify", merged).CombinedOutput(); err != nil {
		t.Errorf("matrix verify %s once signed: %v\n%s", merged, err, out)
	}

	// --partial takes what is there; verify then names the missing cell (exit 3).
	partial := filepath.Join(w.dir, "partial")
	res = w.matrix(t, nil, "merge", "--partial", "--file", specPath, "--lock-file", filepath.Join(w.dir, "partial.lock.json"), partial, dirs[0], dirs[1])
	if res.code != 0 || !strings.Contains(res.stderr, "1 cell built by no shard: cell-c.tar.gz") {
		t.Errorf("merge --partial: exit %d\n%s", res.code, res.stderr)
	}
	if res := w.matrix(t, nil, "verify", partial); res.code != 3 || !strings.Contains(res.stderr, "cell-c.tar.gz: failed") {
		t.Errorf("verify of a partial merge: exit %d, want 3 naming cell-c\n%s", res.code, res.stderr)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	writeFile(t, to, readFile(t, from))
}
