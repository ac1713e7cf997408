package integration

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/lock"
)

// TestVerifyRebuildUsesRecordedVariables: a run given --var is rebuilt with the
// values its statement records (externalParameters.variables), not the file's
// defaults: the README asks the rebuilder for the sensitive variables only. The
// variables change an artifact's bytes but not its name, so a rebuild with the
// defaults would build the same cell with other bytes.
func TestVerifyRebuildUsesRecordedVariables(t *testing.T) {
	needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	specPath := w.spec(t, `
variable "salt" { default = "default" }
variable "words" {
  type    = list(string)
  default = ["a"]
}
`+target("salted", `mkdir -p out; echo "$SALT $WORDS" > out/v
echo '{"name":"salted"}' > package.json
echo '{"lockfileVersion":3}' > package-lock.json`, `  env = { SALT = var.salt, WORDS = join(",", var.words) }`))
	res := w.matrix(t, nil, "run", "--var", "salt=given", "--var", `words=["b","c"]`, "--out", w.out, specPath)
	if res.code != 0 {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	res = w.matrix(t, nil, "verify", "--rebuild", "--file", specPath, w.out)
	if res.code != 0 || !strings.Contains(res.stdout, "reproduced      salted.tar.gz") {
		t.Errorf("verify --rebuild of a run given --var: exit %d, want 0 and salted.tar.gz reproduced\n%s%s", res.code, res.stdout, res.stderr)
	}
	// A --var given to the rebuild still wins (a sensitive one is given that way).
	res = w.matrix(t, nil, "verify", "--rebuild", "--file", specPath, "--var", "salt=other", w.out)
	if res.code != 1 || !strings.Contains(res.stdout, "NOT REPRODUCED  salted.tar.gz") {
		t.Errorf("verify --rebuild --var salt=other: exit %d, want 1 and NOT REPRODUCED\n%s%s", res.code, res.stdout, res.stderr)
	}
}

// TestVerifyRebuildWithoutLockFile: a matrix whose cells record no lock files leaves
// no lock file (the run read none, its statement names none); its artifacts are
// rebuilt all the same, and the rebuild writes no lock file beside the matrix file.
func TestVerifyRebuildWithoutLockFile(t *testing.T) {
	needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	specPath := w.spec(t, target("plain", `mkdir -p out; echo same > out/v`, "  lock_files = []"))
	if res := w.matrix(t, nil, "run", "--out", w.out, specPath); res.code != 0 {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	lockPath := filepath.Join(filepath.Dir(specPath), lock.FileName)
	if _, err := os.Stat(lockPath); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the run left a lock file (%v): the case tests nothing", err)
	}
	res := w.matrix(t, nil, "verify", "--rebuild", "--file", specPath, w.out)
	if res.code != 0 || !strings.Contains(res.stdout, "reproduced      plain.tar.gz") {
		t.Errorf("verify --rebuild: exit %d, want 0 and plain.tar.gz reproduced\n%s%s", res.code, res.stdout, res.stderr)
	}
	if _, err := os.Stat(lockPath); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the rebuild wrote %s (%v)", lockPath, err)
	}
}
