package spec

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/plan"
)

// TestNpmBlock: an npm block becomes the cell's Npm, with its defaults (omit dev, no
// platform flags), the generated steps as the cell's script (the target's own script
// after them, as PostInstall), npm's variables in the env unless the target sets them,
// and the defaults of collect and lock_files that an npm install needs.
func TestNpmBlock(t *testing.T) {
	src := `
target "sharp" {
  matrix   = { sharp = ["0.34.5"], arch = ["x64", "arm64"] }
  image    = "img"
  artifact = "sharp-${matrix.sharp}-${matrix.arch}.tar.gz"
  npm {
    install = ["sharp@${matrix.sharp}"]
    cpu     = matrix.arch
    os      = "linux"
    libc    = matrix.arch == "x64" ? "glibc" : null
  }
}

target "plain" {
  image    = "img"
  workdir  = "/w"
  env      = { npm_config_update_notifier = "true", A = "1" }
  artifact = "plain.tar.gz"
  script   = "rm -rf node_modules/.bin"
  npm {
    install           = ["esbuild@0.25.0", "detect-libc@2"]
    omit              = []
    build_from_source = true
  }
}

target "script" {
  image    = "img"
  artifact = "script.tar.gz"
  script   = "true"
}
`
	cells := planString(t, src, Options{})
	if len(cells) != 4 {
		t.Fatalf("%d cells, want 4", len(cells))
	}
	tests := []struct {
		cell    plan.Cell
		npm     *plan.Npm
		env     []plan.EnvVar
		collect string
	}{
		{cells[0], &plan.Npm{Install: []string{"sharp@0.34.5"}, CPU: "x64", OS: "linux", Libc: "glibc", Omit: []string{"dev"}},
			[]plan.EnvVar{{Name: "npm_config_update_notifier", Value: "false"}}, "/build/node_modules"},
		{cells[1], &plan.Npm{Install: []string{"sharp@0.34.5"}, CPU: "arm64", OS: "linux", Omit: []string{"dev"}},
			[]plan.EnvVar{{Name: "npm_config_update_notifier", Value: "false"}}, "/build/node_modules"},
		{cells[2], &plan.Npm{Install: []string{"esbuild@0.25.0", "detect-libc@2"}, Omit: []string{}, BuildFromSource: true, PostInstall: "rm -rf node_modules/.bin"},
			[]plan.EnvVar{{Name: "A", Value: "1"}, {Name: "npm_config_build_from_source", Value: "true"}, {Name: "npm_config_update_notifier", Value: "true"}}, "/w/node_modules"},
		{cells[3], nil, []plan.EnvVar{}, "/build/node_modules"},
	}
	for _, tt := range tests {
		c := tt.cell
		if !reflect.DeepEqual(c.Npm, tt.npm) {
			t.Errorf("%s: npm %+v, want %+v", c.Name(), c.Npm, tt.npm)
		}
		if !reflect.DeepEqual(c.Env, tt.env) {
			t.Errorf("%s: env %v, want %v", c.Name(), c.Env, tt.env)
		}
		if c.Collect != tt.collect {
			t.Errorf("%s: collect %q, want %q", c.Name(), c.Collect, tt.collect)
		}
		if !reflect.DeepEqual(c.LockFiles, DefaultLockFiles) {
			t.Errorf("%s: lock_files %v, want %v", c.Name(), c.LockFiles, DefaultLockFiles)
		}
		want := "true"
		if tt.npm != nil {
			want = plan.NpmScript(tt.npm)
		}
		if c.Script != want {
			t.Errorf("%s: script\n%s\nwant\n%s", c.Name(), c.Script, want)
		}
	} // plan --json shows the block, and reads back what it wrote.
	for _, c := range cells {
		data, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var back plan.Cell
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, c) {
			t.Errorf("%s: JSON round trip gave\n%+v\nwant\n%+v\n%s", c.Name(), back, c, data)
		}
		if (c.Npm != nil) != strings.Contains(string(data), `"npm":{"install":[`) {
			t.Errorf("%s: the JSON does not show the npm block: %s", c.Name(), data)
		}
	}
}

// TestNpmBlockInherited: a target may take its npm block from a template, with or
// without a script of its own (then run after the install); one that inherits neither
// a script nor an npm block is told so once, at the target; two npm blocks in a
// template are an error there, and a template needs neither.
func TestNpmBlockInherited(t *testing.T) {
	const base = `
template "base" {
  image = "local/node:22"
  npm {
    install = ["left-pad@1.3.0"]
  }
}
template "empty" {
  image = "local/node:22"
}
`
	cells := planString(t, base+`
target "t" {
  inherits = ["base"]
  artifact = "a.tar.gz"
}
target "u" {
  inherits = ["base"]
  script   = "echo after"
  artifact = "b.tar.gz"
}
`, Options{})
	if len(cells) != 2 || cells[0].Npm == nil || cells[1].Npm == nil || cells[1].Npm.PostInstall != "echo after" || cells[0].Npm.PostInstall != "" {
		t.Fatalf("cells: %+v", cells)
	}
	for _, tc := range []struct{ name, src, want string }{
		{"nothing to run", `target "v" {
  inherits = ["empty"]
  artifact = "c.tar.gz"
}`, `Target "v" says nothing to run`},
		{"two npm blocks in a template", `template "two" {
  npm {
    install = ["a@1"]
  }
  npm {
    install = ["b@1"]
  }
}
target "w" {
  inherits = ["two"]
  artifact = "d.tar.gz"
}`, "Duplicate npm block"},
	} {
		f, diags := LoadSource(context.Background(), "test.hcl", []byte(base+tc.src), Options{})
		out := render(f, diags)
		if !diags.HasErrors() || strings.Count(out, tc.want) != 1 {
			t.Errorf("%s: want %q once in:\n%s", tc.name, tc.want, out)
		}
	}
}

// TestLockFilesThatPass: the lock files of npm, yarn and pnpm, the defaults an npm
// block gets, and paths in subdirectories pass the lock_files rule (which refuses
// configuration files, controls, ~ and ..: testdata/bad/lock_files_paths.hcl), cleaned.
func TestLockFilesThatPass(t *testing.T) {
	given := `["package.json", "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "./app/package.json", "app//package-lock.json", "npmrc.json", "..x/.yarn-integrity"]`
	want := []string{"package.json", "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "app/package.json", "app/package-lock.json", "npmrc.json", "..x/.yarn-integrity"}
	src := `
target "npm" {
  image    = "img"
  artifact = "npm.tar.gz"
  npm {
    install = ["sharp@0.34.5"]
  }
}

target "given" {
  image      = "img"
  artifact   = "given.tar.gz"
  lock_files = ` + given + `
  npm {
    install = ["sharp@0.34.5"]
  }
}

target "defaults" {
  image      = "img"
  artifact   = "defaults.tar.gz"
  script     = "npm ci"
  lock_files = ["` + strings.Join(DefaultLockFiles, `", "`) + `"]
}
`
	cells := planString(t, src, Options{})
	for i, want := range [][]string{DefaultLockFiles, want, DefaultLockFiles} {
		if !reflect.DeepEqual(cells[i].LockFiles, want) {
			t.Errorf("%s: lock_files %q, want %q", cells[i].Name(), cells[i].LockFiles, want)
		}
	}
}
