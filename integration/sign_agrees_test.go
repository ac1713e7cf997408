package integration

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestSignAgreesWithVerifyKey: a directory that matrix sign signs passes matrix
// verify --key with the same key, so that signing never produces a signature that
// its own check fails: an entry no record lists (an earlier run's artifact, which
// matrix never removes), which verify --key reports as added, is refused by sign,
// naming it.
func TestSignAgreesWithVerifyKey(t *testing.T) {
	needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	specPath := w.spec(t, target("plain", `mkdir -p out; echo same > out/v`, "  lock_files = []"))
	if res := w.matrix(t, nil, "run", "--out", w.out, specPath); res.code != 0 {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	writeFile(t, filepath.Join(w.out, "old.tar.gz"), "an earlier run's artifact")
	key, pub := sshKey(t, w.dir, "builder")
	pubPath := filepath.Join(w.dir, "builder.pub")
	writeFile(t, pubPath, string(pub))
	sign := w.matrix(t, nil, "sign", "--key", key, w.out)
	if sign.code == 0 {
		if res := w.matrix(t, nil, "verify", "--key", pubPath, w.out); res.code != 0 {
			t.Errorf("sign signed a directory that verify --key then fails: exit %d\n%s", res.code, res.stderr)
		}
	} else if !strings.Contains(sign.stderr, "old.tar.gz") {
		t.Errorf("sign refused without naming the unlisted entry: exit %d\n%s", sign.code, sign.stderr)
	}
}
