package lock

import (
	"errors"
	"os"
	"path/filepath"
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
