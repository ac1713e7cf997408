package integration

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/internal/fakeregistry"
	"github.com/matrixbuild/matrix/lock"
)

// versionsTarget is a target with one cell per version npm_versions gives for rng,
// skipping those whose engines exclude Node.js 18; each build records v.json as its
// lock file and needs no network.
func versionsTarget(rng string) string {
	return fmt.Sprintf(`
target "v" {
  matrix = { v = npm_versions("sharp", %q, { per = "minor" }) }
  skip {
    condition = !semver_intersects(npm_package("sharp", matrix.v).engines.node, "18.x")
    reason    = "sharp ${matrix.v} needs Node.js ${npm_package("sharp", matrix.v).engines.node}"
  }
  image      = %q
  network    = "none"
  script     = "mkdir -p out && echo ${matrix.v} > out/v && echo '{\"v\": \"${matrix.v}\"}' > v.json"
  collect    = "/build/out"
  lock_files = ["v.json"]
  artifact   = "v-${matrix.v}.tar.gz"
  timeout    = "2m"
  retries    = 0
}
`, rng, testImage)
}

// TestRegistryLoop is the maintainer's loop on the real binary and engine, against a
// fake registry: a run pins the calls, builds the cells and records the skipped one;
// with the registry refusing every request, run --locked builds from the lock alone;
// after a release, update pins it and run --reuse builds only the new cell.
func TestRegistryLoop(t *testing.T) {
	e := needDocker(t)
	fake := fakeregistry.New(t)
	w := newWorkspace(t)
	specPath := w.spec(t, versionsTarget(">=0.33.0 <0.36.0"))
	env := []string{"npm_config_registry=" + fake.URL()}

	res := w.matrix(t, env, "run", "--out", w.out, specPath)
	if res.code != 0 || !strings.Contains(res.stdout, "2 built, 0 reused, 0 failed, 1 skipped") ||
		!regexp.MustCompile(`(?m)^skipped +v\[v=0\.35\.5\] +v=0\.35\.5 +- +- +- +sharp 0\.35\.5 needs Node\.js >=20\.9\.0$`).MatchString(res.stdout) ||
		!strings.Contains(res.stderr, "resolved 4 new registry calls") {
		t.Fatalf("run: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	m := checkRun(t, e, w, res.stderr, want{ok: []string{"v-0.33.5.tar.gz", "v-0.34.5.tar.gz"}})
	if len(m.Skipped) != 1 || m.Skipped[0].Cell != "v[v=0.35.5]" || m.Skipped[0].Reason != "sharp 0.35.5 needs Node.js >=20.9.0" {
		t.Errorf("manifest skipped = %+v", m.Skipped)
	}
	locks, err := lock.Read(filepath.Join(w.dir, lock.FileName))
	if err != nil || len(locks.Cells) != 2 || len(locks.Resolved) != 4 {
		t.Fatalf("lock: %+v, %v", locks, err)
	}

	// matrix lock records the cells it builds, never the skipped one.
	if res = w.matrix(t, env, "lock", specPath); res.code != 0 {
		t.Fatalf("lock: exit %d\n%s", res.code, res.stderr)
	}
	if locks, err = lock.Read(filepath.Join(w.dir, lock.FileName)); err != nil || len(locks.Cells) != 2 || locks.Cells[""] != nil {
		t.Errorf("lock after matrix lock: %v, %v", locks.Names(), err)
	}

	fake.Refuse("everything is pinned")
	res = w.matrix(t, env, "run", "--locked", "--out", filepath.Join(w.dir, "locked"), specPath)
	if res.code != 0 || !strings.Contains(res.stdout, "2 built, 0 reused, 0 failed, 1 skipped") {
		t.Errorf("run --locked: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	fake.Refuse("")

	fake.Publish("sharp", "0.34.5", "0.34.6", "2026-11-26T08:00:00.000Z")
	if res = w.matrix(t, env, "outdated", specPath); res.code != 1 || !strings.Contains(res.stdout, "+  v[v=0.34.6]") {
		t.Errorf("outdated: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if res = w.matrix(t, env, "update", specPath); res.code != 0 {
		t.Fatalf("update: exit %d\n%s", res.code, res.stderr)
	}
	res = w.matrix(t, env, "run", "--reuse", "--out", w.out, specPath)
	if res.code != 0 || !strings.Contains(res.stdout, "1 built, 1 reused, 0 failed, 1 skipped") {
		t.Errorf("run --reuse after update: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	checkRun(t, e, w, res.stderr, want{ok: []string{"v-0.33.5.tar.gz", "v-0.34.5.tar.gz", "v-0.34.6.tar.gz"}})
}

// realRegistry is the registry npm on this machine uses, for the test's environment
// only. Where it cannot be reached the test skips, unless MATRIX_REQUIRE_REGISTRY=1.
func realRegistry(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("npm", "config", "get", "registry").Output()
	url := strings.TrimSpace(string(out))
	if err != nil || !strings.HasPrefix(url, "http") {
		if os.Getenv("MATRIX_REQUIRE_REGISTRY") == "1" {
			t.Fatalf("npm config get registry: %v %q", err, out)
		}
		t.Skipf("no npm to name the registry: %v", err)
	}
	return url
}

// closedPort is an address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestRealRegistryPinsWorkOffline: matrix update resolves sharp's versions on the
// real registry; with the registry unreachable, plan, validate and run --locked work
// from the lock; outdated right after update is current, and names the newest version
// once the lock's resolution lacks it.
func TestRealRegistryPinsWorkOffline(t *testing.T) {
	e := needDocker(t)
	online := []string{"npm_config_registry=" + realRegistry(t)}
	w := newWorkspace(t)
	specPath := w.spec(t, versionsTarget(">=0.33.0 <0.35.0"))
	res := w.matrix(t, online, "update", specPath)
	if res.code != 0 && os.Getenv("MATRIX_REQUIRE_REGISTRY") != "1" && strings.Contains(res.stderr, "cannot fetch") {
		t.Skipf("the registry cannot be reached (MATRIX_REQUIRE_REGISTRY=1 makes this a failure):\n%s", res.stderr)
	}
	lockPath := filepath.Join(w.dir, lock.FileName)
	locks, err := lock.Read(lockPath)
	if res.code != 0 || err != nil {
		t.Fatalf("update: exit %d, %v\n%s", res.code, err, res.stderr)
	}
	var versions *lock.Resolution
	for i, r := range locks.Resolved {
		if r.Function == lock.FuncVersions {
			versions = &locks.Resolved[i]
		}
	}
	if versions == nil || len(versions.Versions) != 2 || versions.Versions[0] != "0.33.5" || !strings.HasPrefix(versions.Versions[1], "0.34.") {
		t.Fatalf("pinned versions: %+v", versions)
	}
	newest := versions.Versions[1]
	if res = w.matrix(t, online, "run", "--out", w.out, specPath); res.code != 0 {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	checkRun(t, e, w, res.stderr, want{ok: []string{"v-0.33.5.tar.gz", "v-" + newest + ".tar.gz"}})

	port := closedPort(t)
	offline := []string{"npm_config_registry=http://" + port + "/", "HTTPS_PROXY=http://" + port, "HTTP_PROXY=http://" + port}
	for _, args := range [][]string{{"plan", specPath}, {"validate", specPath}, {"run", "--locked", "--out", filepath.Join(w.dir, "out2"), specPath}} {
		if res := w.matrix(t, offline, args...); res.code != 0 {
			t.Errorf("%v with the registry unreachable: exit %d\n%s", args, res.code, res.stderr)
		}
	}
	if res := w.matrix(t, offline, "outdated", specPath); res.code != 1 || !strings.Contains(res.stderr, port) {
		t.Errorf("outdated with the registry unreachable: exit %d, want 1 and what was tried\n%s", res.code, res.stderr)
	}

	if res := w.matrix(t, online, "outdated", specPath); res.code != 0 {
		t.Errorf("outdated right after update: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	versions.Versions = versions.Versions[:1]
	if err := locks.Write(lockPath); err != nil {
		t.Fatal(err)
	}
	res = w.matrix(t, online, "outdated", specPath)
	if res.code != 1 || !strings.Contains(res.stdout, "+  "+newest) || !strings.Contains(res.stdout, "+  v[v="+newest+"]") {
		t.Errorf("outdated with the newest version dropped from the lock: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}
