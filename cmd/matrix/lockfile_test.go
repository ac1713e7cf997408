package main

import (
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/lock"
	"github.com/matrixbuild/matrix/plan"
)

// TestLockedFilesAreTheDeclaredOnes: --locked hands each cell exactly its lock_files;
// an entry holding another file (an .npmrc that redirects npm) stops the run before
// anything is built, naming the entry and the file.
func TestLockedFilesAreTheDeclaredOnes(t *testing.T) {
	cell := func(artifact string) plan.Cell {
		return plan.Cell{Target: "t", Artifact: artifact, Script: "npm ci", Workdir: "/build", LockFiles: []string{"package.json", "package-lock.json"}}
	}
	declared := map[string][]byte{"package.json": []byte("{}\n"), "package-lock.json": []byte("{}\n")}
	l := &lockFile{path: "matrix.lock.json", file: &lock.File{Cells: map[string]*lock.Entry{}}, exists: true}
	l.file.Record(cell("good.tar.gz"), "", declared)

	got, err := lockedFiles(l, []plan.Cell{cell("good.tar.gz")}, true)
	if err != nil {
		t.Fatal(err)
	}
	if names := slices.Sorted(maps.Keys(got["good.tar.gz"])); !slices.Equal(names, []string{"package-lock.json", "package.json"}) {
		t.Errorf("inputs of good.tar.gz = %v", names)
	}

	planted := maps.Clone(declared)
	planted[".npmrc"] = []byte("registry=http://evil.example/\n")
	l.file.Record(cell("planted.tar.gz"), "", planted)
	_, err = lockedFiles(l, []plan.Cell{cell("good.tar.gz"), cell("planted.tar.gz")}, true)
	if err == nil || !strings.Contains(err.Error(), `planted.tar.gz: the lock entry holds what a build never records: it holds ".npmrc"`) ||
		!strings.Contains(err.Error(), "matrix.lock.json cannot be used") || strings.Contains(err.Error(), "good.tar.gz") {
		t.Errorf("an entry with an .npmrc: %v", err)
	}
}

// documents names the document each request asked for, by its Accept header.
func documents(accepts []string) []string {
	var out []string
	for _, a := range accepts {
		switch {
		case strings.HasPrefix(a, "application/vnd.npm.install-v1+json"):
			out = append(out, "abbreviated")
		case a == "application/json":
			out = append(out, "full")
		default:
			out = append(out, "Accept: "+a)
		}
	}
	return out
}

// TestOneDocumentPerCommand: each command that asks the registry makes one request
// for sharp, of the document the lock's pins say the file needs. Nothing pinned, or an
// npm_package pin: the full one. Only npm_versions pins: the abbreviated one, and an
// npm_package call added since is answered by that request too when the registry sends
// the full document to it, as the fake (and the registry reachable here) does.
func TestOneDocumentPerCommand(t *testing.T) {
	versionsOnly := `
target "sharp" {
  matrix   = { sharp = npm_versions("sharp", ">=0.33.0 <0.36.0", { per = "minor" }) }
  image    = "local/debian:bookworm"
  script   = "echo ${matrix.sharp}"
  artifact = "sharp-${matrix.sharp}.tar.gz"
}
`
	path, fake := registryProject(t, versionsOnly)
	step := func(code int, want string, args ...string) {
		t.Helper()
		before := len(fake.Headers("Accept"))
		if got, _, stderr := runCmd(t, append(args, path)...); got != code {
			t.Fatalf("%v: exit %d, want %d\n%s", args, got, code, stderr)
		}
		if got := documents(fake.Headers("Accept")[before:]); !slices.Equal(got, []string{want}) {
			t.Errorf("%v: requests for the documents %q, want one for the %s document", args, got, want)
		}
	}
	step(0, "full", "validate")
	step(0, "abbreviated", "outdated")
	step(0, "abbreviated", "update")
	// The root matrix file's shape: npm_package of the versions npm_versions gives.
	withPackage := strings.Replace(versionsOnly, `"echo ${matrix.sharp}"`, `"echo ${npm_package("sharp", matrix.sharp).integrity}"`, 1)
	if err := os.WriteFile(path, []byte(withPackage), 0o644); err != nil {
		t.Fatal(err)
	}
	step(1, "abbreviated", "outdated") // the npm_package calls are not pinned yet
	step(0, "abbreviated", "update")
	step(0, "full", "outdated")
	step(0, "full", "update")
	if n := fake.Requests()["sharp"]; n != 7 {
		t.Errorf("%d requests for sharp in 7 commands, want one each", n)
	}
}
