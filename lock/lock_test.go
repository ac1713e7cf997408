package lock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/plan"
)

const packageLock = `{
  "name": "build",
  "lockfileVersion": 3,
  "packages": {
    "node_modules/sharp": {
      "version": "0.34.5",
      "engines": {
        "node": "^18.17.0 || ^20.3.0 || >=21.0.0"
      }
    }
  }
}
`

func cell(script string) plan.Cell {
	return plan.Cell{Target: "t", Artifact: "a.tar.gz", Script: script, Workdir: "/build",
		LockFiles: []string{"package.json", "package-lock.json"}}
}

func TestRoundTripKeepsBytesAndIsStable(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	f := &File{Cells: map[string]*Entry{}}
	f.Record(cell("npm install"), "abc", map[string][]byte{"package-lock.json": []byte(packageLock), "package.json": []byte("{\n  \"name\": \"build\"\n}\n")})
	f.Record(plan.Cell{Target: "t", Artifact: "0-first.tar.gz"}, "", map[string][]byte{"notes.txt": []byte("not json")})
	if err := f.Write(path); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(path)
	if strings.Contains(string(first), `\u003e`) || !strings.Contains(string(first), `>=21.0.0"`) {
		t.Errorf("version ranges are escaped:\n%s", first)
	}
	if strings.Index(string(first), "0-first.tar.gz") > strings.Index(string(first), "a.tar.gz") {
		t.Error("cells are not sorted")
	}
	g, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	e, err := g.Lookup(cell("npm install"))
	if err != nil {
		t.Fatal(err)
	}
	if string(e.Files["package-lock.json"]) != packageLock {
		t.Errorf("package-lock.json came back as\n%s", e.Files["package-lock.json"])
	}
	if string(g.Cells["0-first.tar.gz"].Files["notes.txt"]) != "not json" {
		t.Error("a non-JSON file did not round-trip")
	}
	if err := g.Write(path); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(path)
	if string(first) != string(second) {
		t.Error("rewriting the lock file changed it")
	}
}

func TestLookup(t *testing.T) {
	f := &File{Cells: map[string]*Entry{}}
	f.Record(cell("npm install"), "", map[string][]byte{"package-lock.json": []byte("{}"), "package.json": []byte("{}")})
	partial := cell("npm install")
	partial.Artifact = "b.tar.gz"
	f.Record(partial, "", map[string][]byte{"package.json": []byte("{}")})
	tests := []struct {
		name string
		cell plan.Cell
		want error
	}{
		{"fresh", cell("npm install"), nil},
		{"script changed", cell("npm install --omit=dev"), ErrStale},
		{"not recorded", func() plan.Cell { c := cell("npm install"); c.Artifact = "new.tar.gz"; return c }(), ErrMissing},
		{"a lock file missing", partial, ErrStale},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.Lookup(tc.cell)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestReadMissingFile(t *testing.T) {
	f, err := Read(filepath.Join(t.TempDir(), FileName))
	if !errors.Is(err, os.ErrNotExist) || f == nil || f.Cells == nil {
		t.Fatalf("Read of a missing file = %v, %v", f, err)
	}
}

// TestWriteLeavesItsReceiverAlone: Write versions what it writes, not the caller's File.
func TestWriteLeavesItsReceiverAlone(t *testing.T) {
	f := &File{Cells: map[string]*Entry{}}
	f.Record(cell("npm install"), "", map[string][]byte{"package.json": []byte("{}")})
	path := filepath.Join(t.TempDir(), FileName)
	if err := f.Write(path); err != nil {
		t.Fatal(err)
	}
	if f.Version != 0 || len(f.Cells) != 1 {
		t.Errorf("Write changed its receiver: %+v", f)
	}
	// Without resolutions, the format of the lock files before them.
	if g, err := Read(path); err != nil || g.Version != versionCells {
		t.Errorf("written lock file: %+v, %v; want lock_version %d", g, err, versionCells)
	}
}

// TestLookupRefusesUnsafeEntries: an entry holding a file the cell does not declare, a
// path out of the workdir or a file over MaxFileSize is refused, naming the entry and
// the file; what a build records is accepted.
func TestLookupRefusesUnsafeEntries(t *testing.T) {
	declared := map[string][]byte{"package.json": []byte("{}"), "package-lock.json": []byte("{}")}
	with := func(name string, data []byte) map[string][]byte {
		files := maps.Clone(declared)
		files[name] = data
		return files
	}
	for _, tc := range []struct {
		name  string
		files map[string][]byte
		want  string // a part of the error; "" for none
	}{
		{"as recorded", declared, ""},
		{"at the bound", with("package-lock.json", make([]byte, MaxFileSize)), ""},
		{"an npmrc", with(".npmrc", []byte("registry=http://evil.example/\n")), `".npmrc", which is not one of the cell's lock_files (package.json, package-lock.json)`},
		{"another file", with("node_modules/x/install.js", []byte("x")), `"node_modules/x/install.js", which is not one of`},
		{"absolute", with("/etc/profile", []byte("x")), `"/etc/profile", a path that leaves the workdir`},
		{"parent", with("../package.json", []byte("{}")), `"../package.json", a path that leaves the workdir`},
		{"parent inside", with("sub/../../x", []byte("x")), `"sub/../../x", a path that leaves the workdir`},
		{"dot-dot inside", with("sub/../package.json", []byte("x")), `"sub/../package.json", a path that leaves the workdir`},
		{"the workdir", with(".", []byte("x")), `".", a path that leaves the workdir`},
		{"empty", with("", []byte("x")), `"", a path that leaves the workdir`},
		{"too large", with("package-lock.json", make([]byte, MaxFileSize+1)), `"package-lock.json", 16777217 bytes, more than the 16777216`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// An edited lock file, not what Record would make.
			f := &File{Cells: map[string]*Entry{}}
			if err := f.Record(cell("npm install"), "", declared); err != nil {
				t.Fatal(err)
			}
			for name, data := range tc.files {
				f.Cells["a.tar.gz"].Files[name] = Content(data)
			}
			_, err := f.Lookup(cell("npm install"))
			_, ierr := f.Inputs(cell("npm install"))
			if tc.want == "" {
				if err != nil || ierr != nil {
					t.Fatalf("Lookup: %v; Inputs: %v", err, ierr)
				}
				return
			}
			if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "a.tar.gz: ") {
				t.Errorf("err = %v, want ErrUnsafe naming a.tar.gz and %s", err, tc.want)
			}
			if !errors.Is(ierr, ErrUnsafe) {
				t.Errorf("Inputs: err = %v, want ErrUnsafe", ierr)
			}
		})
	}
}

// TestInputsAreTheDeclaredFiles: --locked gets exactly the cell's lock_files.
func TestInputsAreTheDeclaredFiles(t *testing.T) {
	f := &File{Cells: map[string]*Entry{}}
	c := cell("npm install")
	c.LockFiles = []string{"package.json", "sub/package-lock.json"}
	f.Record(c, "", map[string][]byte{"package.json": []byte("{}"), "sub/package-lock.json": []byte("{\"a\":1}")})
	files, err := f.Inputs(c)
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(files)); !slices.Equal(got, []string{"package.json", "sub/package-lock.json"}) {
		t.Errorf("inputs = %v", got)
	}
	if string(files["sub/package-lock.json"]) != "{\"a\":1}" {
		t.Errorf("sub/package-lock.json = %q", files["sub/package-lock.json"])
	}
}

// TestReadRefusesWhatIsNotALockFile: a directory and a file over MaxSize are refused
// before they are read, saying why; a symlink to a lock file is read.
func TestReadRefusesWhatIsNotALockFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := Read(dir); err == nil || !strings.Contains(err.Error(), "not a regular file but a directory") {
		t.Errorf("Read of a directory: %v", err)
	}
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, MaxSize+1); err != nil { // sparse: nothing is written
		t.Fatal(err)
	}
	if _, err := Read(big); err == nil || !strings.Contains(err.Error(), "67108865 bytes, more than the 64 MiB") {
		t.Errorf("Read of a file over MaxSize: %v", err)
	}
	good := filepath.Join(dir, FileName)
	f := &File{Cells: map[string]*Entry{}}
	f.Record(cell("npm install"), "", map[string][]byte{"package.json": []byte("{}")})
	if err := f.Write(good); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(FileName, link); err != nil {
		t.Fatal(err)
	}
	if g, err := Read(link); err != nil || len(g.Cells) != 1 {
		t.Errorf("Read through a symlink: %v, %v", g, err)
	}
}

// TestDeepJSONIsRefusedBeforeIndenting: indenting a deeply nested value grows it
// quadratically; a lock file of a few hundred kilobytes must not need gigabytes.
func TestDeepJSONIsRefusedBeforeIndenting(t *testing.T) {
	deep := strings.Repeat("[", 5000) + strings.Repeat("]", 5000) // about 50 MB indented
	var files strings.Builder
	for i := range 30 {
		fmt.Fprintf(&files, `"f%d": %s,`, i, deep)
	}
	data := `{"lock_version": 1, "cells": {"a.tar.gz": {"target": "t", "files": {` + strings.TrimSuffix(files.String(), ",") + `}}}}`
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(path); err == nil || !strings.Contains(err.Error(), "more than the 16777216 a lock file may have") {
		t.Errorf("Read of deeply nested files: %v", err)
	}
}

// TestIndentedSizeBoundsIndent: the measure is never less than what json.Indent gives.
func TestIndentedSizeBoundsIndent(t *testing.T) {
	for _, s := range []string{
		packageLock, `{}`, `[]`, `[[],{}]`, `{"a":[1,2,{"b":"x,y[{"}],"c":"\"]\\"}`,
		`[[[[[1]]]]]`, `{"a" : [ 1 , 2 ]}`, `"s"`, `12`, strings.Repeat("[", 300) + strings.Repeat("]", 300),
	} {
		var buf bytes.Buffer
		if err := json.Indent(&buf, []byte(s), "", "  "); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if got, min := indentedSize([]byte(s)), int64(buf.Len()+1); got < min {
			t.Errorf("indentedSize(%.40s) = %d, indented it is %d", s, got, min)
		}
	}
}

func TestReadRefusesJSONWithoutLockVersion(t *testing.T) {
	dir := t.TempDir()
	for _, content := range []string{`{"keep":"me"}`, `null`, `{}`, `{"cells":{}}`} {
		path := filepath.Join(dir, FileName)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Read(path); err == nil || !strings.Contains(err.Error(), path+": not a lock file: no lock_version") {
			t.Errorf("Read of %s: %v", content, err)
		}
	}
}

// TestRecordKeepsBytesAndRefusesBrokenJSON: what --locked puts back is the bytes the
// build left, JSON or not, indented as npm does or not; a *.json file that is not JSON
// is refused naming the cell and the file, and the earlier entry kept.
func TestRecordKeepsBytesAndRefusesBrokenJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	c := cell("npm install")
	c.LockFiles = []string{"package.json", "package-lock.json", "yarn.lock"}
	files := map[string][]byte{
		"package.json":      []byte("{\"a\":1}"),          // compact, no newline
		"package-lock.json": []byte("{\n\t\"a\": 1\n}\n"), // tabs
		"yarn.lock":         []byte("# yarn lockfile v1\n"),
	}
	f := &File{Cells: map[string]*Entry{}}
	if err := f.Record(c, "", files); err != nil {
		t.Fatal(err)
	}
	if err := f.Write(path); err != nil {
		t.Fatal(err)
	}
	g, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		if got := g.Cells[c.Artifact].Files[name]; string(got) != string(want) {
			t.Errorf("%s came back as %q, want %q", name, got, want)
		}
	}
	err = g.Record(c, "", map[string][]byte{"package.json": []byte("{}\n"), "package-lock.json": []byte("{\"truncated\": ")})
	if err == nil || !strings.Contains(err.Error(), "a.tar.gz: the build left package-lock.json that is not JSON") {
		t.Errorf("Record of a broken package-lock.json: %v", err)
	}
	if got := g.Cells[c.Artifact].Files["package.json"]; string(got) != "{\"a\":1}" {
		t.Errorf("the earlier entry was replaced: package.json %q", got)
	}
}

// TestPathFor: each matrix file owns its lock file, beside it.
func TestPathFor(t *testing.T) {
	for spec, want := range map[string]string{
		"matrix.hcl":           "matrix.lock.json",
		"dir/arm.hcl":          "dir/arm.lock.json",
		"/abs/layers.v2.hcl":   "/abs/layers.v2.lock.json",
		"noext":                "noext.lock.json",
		"dir.hcl/matrix":       "dir.hcl/matrix.lock.json",
		"dir/.hcl":             "dir/.lock.json",
		"weird.HCL":            "weird.HCL.lock.json",
		"dir/matrix.hcl.draft": "dir/matrix.hcl.draft.lock.json",
	} {
		if got := PathFor(spec); got != want {
			t.Errorf("PathFor(%q) = %q, want %q", spec, got, want)
		}
	}
}

// TestPrune: an entry goes when the plan no longer builds its cell: dropped from an
// axis, skipped now, or of a target the file no longer has (only when the whole file
// was planned); entries of targets not planned stay otherwise.
func TestPrune(t *testing.T) {
	entries := func() *File {
		f := &File{Cells: map[string]*Entry{}}
		for _, c := range []struct{ target, artifact string }{
			{"a", "a-1.tgz"}, {"a", "a-2.tgz"}, {"a", "a-3.tgz"}, {"b", "b-1.tgz"}, {"gone", "gone-1.tgz"},
		} {
			f.Cells[c.artifact] = &Entry{Target: c.target}
		}
		return f
	}
	planned := []plan.Cell{
		{Target: "a", Artifact: "a-1.tgz"},
		{Target: "a", Artifact: "a-2.tgz", Skip: "no longer supported"},
		{Target: "b", Artifact: "b-1.tgz"},
	}
	tests := []struct {
		name    string
		planned []plan.Cell
		whole   bool
		gone    []string
	}{
		{"whole file", planned, true, []string{"a-2.tgz", "a-3.tgz", "gone-1.tgz"}},
		{"target a named", planned[:2], false, []string{"a-2.tgz", "a-3.tgz"}},
		{"target b named", planned[2:], false, nil},
	}
	for _, tt := range tests {
		f := entries()
		gone := f.Prune(tt.planned, tt.whole)
		if !slices.Equal(gone, tt.gone) {
			t.Errorf("%s: pruned %v, want %v", tt.name, gone, tt.gone)
		}
		for _, name := range tt.gone {
			if f.Cells[name] != nil {
				t.Errorf("%s: %s still has an entry", tt.name, name)
			}
		}
		if len(f.Cells) != 5-len(tt.gone) {
			t.Errorf("%s: %d entries left", tt.name, len(f.Cells))
		}
	}
}
