// Package matrix_test checks the import rules of ARCHITECTURE.md, so that they stay
// true: each package may import only the packages of this module listed for it, and
// only the listed packages may import the HCL front end or the Docker client.
package matrix_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/matrixbuild/matrix/"

// allowed lists, per package of the module, the packages of the module it may import
// (production code; tests may import more). A package missing here fails the test:
// a new package gets its rule when it is added.
var allowed = map[string][]string{
	"internal/atomicfile": {},
	"internal/filename":   {},
	"plan":                {},
	"executor":            {"plan"},
	"semver":              {},
	"registry":            {"semver"},
	"pack":                {"internal/atomicfile", "internal/filename"},
	"manifest":            {"internal/atomicfile", "internal/filename"},
	"lock":                {"internal/atomicfile", "plan"},
	"spec":                {"internal/filename", "pack", "plan", "registry", "semver"},
	"resolve":             {"lock", "plan", "registry", "semver"},
	"engine":              {"executor", "plan"},
	"runner":              {"executor", "internal/atomicfile", "internal/filename", "manifest", "pack", "plan"},
	"cmd/matrix":          {"engine", "executor", "lock", "manifest", "pack", "plan", "registry", "resolve", "runner", "spec"},
	"integration":         {},
	"":                    {},

	// Test support, imported by tests only: a fake npm registry.
	"internal/fakeregistry": {},
}

// external lists import path prefixes outside the module and the only packages of the
// module that may import them directly.
var external = map[string][]string{
	"github.com/docker/":         {"engine"},
	"github.com/containerd/":     {"engine"},
	"github.com/opencontainers/": {"engine"},
	"github.com/hashicorp/hcl/":  {"spec", "cmd/matrix"},
	"github.com/zclconf/go-cty/": {"spec"},
	"github.com/klauspost/":      {"pack"},
	"github.com/spf13/cobra":     {"cmd/matrix"},
	"golang.org/x/sync/errgroup": {"runner"},
	"golang.org/x/term":          {"cmd/matrix"},
}

func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], strings.TrimSuffix(module, "/")), "/")
		may, ok := allowed[pkg]
		if !ok {
			t.Errorf("package %q has no import rule: add it to allowed here and to ARCHITECTURE.md", pkg)
			continue
		}
		seen++
		for _, imp := range fields[1:] {
			if own, ok := strings.CutPrefix(imp, module); ok {
				if !slices.Contains(may, own) {
					t.Errorf("%s imports %s; ARCHITECTURE.md allows it only %v", pkg, own, may)
				}
				continue
			}
			for prefix, who := range external {
				if strings.HasPrefix(imp, prefix) && !slices.Contains(who, pkg) {
					t.Errorf("%s imports %s; only %v may", pkg, imp, who)
				}
			}
		}
	}
	if seen < 10 {
		t.Fatalf("go list showed %d packages of the module; the test reads its output wrongly:\n%s", seen, out)
	}
}
