package integration

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestMergeRefusesAShardOfOtherVariables: a shard that ran the same file with other
// variable values built other cells under the same names; the merge of the file as
// planned with its own variables must not take them as its own.
func TestMergeRefusesAShardOfOtherVariables(t *testing.T) {
	needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	specPath := w.spec(t, shardedSpec)
	shard := filepath.Join(w.dir, "shard")
	if res := w.matrix(t, nil, "run", "--quiet", "--var", "salt=x", "--out", shard, specPath); res.code != 0 {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	merged := filepath.Join(w.dir, "merged")
	res := w.matrix(t, nil, "merge", "--file", specPath, merged, shard)
	if res.code == 0 {
		t.Errorf("merge without --var salt=x of a shard run with it: exit 0, want a refusal\n%s%s", res.stdout, res.stderr)
	} else if !strings.Contains(res.stderr, "salt") {
		t.Errorf("the refusal does not name the variable:\n%s", res.stderr)
	}
}
