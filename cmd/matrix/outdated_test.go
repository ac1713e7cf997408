package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/lock"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got, with the test's directory written as DIR, to testdata/name.
func golden(t *testing.T, name, dir, got string) {
	t.Helper()
	got = strings.ReplaceAll(got, dir, "DIR")
	path := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s:\n%s\nwant (go test ./cmd/matrix -update rewrites it):\n%s", name, got, want)
	}
}

func pinnedCalls(t *testing.T, lockPath string) []string {
	t.Helper()
	f, err := lock.Read(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	var calls []string
	for _, r := range f.Resolved {
		calls = append(calls, r.Call)
	}
	return calls
}

// TestOutdatedAndUpdate is the maintainer's loop: update pins the calls; outdated is
// current (exit 0) until the registry changes; then it names the versions gained and
// lost and why, and the cells that come and go (exit 1); update --dry-run writes
// nothing; update pins today's answers, drops the pins no longer called, and an update
// after it changes no byte.
func TestOutdatedAndUpdate(t *testing.T) {
	path, fake := registryProject(t, sharpMatrix)
	dir := filepath.Dir(path)
	lockPath := filepath.Join(dir, lock.FileName)
	code, out, stderr := runCmd(t, "update", path)
	if code != 0 {
		t.Fatalf("update: exit %d\n%s", code, stderr)
	}
	golden(t, "update-first.golden", dir, out)
	pinned := readFile(t, lockPath)
	for _, cmd := range []string{"outdated", "update"} {
		code, out, stderr := runCmd(t, cmd, path)
		if code != 0 || stderr != "" {
			t.Errorf("%s right after update: exit %d\n%s%s", cmd, code, out, stderr)
		}
		golden(t, cmd+"-current.golden", dir, out)
	}
	if readFile(t, lockPath) != pinned {
		t.Error("an update that changed nothing rewrote the lock")
	}

	fake.Publish("sharp", "0.34.5", "0.34.6", "2026-11-26T08:00:00.000Z")
	fake.Deprecate("sharp", "0.33.5", "please upgrade to 0.34")
	fake.Publish("sharp", "0.35.5", "0.35.6", "2026-11-26T09:00:00.000Z")
	fake.Edit("sharp", func(doc map[string]any) {
		doc["versions"].(map[string]any)["0.35.6"].(map[string]any)["engines"] = map[string]any{"node": ">=22.0.0"}
	})
	code, out, _ = runCmd(t, "outdated", path)
	if code != 1 {
		t.Errorf("outdated: exit %d, want 1", code)
	}
	golden(t, "outdated.golden", dir, out)
	code, out, _ = runCmd(t, "outdated", "--json", path)
	if code != 1 {
		t.Errorf("outdated --json: exit %d, want 1", code)
	}
	var parsed map[string]any
	if err := json.Unmarshal([]byte(out), &parsed); err != nil || parsed["outdated"] != true {
		t.Errorf("outdated --json: %v, %v", parsed, err)
	}
	golden(t, "outdated-json.golden", dir, out)

	code, out, _ = runCmd(t, "update", "--dry-run", path)
	if code != 0 || readFile(t, lockPath) != pinned {
		t.Errorf("update --dry-run: exit %d, or it wrote the lock", code)
	}
	golden(t, "update-dry-run.golden", dir, out)
	code, out, _ = runCmd(t, "update", path)
	if code != 0 {
		t.Errorf("update: exit %d", code)
	}
	golden(t, "update.golden", dir, out)
	want := []string{`npm_package("sharp", "0.33.4")`, `npm_package("sharp", "0.34.6")`, `npm_package("sharp", "0.35.6")`, `npm_versions("sharp", ">=0.33.0 <0.36.0", {per = "minor"})`}
	if got := pinnedCalls(t, lockPath); !slices.Equal(got, want) {
		t.Errorf("pinned after update: %q, want %q", got, want)
	}
	if code, out, _ := runCmd(t, "outdated", path); code != 0 {
		t.Errorf("outdated after update: exit %d\n%s", code, out)
	}
	if n := fake.Requests()["sharp"]; n != 8 {
		t.Errorf("%d requests for sharp in 8 commands that resolve afresh, want one each", n)
	}
}

func TestOutdatedAndUpdateUsage(t *testing.T) {
	for _, args := range [][]string{
		{"outdated", "a.hcl", "b.hcl"},
		{"update", "a.hcl", "b.hcl"},
		{"outdated", "--locked"},
		{"update", "--soon"},
		{"lock", "--locked"},
	} {
		if code, _, stderr := runCmd(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, code, stderr)
		}
	}
}
