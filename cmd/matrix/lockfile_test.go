package main

import (
	"maps"
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
