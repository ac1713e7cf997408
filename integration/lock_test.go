package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/lock"
)

// TestLockAndLocked: `matrix lock` records the lock_files a build leaves and keeps no
// artifact; `matrix run --locked` hands them back to the script (MATRIX_LOCKED=1);
// a changed script makes the entry stale and --locked refuses before building.
func TestLockAndLocked(t *testing.T) {
	needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	script := `
		mkdir -p out
		if [ "$${MATRIX_LOCKED:-}" = 1 ]; then
		  cp package-lock.json out/installed-from-lock.json
		else
		  echo '{"name":"x"}' > package.json
		  echo "{\"resolved\":\"$(cat /proc/sys/kernel/random/uuid)\"}" > package-lock.json
		  cp package-lock.json out/installed-from-lock.json
		fi`
	specPath := w.spec(t, target("locked", script, ""))

	res := w.matrix(t, nil, "lock", specPath)
	if res.code != 0 {
		t.Fatalf("matrix lock: exit %d\n%s", res.code, res.stderr)
	}
	if _, err := os.Stat(w.out); !os.IsNotExist(err) {
		t.Errorf("matrix lock wrote an output directory: %v", err)
	}
	if entries, _ := os.ReadDir(w.tmp); len(entries) > 0 {
		t.Errorf("matrix lock left %v in TMPDIR", entries)
	}
	locks, err := lock.Read(filepath.Join(w.dir, lock.FileName))
	if err != nil {
		t.Fatal(err)
	}
	entry := locks.Cells["locked.tar.gz"]
	if entry == nil || !strings.Contains(string(entry.Files["package-lock.json"]), `"resolved"`) || entry.Files["package.json"] == nil {
		t.Fatalf("lock entry = %+v", entry)
	}
	recorded := string(entry.Files["package-lock.json"])

	res = w.matrix(t, nil, "run", "--locked", "--out", w.out, specPath)
	if res.code != 0 {
		t.Fatalf("run --locked: exit %d\n%s", res.code, res.stderr)
	}
	files := untar(t, filepath.Join(w.out, "locked.tar.gz"))
	if got := files["out/installed-from-lock.json"]; got != recorded {
		t.Errorf("the locked build installed %q, the lock records %q", got, recorded)
	}
	before, _ := os.ReadFile(filepath.Join(w.dir, lock.FileName))

	w.spec(t, target("locked", script+"\n echo changed", ""))
	res = w.matrix(t, nil, "run", "--locked", "--out", filepath.Join(w.dir, "out2"), specPath)
	if res.code != 1 || !strings.Contains(res.stderr, "stale") || !strings.Contains(res.stderr, "locked.tar.gz") {
		t.Errorf("a stale lock: exit %d\n%s", res.code, res.stderr)
	}
	if _, err := os.Stat(filepath.Join(w.dir, "out2")); !os.IsNotExist(err) {
		t.Error("a refused --locked run wrote an output directory")
	}
	if after, _ := os.ReadFile(filepath.Join(w.dir, lock.FileName)); string(after) != string(before) {
		t.Error("a --locked run changed the lock file")
	}
}
