package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/lock"
)

// nodeImage is a Node.js image that scripts/images.sh builds (npm included).
const nodeImage = "local/node:22"

// npmSpec is a matrix file whose target installs a real package from the npm registry
// with an npm block: @node-rs/argon2 publishes its binaries as optional packages for
// every platform, glibc and musl ones among them, so a lock that is not cut down to
// the cell's platform makes npm ci install the musl one too. comment ends the
// post-install script.
func npmSpec(comment string) string {
	return fmt.Sprintf(`
target "argon2" {
  image    = %q
  network  = "host"
  env      = { NODE_EXTRA_CA_CERTS = "/etc/ssl/certs/matrix-ca.crt" }
  mount {
    source    = "/etc/ssl/certs/ca-certificates.crt"
    target    = "/etc/ssl/certs/matrix-ca.crt"
    read_only = true
  }
  mount {
    type   = "cache"
    source = "npm"
    target = "/root/.npm"
  }
  npm {
    install = ["@node-rs/argon2@2.0.2"]
    cpu     = "x64"
    os      = "linux"
    libc    = "glibc"
  }
  script   = "rm -rf node_modules/.bin # %s"
  artifact = "argon2.tar.gz"
  timeout  = "5m"
  retries  = 0
  test {
    script = "node -e 'require(\"@node-rs/argon2\").hash(\"x\").then((h) => console.log(\"hashed: \" + h.slice(0, 9)))'"
  }
}
`, nodeImage, comment)
}

// TestNpmBlockInstallsAndLocks builds a real package with an npm block: a first run
// resolves (npm install), records package.json and a package-lock.json cut down to the
// glibc binary, and runs the post-install script; a second run, with only the
// post-install script's comment changed, installs from the lock (npm ci) and gives the
// same sha256; a --locked run gives the same SHA256SUMS. The log shows the steps.
func TestNpmBlockInstallsAndLocks(t *testing.T) {
	e := needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := e.Resolve(ctx, nodeImage, ""); err != nil {
		if os.Getenv("CI") != "" || os.Getenv("MATRIX_REQUIRE_DOCKER") != "" {
			t.Fatalf("image %s: %v (run scripts/images.sh)", nodeImage, err)
		}
		t.Skipf("image %s: %v (run scripts/images.sh)", nodeImage, err)
	}
	w := newWorkspace(t)
	specPath := w.spec(t, npmSpec("first"))
	lockPath := filepath.Join(w.dir, lock.FileName)
	outs := []string{filepath.Join(w.dir, "out1"), filepath.Join(w.dir, "out2"), filepath.Join(w.dir, "out3")}

	res := w.matrix(t, nil, "run", "--out", outs[0], specPath)
	if res.code != 0 {
		t.Fatalf("first run: exit %d\n%s", res.code, res.stderr)
	}
	files := untar(t, filepath.Join(outs[0], "argon2.tar.gz"))
	for name, want := range map[string]bool{
		"node_modules/@node-rs/argon2/package.json":                true,
		"node_modules/@node-rs/argon2-linux-x64-gnu/package.json":  true,
		"node_modules/@node-rs/argon2-linux-x64-musl/package.json": false,
	} {
		if _, got := files[name]; got != want {
			t.Errorf("the artifact holds %s: %v, want %v", name, got, want)
		}
	}
	for name := range files {
		if strings.HasPrefix(name, "node_modules/.bin/") {
			t.Errorf("the post-install script did not run: the artifact holds %s", name)
		}
	}
	locks, err := lock.Read(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	entry := locks.Cells["argon2.tar.gz"]
	if entry == nil || entry.Files["package.json"] == nil {
		t.Fatalf("lock entry = %+v", entry)
	}
	recorded := string(entry.Files["package-lock.json"])
	if !strings.Contains(recorded, `"node_modules/@node-rs/argon2-linux-x64-gnu"`) || strings.Contains(recorded, `"node_modules/@node-rs/argon2-linux-x64-musl"`) || strings.Contains(recorded, `"node_modules/@node-rs/argon2-darwin-x64"`) {
		t.Errorf("the recorded package-lock.json is not cut down to the glibc x64 binary:\n%s", recorded)
	}
	log1, _ := os.ReadFile(filepath.Join(outs[0], "logs", "argon2.tar.gz.log"))
	if !strings.Contains(string(log1), "+ npm install --no-audit --no-fund --omit=dev --cpu=x64 --os=linux --libc=glibc @node-rs/argon2@2.0.2") {
		t.Errorf("the log does not show the npm install step:\n%s", log1)
	}
	sums1, err := os.ReadFile(filepath.Join(outs[0], "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	lockBefore, _ := os.ReadFile(lockPath)

	// A comment in the post-install script changes no install: the entry stays current.
	w.spec(t, npmSpec("second"))
	res = w.matrix(t, nil, "run", "--out", outs[1], specPath)
	if res.code != 0 || !strings.Contains(res.stderr, "installing 1 cell from") {
		t.Fatalf("second run: exit %d, want it installing from the lock\n%s", res.code, res.stderr)
	}
	log2, _ := os.ReadFile(filepath.Join(outs[1], "logs", "argon2.tar.gz.log"))
	if !strings.Contains(string(log2), "+ npm ci --no-audit --no-fund --omit=dev --cpu=x64 --os=linux --libc=glibc") {
		t.Errorf("the log does not show the npm ci step:\n%s", log2)
	}
	if lockAfter, _ := os.ReadFile(lockPath); string(lockAfter) != string(lockBefore) {
		t.Error("a run installing from the lock changed the lock file")
	}

	res = w.matrix(t, nil, "run", "--locked", "--out", outs[2], specPath)
	if res.code != 0 {
		t.Fatalf("run --locked: exit %d\n%s", res.code, res.stderr)
	}
	for _, out := range outs[1:] {
		sums, err := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
		if err != nil {
			t.Fatal(err)
		}
		if string(sums) != string(sums1) {
			t.Errorf("%s: SHA256SUMS\n%s\ndiffers from the first run's\n%s", out, sums, sums1)
		}
	}
	if entry.ArtifactSHA256 == "" || !strings.HasPrefix(string(sums1), entry.ArtifactSHA256+" ") {
		t.Errorf("the lock records artifact_sha256 %q, the first run's SHA256SUMS is %s", entry.ArtifactSHA256, sums1)
	}
}
