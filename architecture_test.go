// Package matrix_test checks the import rules of ARCHITECTURE.md, so that they stay
// true: each package may import only the packages of this module its row of the
// package table names, and only the listed packages may import a third-party package.
package matrix_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/matrixbuild/matrix/"

// external lists import path prefixes outside the module and the only packages of the
// module that may import them directly.
var external = map[string][]string{
	"github.com/docker/":           {"engine"},
	"github.com/containerd/":       {"engine"},
	"github.com/opencontainers/":   {"engine"},
	"github.com/hashicorp/hcl/":    {"spec", "cmd/matrix"},
	"github.com/zclconf/go-cty/":   {"spec"},
	"github.com/agext/levenshtein": {"spec"},
	"github.com/klauspost/":        {"pack"},
	"github.com/spf13/cobra":       {"cmd/matrix"},
	"golang.org/x/sync/errgroup":   {"runner"},
	"golang.org/x/term":            {"cmd/matrix"},
	"golang.org/x/crypto/ssh":      {"provenance"},
}

// allowedImports reads the package table of ARCHITECTURE.md: per package of the
// module, the packages of the module it may import (production code; tests may import
// more). The table is the rule, so the page cannot drift from the code.
func allowedImports(t *testing.T) map[string][]string {
	data, err := os.ReadFile("ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^\\| `([a-z/]+)` \\|.*\\| ([^|]+) \\|$")
	allowed := map[string][]string{}
	for _, line := range strings.Split(string(data), "\n") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		may := []string{}
		if list := strings.TrimSpace(m[2]); list != "—" {
			for _, p := range strings.Split(list, ",") {
				may = append(may, strings.TrimSpace(p))
			}
		}
		allowed[m[1]] = may
	}
	if len(allowed) < 10 {
		t.Fatalf("ARCHITECTURE.md's package table has %d rows; the test reads it wrongly", len(allowed))
	}
	return allowed
}

func TestImportRules(t *testing.T) {
	allowed := allowedImports(t)
	// Packages with production files only: a directory of tests alone has no rule.
	out, err := exec.Command("go", "list", "-f", `{{if .GoFiles}}{{.ImportPath}}{{range .Imports}} {{.}}{{end}}{{end}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		pkg := strings.TrimPrefix(fields[0], module)
		may, ok := allowed[pkg]
		if !ok {
			t.Errorf("package %q has no row in ARCHITECTURE.md's package table", pkg)
			continue
		}
		seen++
		for _, imp := range fields[1:] {
			checkImport(t, pkg, imp, may)
		}
	}
	if seen < 10 {
		t.Fatalf("go list showed %d packages of the module; the test reads its output wrongly:\n%s", seen, out)
	}
}

// checkImport applies the rules to one import of pkg: a package of the module must be
// in pkg's row, a third-party one in external, with pkg among those that may.
func checkImport(t *testing.T, pkg, imp string, may []string) {
	t.Helper()
	if own, ok := strings.CutPrefix(imp, module); ok {
		if !slices.Contains(may, own) {
			t.Errorf("%s imports %s; ARCHITECTURE.md allows it only %v", pkg, own, may)
		}
		return
	}
	if first, _, _ := strings.Cut(imp, "/"); !strings.Contains(first, ".") {
		return // the standard library
	}
	for prefix, who := range external {
		if strings.HasPrefix(imp, prefix) {
			if !slices.Contains(who, pkg) {
				t.Errorf("%s imports %s; only %v may", pkg, imp, who)
			}
			return
		}
	}
	t.Errorf("%s imports %s, a third-party package no rule names: add it to external here and to ARCHITECTURE.md", pkg, imp)
}
