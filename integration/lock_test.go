package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/lock"
	"github.com/matrixbuild/matrix/manifest"
)

// TestLockAndLocked: `matrix lock` records the lock_files a build leaves and keeps no
// artifact; `matrix run --locked` hands them back to the script (MATRIX_LOCKED=1);
// a changed script makes the entry stale and --locked refuses before building. The
// lock is used as Cargo uses Cargo.lock: a plain run installs a cell whose entry is
// current from it and leaves the entry alone, `matrix lock` builds nothing when every
// entry is current, `matrix lock --upgrade` resolves anew, and a plain run resolves
// and records a cell whose entry went stale.
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
	lockPath := filepath.Join(w.dir, lock.FileName)
	lockText := func() string { data, _ := os.ReadFile(lockPath); return string(data) }
	first := lockText()

	res = w.matrix(t, nil, "lock", specPath)
	if res.code != 0 || !strings.Contains(res.stderr, "every cell's entry is current") || lockText() != first {
		t.Errorf("matrix lock with a current entry: exit %d, the lock changed: %v\n%s", res.code, lockText() != first, res.stderr)
	}
	res = w.matrix(t, nil, "run", "--out", filepath.Join(w.dir, "plain"), specPath)
	if res.code != 0 || !strings.Contains(res.stderr, "installing 1 cell from") {
		t.Fatalf("a plain run: exit %d\n%s", res.code, res.stderr)
	}
	if got := untar(t, filepath.Join(w.dir, "plain", "locked.tar.gz"))["out/installed-from-lock.json"]; got != recorded || lockText() != first {
		t.Errorf("a plain run installed %q (the lock records %q); the lock changed: %v", got, recorded, lockText() != first)
	}
	res = w.matrix(t, nil, "lock", "--upgrade", specPath)
	upgraded, _ := lock.Read(lockPath)
	if res.code != 0 || upgraded == nil || upgraded.Cells["locked.tar.gz"] == nil || string(upgraded.Cells["locked.tar.gz"].Files["package-lock.json"]) == recorded {
		t.Fatalf("matrix lock --upgrade did not resolve anew: exit %d\n%s", res.code, res.stderr)
	}
	recorded = string(upgraded.Cells["locked.tar.gz"].Files["package-lock.json"])

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
	res = w.matrix(t, nil, "run", "--out", filepath.Join(w.dir, "out3"), specPath)
	again, _ := lock.Read(lockPath)
	if res.code != 0 || again == nil || again.Cells["locked.tar.gz"] == nil || string(again.Cells["locked.tar.gz"].Files["package-lock.json"]) == recorded ||
		!strings.Contains(res.stderr, "recorded the lock_files of 1 cell") {
		t.Errorf("a plain run with a stale entry did not resolve and record anew: exit %d\n%s", res.code, res.stderr)
	}
}

// TestLockedRebuildProvesItsBytes: a cell installed from its lock entry must give the
// artifact whose sha256 the entry records. A plain run records it; a --locked
// rebuild into the same output directory gives it again. A build that installs
// something else (here an extra file, as npm ci adding another libc's binary) fails,
// in a plain run with a current entry too, naming the artifact, both sha256s and the
// differing entry, and leaves the earlier artifact. A lock whose artifact_sha256 was
// edited fails --locked naming the artifact; --allow-drift keeps the artifact and the
// manifest says so.
func TestLockedRebuildProvesItsBytes(t *testing.T) {
	needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	script := `
		mkdir -p out
		if [ "$${MATRIX_LOCKED:-}" != 1 ]; then
		  echo '{"name":"x"}' > package.json
		  echo "{\"resolved\":\"$(cat /proc/sys/kernel/random/uuid)\"}" > package-lock.json
		fi
		cp package-lock.json out/installed.json
		if [ -n "$EXTRA" ]; then echo musl > out/musl.node; fi`
	specPath := w.spec(t, `variable "extra" { default = "" }`+"\n"+target("locked", script, `  env = { EXTRA = var.extra }`))
	lockPath := filepath.Join(w.dir, lock.FileName)
	artifact := filepath.Join(w.out, "locked.tar.gz")

	res := w.matrix(t, nil, "run", "--out", w.out, specPath)
	if res.code != 0 {
		t.Fatalf("the first run: exit %d\n%s", res.code, res.stderr)
	}
	recorded, err := lock.Read(lockPath)
	if err != nil || recorded.Cells["locked.tar.gz"] == nil {
		t.Fatalf("lock: %v", err)
	}
	sha := recorded.Cells["locked.tar.gz"].ArtifactSHA256
	earlier, _ := os.ReadFile(artifact)

	// --force: unchanged, the cell would reuse the artifact of the run that recorded
	// its entry.
	res = w.matrix(t, nil, "run", "--locked", "--force", "--out", w.out, specPath)
	m, _ := manifest.Read(w.out)
	if res.code != 0 || m == nil || len(m.Artifacts) != 1 || m.Artifacts[0].SHA256 != sha || m.Artifacts[0].LockSHA256 != sha || m.Artifacts[0].Drift {
		t.Fatalf("a --locked rebuild: exit %d, manifest %+v\n%s", res.code, m, res.stderr)
	}

	// The plain run installs from the current entry, and gets another tree.
	res = w.matrix(t, nil, "run", "--var", "extra=1", "--out", w.out, specPath)
	for _, want := range []string{"locked.tar.gz drifted from the lock", "the lock entry records " + sha, "out/musl.node: 5 bytes, sha256 ", "| absent", "--allow-drift"} {
		if res.code != 1 || !strings.Contains(res.stderr, want) {
			t.Errorf("a drifted build: exit %d, stderr lacks %q\n%s", res.code, want, res.stderr)
		}
	}
	if now, _ := os.ReadFile(artifact); string(now) != string(earlier) {
		t.Error("the drifted build replaced the earlier artifact")
	}
	assertNoPartialFiles(t, w.out)
	assertVerifies(t, w)

	// An edited lock.
	edited := strings.Repeat("0", 64)
	recorded.Cells["locked.tar.gz"].ArtifactSHA256 = edited
	if err := recorded.Write(lockPath); err != nil {
		t.Fatal(err)
	}
	out2 := filepath.Join(w.dir, "out2")
	res = w.matrix(t, nil, "run", "--locked", "--out", out2, specPath)
	for _, want := range []string{"locked.tar.gz drifted from the lock", "the build gave sha256 " + sha, "the lock entry records " + edited} {
		if res.code != 1 || !strings.Contains(res.stderr, want) {
			t.Errorf("an edited lock: exit %d, stderr lacks %q\n%s", res.code, want, res.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(out2, "locked.tar.gz")); err == nil {
		t.Error("a drifted artifact was kept")
	}
	res = w.matrix(t, nil, "run", "--locked", "--allow-drift", "--out", out2, specPath)
	m, _ = manifest.Read(out2)
	if res.code != 0 || !strings.Contains(res.stderr, "matrix: warning: locked.tar.gz drifted from the lock") || m == nil || !m.AllowDrift ||
		len(m.Artifacts) != 1 || !m.Artifacts[0].Drift || m.Artifacts[0].LockSHA256 != edited || m.Artifacts[0].SHA256 != sha {
		t.Errorf("--allow-drift: exit %d, manifest %+v\n%s", res.code, m, res.stderr)
	}
}
