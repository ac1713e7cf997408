package plan

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fakeNpm records its arguments, one per NUL-terminated record, in $ARGS, and leaves
// an empty scope directory as npm install does.
const fakeNpm = `#!/bin/sh
for a in "$@"; do printf '%s\0' "$a"; done >> "$ARGS"
printf 'END\0' >> "$ARGS"
mkdir -p node_modules/@empty node_modules/pkg
echo x > node_modules/pkg/index.js
`

// fakeNode records that it ran.
const fakeNode = `#!/bin/sh
printf 'node\0END\0' >> "$ARGS"
`

// TestNpmScriptRunsWhatItSays runs the generated steps with sh and a fake npm and node:
// resolving runs npm install with the flags and the specs exactly as given, then the
// lock cut; locked runs npm ci with the same flags and no specs; both remove empty
// directories, then run the post-install script in its own shell. Specs holding
// quotes, $(...), backquotes, globs and ; reach npm as they are, and run nothing.
func TestNpmScriptRunsWhatItSays(t *testing.T) {
	hostile := []string{
		`sharp@0.34.5`,
		`a'b`,
		`x$(touch pwned1)`,
		"y`touch pwned2`",
		`z; touch pwned3`,
		`"$HOME"`,
		`*`,
		`~`,
		`foo@>=1 <2`,
		`'; touch pwned4; '`,
	}
	npm := &Npm{Install: hostile, CPU: "x64", OS: "linux", Libc: "glibc", Omit: []string{"dev", "peer"},
		PostInstall: "set +e\nfalse\necho \"post $npm_config_update_notifier\" > post.txt # it's a comment with a quote\n"}
	flags := []string{"--no-audit", "--no-fund", "--omit=dev", "--omit=peer", "--cpu=x64", "--os=linux", "--libc=glibc"}
	tests := []struct {
		name   string
		locked bool
		want   [][]string
	}{
		{"resolving", false, [][]string{append(append([]string{"install"}, flags...), hostile...), {"node"}}},
		{"locked", true, [][]string{append([]string{"ci"}, flags...)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			bin := filepath.Join(dir, "bin")
			work := filepath.Join(dir, "work")
			for _, d := range []string{bin, work} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for name, content := range map[string]string{"npm": fakeNpm, "node": fakeNode} {
				if err := os.WriteFile(filepath.Join(bin, name), []byte(content), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			args := filepath.Join(dir, "args")
			cmd := exec.Command("sh", "-c", NpmScript(npm))
			cmd.Dir = work
			cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "HOME=" + dir, "ARGS=" + args, "npm_config_update_notifier=false"}
			if tt.locked {
				cmd.Env = append(cmd.Env, "MATRIX_LOCKED=1")
			}
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s\nscript:\n%s", err, out, NpmScript(npm))
			}
			data, err := os.ReadFile(args)
			if err != nil {
				t.Fatal(err)
			}
			var got [][]string
			var call []string
			for _, a := range strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00") {
				if a == "END" {
					got = append(got, call)
					call = nil
					continue
				}
				call = append(call, a)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("calls\n%q\nwant\n%q", got, tt.want)
			}
			entries, err := os.ReadDir(work)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if want := []string{"node_modules", "post.txt"}; !reflect.DeepEqual(names, want) {
				t.Errorf("the workdir holds %v, want %v (nothing a spec ran)", names, want)
			}
			if _, err := os.Stat(filepath.Join(work, "node_modules", "@empty")); !os.IsNotExist(err) {
				t.Errorf("the empty scope directory is left: %v", err)
			}
			if post, _ := os.ReadFile(filepath.Join(work, "post.txt")); string(post) != "post false\n" {
				t.Errorf("the post-install script wrote %q, want %q", post, "post false\n")
			}
		})
	}
}

// TestNpmScriptFails: a failing npm fails the script before the post-install step.
func TestNpmScriptFails(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "npm"), []byte("#!/bin/sh\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", NpmScript(&Npm{Install: []string{"a"}, PostInstall: "touch post"}))
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + dir + ":/usr/bin:/bin"}
	err := cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != 3 {
		t.Errorf("exit %d (%v), want npm's 3", code, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "post")); !os.IsNotExist(err) {
		t.Errorf("the post-install step ran after npm failed: %v", err)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"sharp@0.34.5":     "sharp@0.34.5",
		"--cpu=x64":        "--cpu=x64",
		"@scope/pkg@^1.2":  "'@scope/pkg@^1.2'",
		"":                 "''",
		"a'b":              `'a'\''b'`,
		"$(x)":             "'$(x)'",
		"npm:pkg@1,2+3%4_": "npm:pkg@1,2+3%4_",
	} {
		if got := ShellQuote(in); got != want {
			t.Errorf("ShellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
