package main

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/lock"
	"github.com/matrixbuild/matrix/plan"
)

// TestLockedFiles: each use of the lock, as Cargo uses Cargo.lock. A current entry
// hands its cell exactly its lock_files; --locked (strict) refuses a missing or stale
// entry, a plain run (prefer) resolves those cells anew; an entry holding another file
// (an .npmrc that redirects npm) stops both before anything is built, naming the entry
// and the file; matrix lock --upgrade (ignore) installs nothing from the lock.
func TestLockedFiles(t *testing.T) {
	cell := func(artifact string) plan.Cell {
		return plan.Cell{Target: "t", Artifact: artifact, Script: "npm ci", Workdir: "/build", LockFiles: []string{"package.json", "package-lock.json"}}
	}
	declared := map[string][]byte{"package.json": []byte("{}\n"), "package-lock.json": []byte("{}\n")}
	l := &lockFile{path: "matrix.lock.json", file: &lock.File{Cells: map[string]*lock.Entry{}}, exists: true}
	for _, name := range []string{"good.tar.gz", "stale.tar.gz", "planted.tar.gz"} {
		if err := l.file.Record(cell(name), "", declared); err != nil {
			t.Fatal(err)
		}
	}
	l.file.Cells["planted.tar.gz"].Files[".npmrc"] = lock.Content("registry=http://evil.example/\n")
	stale := cell("stale.tar.gz")
	stale.Script = "npm ci # edited"
	noLockFiles := cell("plain.tar.gz")
	noLockFiles.LockFiles = nil
	skipped := cell("skipped.tar.gz")
	skipped.Skip = "not supported"
	tests := []struct {
		name      string
		use       lockUse
		cells     []plan.Cell
		installed []string
		resolving int
		err       string // a part of the error; "" for none
	}{
		{"strict, current", lockStrict, []plan.Cell{cell("good.tar.gz"), noLockFiles, skipped}, []string{"good.tar.gz"}, 0, ""},
		{"strict, stale", lockStrict, []plan.Cell{cell("good.tar.gz"), stale}, nil, 0, "--locked: matrix.lock.json cannot be used:\nstale.tar.gz: the lock entry is stale"},
		{"strict, missing", lockStrict, []plan.Cell{cell("new.tar.gz")}, nil, 0, "new.tar.gz: no entry in the lock file"},
		{"strict, planted", lockStrict, []plan.Cell{cell("good.tar.gz"), cell("planted.tar.gz")}, nil, 0, `planted.tar.gz: the lock entry holds what a build never records: it holds ".npmrc"`},
		{"prefer", lockPrefer, []plan.Cell{cell("good.tar.gz"), stale, cell("new.tar.gz"), noLockFiles, skipped}, []string{"good.tar.gz"}, 2, ""},
		{"prefer, planted", lockPrefer, []plan.Cell{cell("good.tar.gz"), cell("planted.tar.gz")}, nil, 0, "installing from the lock file: matrix.lock.json cannot be used:\nplanted.tar.gz: the lock entry holds what a build never records"},
		{"ignore", lockIgnore, []plan.Cell{cell("good.tar.gz"), cell("planted.tar.gz"), stale}, nil, 0, ""},
	}
	for _, tt := range tests {
		got, resolving, err := lockedFiles(l, tt.cells, tt.use)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || strings.Contains(err.Error(), "good.tar.gz") {
				t.Errorf("%s: err = %v, want %q not naming good.tar.gz", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if names := slices.Sorted(maps.Keys(got)); !slices.Equal(names, tt.installed) || resolving != tt.resolving {
			t.Errorf("%s: installs %v, resolves %d; want %v, %d", tt.name, names, resolving, tt.installed, tt.resolving)
		}
		for name, files := range got {
			if names := slices.Sorted(maps.Keys(files)); !slices.Equal(names, []string{"package-lock.json", "package.json"}) {
				t.Errorf("%s: inputs of %s = %v", tt.name, name, names)
			}
		}
	}
	l.exists = false
	if _, _, err := lockedFiles(l, []plan.Cell{cell("good.tar.gz")}, lockStrict); err == nil || !strings.Contains(err.Error(), "matrix.lock.json does not exist") {
		t.Errorf("strict without a lock file: %v", err)
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

// TestRecordLocksListsDroppedCellsEscapedAndBounded: the entries the plan no longer
// has are named from the lock file, hostile: escaped (ESC, OSC, U+202E), and at most
// maxListed of them, then how many more.
func TestRecordLocksListsDroppedCellsEscapedAndBounded(t *testing.T) {
	l := &lockFile{path: t.TempDir() + "/matrix.lock.json", file: &lock.File{Cells: map[string]*lock.Entry{}}, exists: true}
	hostile := []string{"\x1b]0;PWNED\x07a.tar.gz", "a\u202eb.tar.gz", "c\x1b[2J.tar.gz"}
	for _, name := range hostile {
		l.file.Cells[name] = &lock.Entry{Target: "t"}
	}
	for i := range 25 { // maxListed (20) and 5 more
		l.file.Cells[fmt.Sprintf("z%03d.tar.gz", i)] = &lock.Entry{Target: "t"}
	}
	var stderr strings.Builder
	if _, err := recordLocks(l, nil, nil, nil, true, &stderr); err != nil {
		t.Fatal(err)
	}
	out := stderr.String()
	for _, want := range []string{"dropped the entries of 28 cells", `\x1b]0;PWNED\x07a.tar.gz`, `a\u202eb.tar.gz`, `c\x1b[2J.tar.gz`, "z016.tar.gz and 8 more\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
	if strings.ContainsAny(out, "\x1b\x07\u202e") || strings.Contains(out, "z017") {
		t.Errorf("stderr: %q", out)
	}
}
