package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// arm64Image is the arm64 Node.js image that scripts/images.sh --arm64 builds: its
// config says linux/arm64, and on an x64 machine it runs under emulation
// (scripts/emulation.sh).
const arm64Image = "local/node:22-arm64"

// arm64Spec builds in the arm64 image what only an arm64 node writes, and tests the
// artifact there: process.arch must be arm64 in both containers.
func arm64Spec(image string) string {
	return fmt.Sprintf(`
target "arch" {
  image    = %[1]q
  platform = "linux/arm64"
  workdir  = "/build"
  script   = <<-EOT
    mkdir -p out
    node -p process.arch > out/arch
    uname -m >> out/arch
  EOT
  collect  = "/build/out"
  artifact = "arch-linux-arm64.tar.gz"
  timeout  = "5m"
  retries  = 0
  test {
    image  = %[1]q
    script = <<-EOT
      set -e
      test "$(node -p process.arch)" = arm64
      test "$(head -n 1 out/arch)" = arm64
      echo "tested on $(node -p 'process.platform + "/" + process.arch') ($(uname -m))"
    EOT
    timeout = "5m"
  }
}
`, image)
}

// TestArm64UnderEmulation builds a cell in an arm64 image and tests it in one, on
// this machine's engine (x64 in CI, which emulates arm64 after scripts/setup.sh):
// the artifact holds what an arm64 node wrote, the test ran arm64 code, and the
// manifest records linux/arm64 for both images. The image itself is honest: its
// config says arm64.
func TestArm64UnderEmulation(t *testing.T) {
	e := needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	img, err := e.Resolve(ctx, arm64Image, "")
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("MATRIX_REQUIRE_DOCKER") != "" {
			t.Fatalf("image %s: %v (run scripts/setup.sh, which builds it with scripts/images.sh --arm64)", arm64Image, err)
		}
		t.Skipf("image %s: %v (run scripts/images.sh --arm64 22)", arm64Image, err)
	}
	if img.Platform() != "linux/arm64" {
		t.Fatalf("image %s says it is %s, want linux/arm64", arm64Image, img.Platform())
	}

	w := newWorkspace(t)
	res := w.matrix(t, nil, "run", "--out", w.out, w.spec(t, arm64Spec(arm64Image)))
	if res.code != 0 {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	const art = "arch-linux-arm64.tar.gz"
	m := checkRun(t, e, w, res.stderr, want{ok: []string{art}})
	if got := untar(t, filepath.Join(w.out, art))["out/arch"]; got != "arm64\naarch64\n" {
		t.Errorf("the artifact's out/arch = %q, want what an arm64 node and uname write", got)
	}
	a := m.Artifacts[0]
	if a.Image.Platform != "linux/arm64" || a.Image.ID != img.ID {
		t.Errorf("manifest build image = %+v, want %s (%s) on linux/arm64", a.Image, arm64Image, img.ID)
	}
	if a.Test == nil || !a.Test.Passed || a.Test.Image.Platform != "linux/arm64" || a.CrossBuilt {
		t.Fatalf("manifest test = %+v (cross_built %v), want a passed test on linux/arm64", a.Test, a.CrossBuilt)
	}
	if !strings.Contains(a.Test.Output, "tested on linux/arm64 (aarch64)") {
		t.Errorf("test output = %q, want what an arm64 node says", a.Test.Output)
	}
}
