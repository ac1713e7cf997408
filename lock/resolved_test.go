package lock

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var (
	day1 = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	day2 = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
)

func versions(rng string, at time.Time, vs ...string) Resolution {
	return Resolution{
		Call:       `npm_versions("sharp", "` + rng + `", {per = "minor"})`,
		Function:   FuncVersions,
		Arguments:  Arguments{Package: "sharp", Range: rng, Options: &VersionOptions{Per: "minor"}},
		Versions:   vs,
		ResolvedAt: at,
	}
}

func pkg(version, deprecated string, at time.Time) Resolution {
	return Resolution{
		Call:      `npm_package("sharp", "` + version + `")`,
		Function:  FuncPackage,
		Arguments: Arguments{Package: "sharp", Version: version},
		Package: &Package{
			Version: version, Engines: map[string]string{"node": "^18.17.0 || ^20.3.0 || >=21.0.0"},
			OS: []string{}, CPU: []string{}, Libc: []string{}, Deprecated: deprecated,
			Integrity: "sha512-Ou9I5Ft9WNcCbXrU9cMgPBcCK8LiwLqcbywW3t4oDV37n1pzpuNLsYiAV8eODnjbtQlSDwZ2cUEeQz4E54Hltg==",
			Published: time.Date(2025, 11, 6, 14, 9, 41, 123e6, time.UTC),
		},
		ResolvedAt: at,
	}
}

// TestResolvedGolden: the resolved section's bytes, sorted by call, with sorted keys,
// and the same bytes after a read and a write.
func TestResolvedGolden(t *testing.T) {
	f := &File{Cells: map[string]*Entry{}}
	f.AddResolved([]Resolution{
		versions(">=0.33.0 <0.35.0", day1, "0.33.5", "0.34.5"),
		pkg("0.34.5", "", day1.Add(1500*time.Millisecond)),
		pkg("0.33.5", "", day1),
	})
	f.Record(plan.Cell{Target: "t", Artifact: "a.tar.gz"}, "abc", map[string][]byte{"package.json": []byte("{}")})
	got, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "resolved.lock.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("lock file:\n%s\nwant (go test ./lock -update rewrites it):\n%s", got, want)
	}
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	again, err := g.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(want) {
		t.Errorf("read and written again:\n%s", again)
	}
}

// TestResolvedKeepsTimeOfUnchangedAnswers: re-resolving calls whose answers did not
// change changes no byte; a changed answer takes the new time; SetResolved drops the
// calls it is not given, AddResolved keeps them.
func TestResolvedKeepsTimeOfUnchangedAnswers(t *testing.T) {
	f := &File{}
	f.AddResolved([]Resolution{versions(">=0.33.0", day1, "0.33.5", "0.34.5"), pkg("0.34.5", "", day1)})
	before, _ := f.Marshal()

	f.SetResolved([]Resolution{versions(">=0.33.0", day2, "0.33.5", "0.34.5"), pkg("0.34.5", "", day2)})
	if after, _ := f.Marshal(); string(after) != string(before) {
		t.Errorf("an update that changes no answer changed the lock:\n%s", after)
	}

	f.AddResolved([]Resolution{pkg("0.33.5", "", day2)})
	f.SetResolved([]Resolution{versions(">=0.33.0", day2, "0.33.5", "0.34.5", "0.35.0"), pkg("0.34.5", "use 0.34.6", day2.Add(time.Second/3))})
	if len(f.Resolved) != 2 {
		t.Fatalf("SetResolved kept %d entries, want 2: %+v", len(f.Resolved), f.Resolved)
	}
	for _, r := range f.Resolved {
		if !r.ResolvedAt.Equal(day2) {
			t.Errorf("%s: resolved_at %v, want %v (changed answer, seconds)", r.Call, r.ResolvedAt, day2)
		}
	}
	f.AddResolved([]Resolution{pkg("0.33.5", "", day2)})
	if len(f.Resolved) != 3 || f.Resolved[0].Call != `npm_package("sharp", "0.33.5")` {
		t.Errorf("AddResolved: %+v", f.Resolved)
	}
}

// TestOldLockFiles: a lock file without resolutions reads, and is written back byte
// for byte as version 1; a version this tool does not know is refused.
func TestOldLockFiles(t *testing.T) {
	dir := t.TempDir()
	old := "{\n  \"lock_version\": 1,\n  \"cells\": {}\n}\n"
	path := filepath.Join(dir, FileName)
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := f.Marshal(); string(got) != old {
		t.Errorf("an old lock file came back as\n%s", got)
	}
	for _, v := range []string{"0", "3"} {
		if err := os.WriteFile(path, []byte(`{"lock_version": `+v+`, "cells": {}}`), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Read(path); err == nil || !strings.Contains(err.Error(), "lock_version "+v+", this tool reads 1 to 2") {
			t.Errorf("lock_version %s: %v", v, err)
		}
	}
}
