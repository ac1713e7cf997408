package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/internal/fakeregistry"
	"github.com/matrixbuild/matrix/lock"
)

// sharpMatrix resolves sharp's newest patch of each minor from 0.33, and skips the
// cells whose Node.js sharp's engines exclude.
const sharpMatrix = `
target "sharp" {
  matrix = {
    sharp = npm_versions("sharp", ">=0.33.0 <0.36.0", { per = "minor" })
    node  = [18, 20]
  }
  skip {
    condition = !semver_intersects(npm_package("sharp", matrix.sharp).engines.node, "${matrix.node}.x")
    reason    = "sharp ${matrix.sharp} needs Node.js ${npm_package("sharp", matrix.sharp).engines.node}"
  }
  image    = "local/debian:bookworm"
  script   = "echo ${matrix.sharp}"
  artifact = "sharp-${matrix.sharp}-node${matrix.node}.tar.gz"
}
`

// registryProject writes a matrix file into a fresh directory and points the npm
// configuration at a fake registry (no user .npmrc); it returns the file's path.
func registryProject(t *testing.T, hcl string) (string, *fakeregistry.Registry) {
	t.Helper()
	fake := fakeregistry.New(t)
	dir := t.TempDir()
	t.Setenv("npm_config_registry", fake.URL())
	t.Setenv("npm_config_userconfig", filepath.Join(dir, "no-user-npmrc"))
	path := filepath.Join(dir, "matrix.hcl")
	if err := os.WriteFile(path, []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, fake
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestPinnedCommandsNeverAskTheRegistry: the first command resolves the file's calls,
// pins them and says so; from then on validate and plan, with or without --locked,
// answer from the lock with no request at all, and leave it as it is.
func TestPinnedCommandsNeverAskTheRegistry(t *testing.T) {
	path, fake := registryProject(t, sharpMatrix)
	code, out, stderr := runCmd(t, "validate", path)
	if code != 0 || !strings.HasPrefix(out, "valid: 1 target, 6 cells") {
		t.Fatalf("validate: exit %d, %q\n%s", code, out, stderr)
	}
	lockPath := filepath.Join(filepath.Dir(path), lock.FileName)
	want := "matrix: " + lockPath + ": resolved 4 new registry calls:\n" +
		"  npm_package(\"sharp\", \"0.33.5\")\n  npm_package(\"sharp\", \"0.34.5\")\n  npm_package(\"sharp\", \"0.35.5\")\n" +
		"  npm_versions(\"sharp\", \">=0.33.0 <0.36.0\", {per = \"minor\"})\n"
	if stderr != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", stderr, want)
	}
	if n := fake.Requests()["sharp"]; n != 1 {
		t.Errorf("%d requests for sharp, want 1", n)
	}
	pinned := readFile(t, lockPath)

	fake.Refuse("every call is pinned in matrix.lock.json")
	for _, args := range [][]string{{"validate"}, {"validate", "--locked"}, {"plan"}, {"plan", "--json"}, {"plan", "--locked"}} {
		code, _, stderr := runCmd(t, append(args, path)...)
		if code != 0 || stderr != "" {
			t.Errorf("%v: exit %d\n%s", args, code, stderr)
		}
	}
	if readFile(t, lockPath) != pinned {
		t.Error("commands answered from the lock changed it")
	}
}

// TestLockedNamesTheCall: under --locked a call that is not pinned is an error at
// the call, naming it, and nothing is resolved or written.
func TestLockedNamesTheCall(t *testing.T) {
	path, fake := registryProject(t, sharpMatrix)
	if code, _, stderr := runCmd(t, "validate", path); code != 0 {
		t.Fatal(stderr)
	}
	lockPath := filepath.Join(filepath.Dir(path), lock.FileName)
	pinned := readFile(t, lockPath)
	fake.Refuse("--locked")
	changed := strings.Replace(sharpMatrix, `{ per = "minor" }`, `{ per = "minor", last = 2 }`, 1)
	if err := os.WriteFile(path, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"validate", "plan"} {
		code, out, stderr := runCmd(t, cmd, "--locked", path)
		want := `npm_versions("sharp", ">=0.33.0 <0.36.0", {per = "minor", last = 2}) is not in matrix.lock.json and --locked forbids resolving it; run matrix update`
		if code != 1 || out != "" || !strings.Contains(stderr, want) || !strings.Contains(stderr, "matrix.hcl:4:") {
			t.Errorf("%s --locked: exit %d, stdout %q, stderr:\n%s", cmd, code, out, stderr)
		}
	}
	if readFile(t, lockPath) != pinned {
		t.Error("--locked changed the lock")
	}
}

// TestRegistryErrorsAreDiagnostics: what the registry answers wrong is a diagnostic
// at the call; a lock file whose pins are not well formed stops every command.
func TestRegistryErrorsAreDiagnostics(t *testing.T) {
	path, _ := registryProject(t, strings.Replace(sharpMatrix, `npm_versions("sharp"`, `npm_versions("shrap"`, 1))
	code, _, stderr := runCmd(t, "validate", path)
	if code != 1 || !strings.Contains(stderr, `no package "shrap" on http://127.0.0.1:`) || !strings.Contains(stderr, "matrix.hcl:4:") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), lock.FileName)); !os.IsNotExist(err) {
		t.Errorf("a failed load wrote the lock: %v", err)
	}

	path, _ = registryProject(t, sharpMatrix)
	if code, _, stderr := runCmd(t, "validate", path); code != 0 {
		t.Fatal(stderr)
	}
	lockPath := filepath.Join(filepath.Dir(path), lock.FileName)
	bad := strings.Replace(readFile(t, lockPath), `"0.34.5"`, `"0.34.5 || rm -rf /"`, 1)
	if err := os.WriteFile(lockPath, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"validate", "plan", "outdated", "update"} {
		code, _, stderr := runCmd(t, cmd, path)
		if code != 1 || !strings.Contains(stderr, lockPath+": resolved entry ") {
			t.Errorf("%s with a hostile lock: exit %d\n%s", cmd, code, stderr)
		}
	}
}

// TestOldLockKeepsItsCells: a lock file written before resolutions existed gains the
// section and keeps its cells.
func TestOldLockKeepsItsCells(t *testing.T) {
	path, _ := registryProject(t, sharpMatrix)
	lockPath := filepath.Join(filepath.Dir(path), lock.FileName)
	old := `{"lock_version": 1, "cells": {"x.tar.gz": {"target": "x", "axes": [], "definition": "d", "files": {"package.json": {"name": "x"}}}}}`
	if err := os.WriteFile(lockPath, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCmd(t, "plan", "--json", path); code != 0 {
		t.Fatal(stderr)
	}
	f, err := lock.Read(lockPath)
	if err != nil || f.Version != lock.Version || len(f.Resolved) != 4 || f.Cells["x.tar.gz"] == nil {
		t.Errorf("lock after plan: %+v, %v", f, err)
	}
}

// TestTokenStaysInTheRequest: a token from .npmrc reaches the registry and nothing
// the commands write or print.
func TestTokenStaysInTheRequest(t *testing.T) {
	const token = "npm_SECRET_matrix_test_token"
	path, fake := registryProject(t, sharpMatrix)
	t.Setenv("npm_config_registry", "")
	npmrc := "registry=" + fake.URL() + "\n" + strings.TrimPrefix(fake.URL(), "http:") + ":_authToken=" + token + "\n"
	if err := os.WriteFile(filepath.Join(filepath.Dir(path), ".npmrc"), []byte(npmrc), 0o600); err != nil {
		t.Fatal(err)
	}
	var printed strings.Builder
	for _, args := range [][]string{{"update"}, {"outdated", "--json"}, {"plan", "--json"}} {
		_, out, stderr := runCmd(t, append(args, path)...)
		printed.WriteString(out + stderr)
	}
	if got := fake.Headers("Authorization"); len(got) == 0 || got[0] != "Bearer "+token {
		t.Errorf("the registry got Authorization %q", got)
	}
	lockText := readFile(t, filepath.Join(filepath.Dir(path), lock.FileName))
	if strings.Contains(lockText, token) || strings.Contains(printed.String(), token) {
		t.Error("the token was written or printed")
	}
	if strings.Contains(lockText, "127.0.0.1") {
		t.Error("the lock records the registry's address")
	}
}
