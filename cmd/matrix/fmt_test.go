package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	fmtBad  = "target \"a\" {\n  image = \"x\"\n  script_name = \"true\"\n}\n"
	fmtGood = "target \"a\" {\n  image       = \"x\"\n  script_name = \"true\"\n}\n"
	fmtDiff = "diff DIR/bad.hcl.orig DIR/bad.hcl\n--- DIR/bad.hcl.orig\n+++ DIR/bad.hcl\n@@ -1,4 +1,4 @@\n target \"a\" {\n-  image = \"x\"\n+  image       = \"x\"\n   script_name = \"true\"\n }\n"
)

// TestFmt: fmt rewrites what is not formatted and names it; -check writes nothing,
// names it and exits 1; -diff shows the change; a directory stands for its *.hcl
// files, links left out; a file that does not parse is left as it is with its
// diagnostics; a link is never written through.
func TestFmt(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string // DIR is the directory of the files
		code   int
		stdout string // DIR replaced
		stderr string // a part
		after  string // bad.hcl afterwards
	}{
		{"rewrite", []string{"fmt", "DIR/bad.hcl", "DIR/good.hcl"}, 0, "DIR/bad.hcl\n", "", fmtGood},
		{"check", []string{"fmt", "-check", "DIR/bad.hcl", "DIR/good.hcl"}, 1, "DIR/bad.hcl\n", "1 file not in canonical form", fmtBad},
		{"check double dash", []string{"fmt", "--check", "DIR/good.hcl"}, 0, "", "", fmtBad},
		{"check diff", []string{"fmt", "-check", "-diff", "DIR/bad.hcl"}, 1, fmtDiff + "DIR/bad.hcl\n", "", fmtBad},
		{"diff writes", []string{"fmt", "-diff", "DIR/bad.hcl"}, 0, fmtDiff + "DIR/bad.hcl\n", "", fmtGood},
		{"directory", []string{"fmt", "-check", "DIR"}, 1, "DIR/bad.hcl\n", "", fmtBad},
		{"current directory", []string{"fmt"}, 0, "bad.hcl\n", "", fmtGood},
		{"syntax error", []string{"fmt", "DIR/broken.hcl", "DIR/bad.hcl"}, 1, "DIR/bad.hcl\n", "Invalid expression", fmtGood},
		{"link", []string{"fmt", "DIR/link.hcl"}, 1, "", "it is a symbolic link", fmtBad},
		{"link check", []string{"fmt", "-check", "DIR/link.hcl"}, 1, "DIR/link.hcl\n", "", fmtBad},
		{"missing", []string{"fmt", "DIR/none.hcl"}, 1, "", "no such file", fmtBad},
		{"unknown flag", []string{"fmt", "-recursive"}, 2, "", "unknown shorthand flag", fmtBad},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range map[string]string{"bad.hcl": fmtBad, "good.hcl": fmtGood, "notes.txt": fmtBad, "broken.hcl.txt": "x = \n"} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			os.Symlink("bad.hcl", filepath.Join(dir, "link.hcl"))
			if tc.name == "syntax error" {
				os.WriteFile(filepath.Join(dir, "broken.hcl"), []byte("x = \n"), 0o644)
			}
			var args []string
			for _, a := range tc.args {
				args = append(args, strings.ReplaceAll(a, "DIR", dir))
			}
			if len(tc.args) == 1 {
				t.Chdir(dir)
			}
			code, stdout, stderr := runCmd(t, args...)
			if stdout = strings.ReplaceAll(stdout, dir, "DIR"); code != tc.code || stdout != tc.stdout || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s\nwant exit %d, stdout:\n%s\nstderr with %q", code, stdout, stderr, tc.code, tc.stdout, tc.stderr)
			}
			if data, _ := os.ReadFile(filepath.Join(dir, "bad.hcl")); string(data) != tc.after {
				t.Errorf("bad.hcl afterwards:\n%s\nwant:\n%s", data, tc.after)
			}
			if data, _ := os.ReadFile(filepath.Join(dir, "notes.txt")); string(data) != fmtBad {
				t.Errorf("a file that is not .hcl was changed")
			}
			if info, err := os.Lstat(filepath.Join(dir, "link.hcl")); err != nil || info.Mode()&os.ModeSymlink == 0 {
				t.Errorf("link.hcl is no longer a link: %v", err)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".") {
					t.Errorf("a temporary is left: %s", e.Name())
				}
			}
		})
	}
}

// TestFmtStdin: - formats standard input to standard output.
func TestFmtStdin(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		in     string
		code   int
		stdout string
	}{
		{[]string{"fmt", "-"}, fmtBad, 0, fmtGood},
		{[]string{"fmt", "-check", "-"}, fmtBad, 1, ""},
		{[]string{"fmt", "-check", "-"}, fmtGood, 0, ""},
		{[]string{"fmt", "-"}, "x = \n", 1, ""},
	} {
		var stdout, stderr bytes.Buffer
		root := newRootCmd(&stdout, &stderr)
		root.SetIn(strings.NewReader(tc.in))
		root.SetArgs(singleDashVarArgs(tc.args))
		code := exitCode(root.ExecuteContext(context.Background()), &stderr)
		if code != tc.code || stdout.String() != tc.stdout {
			t.Errorf("%q < %q: exit %d, stdout %q, stderr %q; want %d, %q", tc.args, tc.in, code, stdout.String(), stderr.String(), tc.code, tc.stdout)
		}
	}
}

// TestFmtKeepsMode: a rewritten file keeps its permissions: a variable file of
// mode 0600 (it may hold a token) is not made readable by everyone, and an
// executable one stays executable.
func TestFmtKeepsMode(t *testing.T) {
	for _, mode := range []os.FileMode{0o600, 0o755, 0o640} {
		dir := t.TempDir()
		path := filepath.Join(dir, "secrets.hcl")
		if err := os.WriteFile(path, []byte("token = \"x\"\nregion  = \"y\"\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		if code, _, stderr := runCmd(t, "fmt", dir); code != 0 {
			t.Fatalf("fmt: exit %d: %s", code, stderr)
		}
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if data, _ := os.ReadFile(path); string(data) != "token  = \"x\"\nregion = \"y\"\n" {
			t.Errorf("not rewritten: %q", data)
		}
		if info.Mode().Perm() != mode {
			t.Errorf("mode %v after fmt, want %v as before", info.Mode().Perm(), mode)
		}
	}
}
