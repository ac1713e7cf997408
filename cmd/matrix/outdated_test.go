package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/internal/fakeregistry"
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
	// The file calls npm_package: every request is for the full document.
	if got := documents(fake.Headers("Accept")); slices.ContainsFunc(got, func(d string) bool { return d != "full" }) {
		t.Errorf("requests for the documents %q, want the full one each time", got)
	}
}

// TestREADMEOutdatedExample: the README's example of matrix outdated is the output
// TestOutdatedAndUpdate pins, run in the matrix file's directory.
func TestREADMEOutdatedExample(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const start = "```\n$ matrix outdated\n"
	_, example, ok := strings.Cut(string(readme), start)
	example, _, ok2 := strings.Cut(example, "```\n")
	if !ok || !ok2 {
		t.Fatalf("README.md has no block that starts %q", start)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "outdated.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.ReplaceAll(string(want), "DIR/", ""); example != w {
		t.Errorf("README.md's example of matrix outdated:\n%s\nwant testdata/outdated.golden without DIR/:\n%s", example, w)
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

// TestOutdatedAgreesWithUpdate: for lock files edited in several ways, the calls that
// outdated lists as changed, not pinned yet and no longer called are exactly those
// that update then replaces, adds and drops, and both summaries count them so.
func TestOutdatedAgreesWithUpdate(t *testing.T) {
	const versionsCall = `npm_versions("sharp", ">=0.33.0 <0.36.0", {per = "minor"})`
	versionsOf := func(doc map[string]any, call string) map[string]any {
		for _, e := range doc["resolved"].([]any) {
			if e := e.(map[string]any); e["call"] == call {
				return e
			}
		}
		t.Fatalf("no pin of %s", call)
		return nil
	}
	dropPin := func(doc map[string]any, call string) {
		var kept []any
		for _, e := range doc["resolved"].([]any) {
			if e.(map[string]any)["call"] != call {
				kept = append(kept, e)
			}
		}
		doc["resolved"] = kept
	}
	tests := []struct {
		name     string
		edit     func(doc map[string]any)
		registry func(fake *fakeregistry.Registry)
	}{
		{"the newest version dropped from the pin", func(doc map[string]any) {
			versionsOf(doc, versionsCall)["versions"] = []any{"0.33.5", "0.34.5"}
		}, nil},
		{"and its npm_package pin deleted", func(doc map[string]any) {
			versionsOf(doc, versionsCall)["versions"] = []any{"0.33.5", "0.34.5"}
			dropPin(doc, `npm_package("sharp", "0.35.5")`)
		}, nil},
		{"an older version pinned", func(doc map[string]any) {
			versionsOf(doc, versionsCall)["versions"] = []any{"0.33.4", "0.34.5", "0.35.5"}
		}, nil},
		{"a pin the file does not call", func(doc map[string]any) {
			doc["resolved"] = append(doc["resolved"].([]any), map[string]any{
				"call": `npm_versions("uuid", "^9.0.0")`, "function": "npm_versions",
				"arguments": map[string]any{"package": "uuid", "range": "^9.0.0"},
				"versions":  []any{"9.0.1"}, "resolved_at": "2026-11-20T09:30:00Z",
			})
		}, nil},
		{"an npm_package answer edited", func(doc map[string]any) {
			versionsOf(doc, `npm_package("sharp", "0.34.5")`)["package"].(map[string]any)["deprecated"] = "old"
		}, nil},
		{"new releases on the registry", nil, func(fake *fakeregistry.Registry) {
			fake.Publish("sharp", "0.34.5", "0.34.6", "2026-11-26T08:00:00.000Z")
			fake.Deprecate("sharp", "0.33.5", "please upgrade to 0.34")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path, fake := registryProject(t, sharpMatrix)
			lockPath := filepath.Join(filepath.Dir(path), lock.FileName)
			if code, _, stderr := runCmd(t, "update", path); code != 0 {
				t.Fatal(stderr)
			}
			if tc.edit != nil {
				var doc map[string]any
				if err := json.Unmarshal([]byte(readFile(t, lockPath)), &doc); err != nil {
					t.Fatal(err)
				}
				tc.edit(doc)
				data, err := json.Marshal(doc)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(lockPath, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tc.registry != nil {
				tc.registry(fake)
			}
			before, err := lock.Read(lockPath)
			if err != nil {
				t.Fatal(err)
			}

			_, out, stderr := runCmd(t, "outdated", "--json", path)
			var parsed struct {
				Calls []struct{ Call, Status string }
			}
			if err := json.Unmarshal([]byte(out), &parsed); err != nil {
				t.Fatalf("%v\n%s%s", err, out, stderr)
			}
			listed := map[string][]string{}
			for _, c := range parsed.Calls {
				listed[c.Status] = append(listed[c.Status], c.Call)
			}
			_, text, _ := runCmd(t, "outdated", path)
			code, updated, stderr := runCmd(t, "update", path)
			if code != 0 {
				t.Fatalf("update: exit %d\n%s", code, stderr)
			}
			after, err := lock.Read(lockPath)
			if err != nil {
				t.Fatal(err)
			}

			wrote := map[string][]string{}
			old := map[string]lock.Resolution{}
			for _, r := range before.Resolved {
				old[r.Call] = r
			}
			for _, r := range after.Resolved {
				o, ok := old[r.Call]
				switch {
				case !ok:
					wrote["new"] = append(wrote["new"], r.Call)
				case !lock.SameAnswer(o, r):
					wrote["changed"] = append(wrote["changed"], r.Call)
				}
				delete(old, r.Call)
			}
			for _, r := range before.Resolved {
				if _, ok := old[r.Call]; ok {
					wrote["unused"] = append(wrote["unused"], r.Call)
				}
			}
			for _, status := range []string{"changed", "new", "unused"} {
				if !slices.Equal(listed[status], wrote[status]) {
					t.Errorf("outdated lists as %s %q; update then wrote %q", status, listed[status], wrote[status])
				}
			}
			counts := fmt.Sprintf("(%d changed, %d new, %d dropped)", len(wrote["changed"]), len(wrote["new"]), len(wrote["unused"]))
			counts = strings.NewReplacer("0 changed, ", "", ", 0 new", "", "0 new, ", "", ", 0 dropped", "").Replace(counts)
			if !strings.Contains(updated, counts) {
				t.Errorf("update says:\n%s\nwant %s", updated, counts)
			}
			summary := fmt.Sprintf("%d of %s resolve", len(wrote["changed"]), plural(len(after.Resolved)-len(wrote["new"]), "pinned call"))
			if len(wrote["changed"]) == 1 {
				summary += "s"
			}
			summary += " otherwise today"
			if len(wrote["changed"])+len(wrote["new"]) == 0 {
				summary = fmt.Sprintf("is current: %d registry calls resolve as pinned", len(after.Resolved))
			}
			if n := len(wrote["new"]); n > 0 {
				summary += fmt.Sprintf(", %d not pinned yet", n)
			}
			if n := len(wrote["unused"]); n > 0 {
				summary += fmt.Sprintf(", %s no longer called", plural(n, "pin"))
				if len(wrote["changed"])+len(wrote["new"]) == 0 {
					summary = strings.Replace(summary, ", ", "; ", 1)
				}
			}
			if !strings.Contains(text, summary) {
				t.Errorf("outdated says:\n%s\nwant %q", text, summary)
			}
		})
	}
}

// TestPinsNotTheCallsAnswer: a pin whose answer is not one the registry could have
// given for its call stops every command, naming the entry; none plans with it.
func TestPinsNotTheCallsAnswer(t *testing.T) {
	path, fake := registryProject(t, sharpMatrix)
	lockPath := filepath.Join(filepath.Dir(path), lock.FileName)
	if code, _, stderr := runCmd(t, "update", path); code != 0 {
		t.Fatal(stderr)
	}
	pinned := readFile(t, lockPath)
	fake.Refuse("the lock is refused before any call")
	const versions = `"versions": [
        "0.33.5",
        "0.34.5",
        "0.35.5"
      ]`
	for _, tc := range []struct{ old, new, want string }{
		{`"version": "0.33.5",
        "engines"`, `"version": "9.9.9",
        "engines"`, `resolved entry 1 (npm_package("sharp", "0.33.5")): package.version "9.9.9" is not the call's version "0.33.5"`},
		{`"version": "0.33.5",
        "engines"`, `"version": "0.33.5+evil",
        "engines"`, `package.version "0.33.5+evil" is not the call's version "0.33.5"`},
		{versions, `"versions": ["0.1.0", "0.33.5"]`, `versions: "0.1.0" is not in the range ">=0.33.0 <0.36.0"`},
		{versions, `"versions": ["0.33.5", "0.34.5", "0.35.5-rc.1"]`, `versions: "0.35.5-rc.1" is a prerelease and prerelease = true is not set`},
		{versions, `"versions": ["0.33.5", "0.34.5", "0.36.0+build"]`, `versions: "0.36.0+build" is not in the range`},
		{versions, `"versions": ["0.33.5", "0.33.5", "0.34.5"]`, `versions: "0.33.5" after "0.33.5": versions must be ascending, each once`},
		{versions, `"versions": ["0.33.4", "0.33.5"]`, `versions: "0.33.4" and "0.33.5" are of one minor`},
		{versions, `"versions": ["0.33.5", "0.34.5\n"]`, `versions: "0.34.5\n" is not a version as published`},
	} {
		if !strings.Contains(pinned, tc.old) {
			t.Fatalf("the lock has no %s", tc.old)
		}
		if err := os.WriteFile(lockPath, []byte(strings.Replace(pinned, tc.old, tc.new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range []string{"validate", "plan", "outdated", "update"} {
			code, out, stderr := runCmd(t, cmd, path)
			if code != 1 || out != "" || !strings.Contains(stderr, lockPath+": resolved entry ") || !strings.Contains(stderr, tc.want) {
				t.Errorf("%s with %s: exit %d\n%s%s", cmd, tc.new, code, out, stderr)
			}
		}
	}
}

// TestVersionsAsPublished: registry keys that node-semver reads only after trimming
// white space or a "v" are not versions: they reach no cell name, pin or output.
func TestVersionsAsPublished(t *testing.T) {
	path, fake := registryProject(t, strings.Replace(sharpMatrix, `">=0.33.0 <0.36.0", { per = "minor" }`, `">=0.35.0"`, 1))
	for _, key := range []string{"0.36.1\n", "0.36.3\r", " 0.36.4", "0.36.7\u2028", "v0.36.5"} {
		fake.Publish("sharp", "0.35.5", key, "2026-11-26T08:00:00.000Z")
	}
	code, out, stderr := runCmd(t, "plan", path)
	if code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, stderr)
	}
	lockText := readFile(t, filepath.Join(filepath.Dir(path), lock.FileName))
	for _, text := range []string{out, stderr, lockText} {
		if strings.ContainsAny(text, "\r\u2028") || strings.Contains(text, "0.36.") || strings.Contains(text, `\n"`) || strings.Contains(text, `\r"`) {
			t.Errorf("a version not as published got through:\n%s", text)
		}
	}
	if !strings.Contains(out, "sharp-0.35.5-node20.tar.gz") {
		t.Errorf("plan:\n%s", out)
	}
}
