package lock

import (
	"encoding/json"
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
	f.Record(plan.Cell{Target: "t", Artifact: "a.tar.gz"}, "abc", map[string][]byte{"package.json": []byte("{}\n")})
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

// TestResolvedTypeErrors: a value of the wrong type in the resolved section is an
// error that names the entry, its call and the field, in words rather than Go's.
func TestResolvedTypeErrors(t *testing.T) {
	golden, err := os.ReadFile(filepath.Join("testdata", "resolved.lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	const pkg1 = `resolved entry 1 (npm_package("sharp", "0.33.5")): `
	const vers = `resolved entry 3 (npm_versions("sharp", ">=0.33.0 <0.35.0", {per = "minor"})): `
	tests := []struct {
		name string
		edit func(doc map[string]any)
		want string
	}{
		{"a version not a string", func(doc map[string]any) { entry(doc, 2)["versions"].([]any)[1] = 5 }, vers + "versions[1]: a number, want a string"},
		{"versions not a list", func(doc map[string]any) { entry(doc, 2)["versions"] = "0.33.5" }, vers + "versions: a string, want a list of strings"},
		{"an engine not a string", func(doc map[string]any) { packageOf(doc, 0)["engines"] = map[string]any{"node": 5} }, pkg1 + "package.engines.node: a number, want a string"},
		{"engines a list", func(doc map[string]any) { packageOf(doc, 0)["engines"] = []any{} }, pkg1 + "package.engines: a list, want an object of strings"},
		{"os not a list", func(doc map[string]any) { packageOf(doc, 0)["os"] = "linux" }, pkg1 + "package.os: a string, want a list of strings"},
		{"the section a string", func(doc map[string]any) { doc["resolved"] = "x" }, "resolved: a string, want a list of entries"},
		{"an entry a number", func(doc map[string]any) { doc["resolved"].([]any)[1] = 7 }, "resolved entry 2: a number, want an object"},
		{"resolved_at not a time", func(doc map[string]any) { entry(doc, 0)["resolved_at"] = "yesterday" }, pkg1 + `resolved_at: "yesterday" is not an RFC 3339 time`},
		{"resolved_at a number", func(doc map[string]any) { entry(doc, 0)["resolved_at"] = 2024 }, pkg1 + `resolved_at: a number, want an RFC 3339 time`},
		{"published not a time", func(doc map[string]any) { packageOf(doc, 0)["published"] = "2024" }, pkg1 + `package.published: "2024" is not an RFC 3339 time`},
		{"the call a number", func(doc map[string]any) { entry(doc, 0)["call"] = 1 }, "resolved entry 1: call: a number, want a string"},
		{"a call that is no text", func(doc map[string]any) {
			entry(doc, 0)["call"] = "npm_package(\"sharp\", \"0.33.5\")\r\x1b[2J"
			entry(doc, 0)["function"] = true
		}, `resolved entry 1 ("npm_package(\"sharp\", \"0.33.5\")\r\x1b[2J"): function: true or false, want a string`},
		{"last not a number", func(doc map[string]any) {
			entry(doc, 2)["arguments"].(map[string]any)["options"].(map[string]any)["last"] = "2"
		},
			vers + "arguments.options.last: a string, want a whole number"},
		{"last not whole", func(doc map[string]any) {
			entry(doc, 2)["arguments"].(map[string]any)["options"].(map[string]any)["last"] = 1.5
		},
			vers + "arguments.options.last: 1.5 is not a whole number"},
		{"prerelease a string", func(doc map[string]any) {
			entry(doc, 2)["arguments"].(map[string]any)["options"].(map[string]any)["prerelease"] = "yes"
		}, vers + "arguments.options.prerelease: a string, want true or false"},
		{"arguments a list", func(doc map[string]any) { entry(doc, 2)["arguments"] = []any{} }, vers + "arguments: a list, want an object"},
		{"package a list", func(doc map[string]any) { entry(doc, 0)["package"] = []any{} }, pkg1 + "package: a list, want an object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal(golden, &doc); err != nil {
				t.Fatal(err)
			}
			tc.edit(doc)
			data, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), FileName)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = Read(path)
			if err == nil || !strings.HasSuffix(err.Error(), ": "+tc.want) || !strings.HasPrefix(err.Error(), path+": ") ||
				strings.Contains(err.Error(), "unmarshal") || strings.Contains(err.Error(), "Go ") {
				t.Errorf("error:\n%v\nwant it to end with:\n%s", err, tc.want)
			}
		})
	}
}

func entry(doc map[string]any, i int) map[string]any {
	return doc["resolved"].([]any)[i].(map[string]any)
}

func packageOf(doc map[string]any, i int) map[string]any {
	return entry(doc, i)["package"].(map[string]any)
}
