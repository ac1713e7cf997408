package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/manifest"
)

// The cases of a second adversarial pass over the binary (issue 10's review): each
// failed before its fix.

// TestEngineAddressPasswordsRefused: an engine address holding a password, in any
// scheme, from --engine or DOCKER_HOST, percent-encoded too, makes the run exit 1
// before anything connects or is written, naming the address without its password
// (http:// showed it in the wrapped lookup error; ssh://user%3Apw@ ran ssh -l user:pw).
func TestEngineAddressPasswordsRefused(t *testing.T) {
	t.Parallel()
	const password = "hunter2pw"
	for _, tc := range []struct{ address, shown string }{
		{"http://user:" + password + "@127.0.0.1:1", "http://user:xxxxx@127.0.0.1:1"},
		{"https://user:" + password + "@127.0.0.1:1", "https://user:xxxxx@127.0.0.1:1"},
		{"tcp://user:" + password + "@127.0.0.1:1", "tcp://user:xxxxx@127.0.0.1:1"},
		{"ssh://user%3A" + password + "@127.0.0.1:1", "ssh://user%3Axxxxx@127.0.0.1:1"},
		{"http://user:hunter%2F2pw@127.0.0.1:1", "http://user:xxxxx@127.0.0.1:1"},
	} {
		for _, via := range []string{"--engine", "DOCKER_HOST"} {
			t.Run(via+" "+tc.address, func(t *testing.T) {
				w := newWorkspace(t)
				specPath := w.spec(t, target("cell", `mkdir -p out; echo x > out/x`, ""))
				args := []string{"run", "--out", w.out, specPath}
				env := []string{"DOCKER_CONTEXT="}
				if via == "--engine" {
					args = append([]string{"run", "--engine", tc.address}, args[1:]...)
				} else {
					env = append(env, "DOCKER_HOST="+tc.address)
				}
				res := w.matrix(t, env, args...)
				if res.code != 1 || !strings.Contains(res.stderr, tc.shown) || !strings.Contains(res.stderr, "holds a password") {
					t.Errorf("exit %d, want 1 and a refusal naming %s:\n%s", res.code, tc.shown, res.stderr)
				}
				for _, s := range []string{password, "hunter/2pw", "hunter%2F2pw"} {
					if strings.Contains(res.stdout+res.stderr, s) {
						t.Errorf("the output shows %q:\n%s", s, res.stderr)
					}
				}
				if _, err := os.Stat(w.out); err == nil {
					t.Error("out/ written though no engine was connected")
				}
			})
		}
	}
}

// TestPlantedUndoEntries: files planted in OUT under the names of undo entries (a
// run's ".NAME.tmp-new-N" / ".NAME.tmp-was-N") undo nothing. The records' own
// (.manifest.json.tmp-new-1 made the next run delete manifest.json, saying "it was
// never recorded"), logs/'s, the user's README.txt's, an artifact's log's, and a link
// to a file outside OUT named like the entry of the earlier good.tar.gz (left in
// OUT) are removed as temporaries, never followed, and what they name stays; the run
// records, verify passes.
func TestPlantedUndoEntries(t *testing.T) {
	e := needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	specPath := w.spec(t, goodTarget())
	if res := w.matrix(t, nil, "run", "--out", w.out, specPath); res.code != 0 {
		t.Fatalf("first run: exit %d\n%s", res.code, res.stderr)
	}
	outside := filepath.Join(w.dir, "outside.txt")
	writeFile(t, outside, "outside\n")
	writeFile(t, filepath.Join(w.out, "README.txt"), "mine\n")
	planted := []string{".manifest.json.tmp-new-1", ".SHA256SUMS.tmp-new-2", ".logs.tmp-new-3",
		".README.txt.tmp-new-4", ".good.tar.gz.tmp-new-5", "logs/.good.tar.gz.log.tmp-new-6"}
	for _, name := range planted {
		writeFile(t, filepath.Join(w.out, name), "")
	}
	for _, name := range []string{".good.tar.gz.tmp-was-7", "logs/.good.tar.gz.log.tmp-was-8"} {
		if err := os.Symlink(outside, filepath.Join(w.out, name)); err != nil {
			t.Fatal(err)
		}
		planted = append(planted, name)
	}
	readme := snapshot(t, w.out)["README.txt"]

	for _, args := range [][]string{{"run", "--out", w.out, specPath}, {"run", "--reuse", "--out", w.out, specPath}} {
		res := w.matrix(t, nil, args...)
		if res.code != 0 {
			t.Fatalf("exit %d\n%s", res.code, res.stderr)
		}
		for _, s := range []string{"removed manifest.json", "removed SHA256SUMS", "removed logs", "removed README.txt", "removed good.tar.gz", "put back"} {
			if strings.Contains(res.stderr, s) {
				t.Errorf("stderr says %q:\n%s", s, res.stderr)
			}
		}
		checkRun(t, e, w, res.stderr, want{ok: []string{"good.tar.gz"}})
		for _, name := range planted {
			if _, err := os.Lstat(filepath.Join(w.out, name)); err == nil {
				t.Errorf("%s is left", name)
			}
		}
		if now := snapshot(t, w.out)["README.txt"]; now != readme {
			t.Errorf("README.txt changed: %s, was %s", now, readme)
		}
		if data, err := os.ReadFile(outside); err != nil || string(data) != "outside\n" {
			t.Errorf("the file outside: %q, %v", data, err)
		}
		if _, err := os.Stat(filepath.Join(w.out, "logs", "good.tar.gz.log")); err != nil {
			t.Errorf("the log of good.tar.gz: %v", err)
		}
		for _, name := range planted { // again, for the second run
			if strings.HasPrefix(filepath.Base(name), ".good") || strings.HasPrefix(filepath.Base(name), ".README") {
				writeFile(t, filepath.Join(w.out, name), "")
			}
		}
	}
}

// TestHostileRecordsEscaped: names in OUT's manifest.json and SHA256SUMS that hold
// ESC, OSC, a C1 CSI, a newline or a right-to-left override reach the terminal
// escaped: `verify` printed them raw, and a run dropped their records without
// saying why. Now verify escapes every name and text from OUT, and the run says why
// it no longer records each, escaped.
func TestHostileRecordsEscaped(t *testing.T) {
	e := needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	if err := os.MkdirAll(w.out, 0o755); err != nil {
		t.Fatal(err)
	}
	// (A name with a newline cannot be written into SHA256SUMS: cmd/matrix's
	// TestVerifyEscapesNamesFromTheDirectory has it.)
	hostile := []string{"\x1b]0;PWNED\x07x.tar.gz", "\u202eevil.tar.gz", "\u009b2Jc1.tar.gz", "tab\there.tar.gz"}
	m := &manifest.Manifest{RunID: "r1"}
	for _, name := range hostile {
		m.Artifacts = append(m.Artifacts, manifest.Artifact{File: name, SHA256: strings.Repeat("a", 64), Size: 1, RunID: "r1\x1b[2J"})
	}
	if err := manifest.Write(w.out, m); err != nil {
		t.Fatal(err)
	}
	raw := func(what, s string) {
		t.Helper()
		if strings.ContainsAny(s, "\x1b\x07\u009b\u202e") {
			t.Errorf("%s prints raw controls:\n%q", what, s)
		}
	}
	res := w.matrix(t, nil, "verify", w.out)
	if res.code != 1 || !strings.Contains(res.stderr, `\u202eevil.tar.gz`) || !strings.Contains(res.stderr, `\x1b]0;PWNED\x07x.tar.gz`) {
		t.Errorf("verify: exit %d, want 1 naming the artifacts escaped:\n%s", res.code, res.stderr)
	}
	raw("verify", res.stdout+res.stderr)

	specPath := w.spec(t, goodTarget())
	res = w.matrix(t, nil, "run", "--out", w.out, specPath)
	if res.code != 0 {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	raw("run", res.stdout+res.stderr)
	if n := strings.Count(res.stderr, "is not a plain file name"); n != len(hostile) {
		t.Errorf("run says why it drops %d records, want %d:\n%s", n, len(hostile), res.stderr)
	}
	checkRun(t, e, w, res.stderr, want{ok: []string{"good.tar.gz"}})
}

// TestLockCellKeysEscapedAndBounded: the cell keys of matrix.lock.json that a run
// drops (the plan no longer builds them) are named escaped (they were printed raw:
// ESC, OSC, U+202E), and at most 20 of them, then how many more (170,000 stale
// entries made a 2 MB line).
func TestLockCellKeysEscapedAndBounded(t *testing.T) {
	e := needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	specPath := w.spec(t, goodTarget())
	cells := map[string]any{}
	entry := map[string]any{"target": "good", "axes": []any{}, "definition": "x", "files": map[string]any{}}
	for _, name := range []string{"\x1b]0;PWNED\x07x.tar.gz", "a\u202eb.tar.gz"} {
		cells[name] = entry
	}
	for i := range 1000 {
		cells[fmt.Sprintf("z%04d.tar.gz", i)] = entry
	}
	data, err := json.Marshal(map[string]any{"lock_version": 1, "cells": cells})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(w.dir, "matrix.lock.json"), string(data))
	res := w.matrix(t, nil, "run", "--out", w.out, specPath)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if strings.ContainsAny(res.stderr, "\x1b\x07\u202e") {
		t.Errorf("raw controls on stderr:\n%q", res.stderr)
	}
	for _, want := range []string{"dropped the entries of 1002 cells", `\x1b]0;PWNED\x07x.tar.gz, a\u202eb.tar.gz, z0000.tar.gz`, "z0017.tar.gz and 982 more\n"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr lacks %q:\n%.2000s", want, res.stderr)
		}
	}
	checkRun(t, e, w, res.stderr, want{ok: []string{"good.tar.gz"}})
}
