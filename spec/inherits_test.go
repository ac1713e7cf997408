package spec

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/plan"
)

// TestInherits: what a target inherits, by the rules of the reference ("Templates and
// inherits"): the nearest attribute wins, env merges key by key, mounts accumulate
// parents first, other blocks are replaced whole, matrix is never inherited, and an
// inherited expression is evaluated in the inheriting target's cells.
func TestInherits(t *testing.T) {
	const head = `
template "net" {
  network  = "host"
  workdir  = "/net"
  pass_env = ["NET_TOKEN"]
  env      = { A = "net", B = "net" }
  mount {
    type   = "cache"
    source = "npm"
    target = "/root/.npm"
  }
  skip {
    condition = matrix.node == 21
    reason    = "net"
  }
}
template "img" {
  image      = format("node:%d", matrix.node)
  workdir    = "/img"
  env        = { B = "img", C = "img" }
  lock_files = ["a.json"]
  dynamic "mount" {
    for_each = matrix.node > 20 ? ["new"] : []
    content {
      source = "/src"
      target = "/${mount.value}"
    }
  }
  test {
    script = "img-test"
  }
}
`
	tests := []struct {
		name, src string
		want      func(c plan.Cell) string // what is wrong, "" when nothing
	}{
		{"later parent and own attributes win", `
target "t" {
  inherits = ["net", "img"]
  matrix   = { node = [22] }
  script   = "true"
  artifact = "t.zip"
}`, func(c plan.Cell) string {
			return wantEq(c.Image+" "+c.Workdir+" "+c.Network+" "+strings.Join(c.LockFiles, ","), "node:22 /img host a.json")
		}},
		{"parents in the other order", `
target "t" {
  inherits = ["img", "net"]
  matrix   = { node = [22] }
  script   = "true"
  artifact = "t.zip"
}`, func(c plan.Cell) string { return wantEq(c.Workdir, "/net") }},
		{"own attributes win, lists replaced", `
target "t" {
  inherits   = ["net", "img"]
  matrix     = { node = [22] }
  workdir    = "/own"
  pass_env   = ["OWN"]
  lock_files = ["own.json"]
  script     = "true"
  artifact   = "t.zip"
}`, func(c plan.Cell) string {
			return wantEq(c.Workdir+" "+strings.Join(c.PassEnv, ",")+" "+strings.Join(c.LockFiles, ","), "/own OWN own.json")
		}},
		{"env merges key by key, the nearest winning", `
target "t" {
  inherits = ["net", "img"]
  matrix   = { node = [22] }
  env      = { C = "own", D = "own" }
  script   = "true"
  artifact = "t.zip"
}`, func(c plan.Cell) string { return wantEq(envString(c.Env), "A=net B=img C=own D=own") }},
		{"mounts accumulate, parents first, dynamic ones per cell", `
target "t" {
  inherits = ["net", "img"]
  matrix   = { node = [22] }
  mount {
    source = "/own"
    target = "/own"
  }
  script   = "true"
  artifact = "t.zip"
}`, func(c plan.Cell) string { return wantEq(mountString(c.Mounts), "/root/.npm /new /own") }},
		{"a dynamic mount a template makes from the cell's matrix", `
target "t" {
  inherits = ["img"]
  matrix   = { node = [20] }
  script   = "true"
  artifact = "t.zip"
}`, func(c plan.Cell) string { return wantEq(mountString(c.Mounts), "") }},
		{"a test block is replaced whole", `
target "t" {
  inherits = ["net", "img"]
  matrix   = { node = [22] }
  test {
    script = "own-test"
  }
  script   = "true"
  artifact = "t.zip"
}`, func(c plan.Cell) string {
			if c.Test == nil {
				return "no test"
			}
			return wantEq(c.Test.Script, "own-test")
		}},
		{"skip blocks are replaced whole", `
target "t" {
  inherits = ["net", "img"]
  matrix   = { node = [21] }
  skip {
    condition = false
    reason    = "own"
  }
  script   = "true"
  artifact = "t.zip"
}`, func(c plan.Cell) string { return wantEq(c.Skip, "") }},
		{"inherited skip blocks", `
target "t" {
  inherits = ["net", "img"]
  matrix   = { node = [21] }
  script   = "true"
  artifact = "t.zip"
}`, func(c plan.Cell) string { return wantEq(c.Skip, "net") }},
		{"inherited test and skip blocks", `
target "t" {
  inherits = ["net", "img"]
  matrix   = { node = [22] }
  script   = "true"
  artifact = "t.zip"
}`, func(c plan.Cell) string {
			if c.Test == nil {
				return "no test"
			}
			return wantEq(c.Skip+"|"+c.Test.Script, "|img-test")
		}},
		{"recursively: a template inherits, and a diamond applies each once", `
template "both" {
  inherits = ["net", "img"]
}
template "again" {
  inherits = ["net"]
}
target "t" {
  inherits = ["both", "again"]
  matrix   = { node = [22] }
  script   = "true"
  artifact = "t.zip"
}`, func(c plan.Cell) string {
			// net applies once, after img (its last place): its workdir wins, its mount is there once.
			return wantEq(c.Workdir+" "+mountString(c.Mounts), "/net /new /root/.npm")
		}},
		{"a target inherits another target, not its matrix", `
target "base" {
  inherits = ["img"]
  matrix   = { node = [20, 22], arch = ["x64"] }
  script   = "base"
  artifact = "base-${matrix.node}.zip"
}
target "t" {
  inherits = ["base"]
  matrix   = { node = [22] }
  artifact = "t.zip"
}`, func(c plan.Cell) string {
			if c.Target != "t" {
				return ""
			}
			return wantEq(c.Name()+" "+c.Script+" "+c.Image, "t[node=22] base node:22")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, cells, diags := loadSourcePlan("m.hcl", []byte(head+tt.src), Options{})
			if diags.HasErrors() {
				t.Fatal(render(f, diags))
			}
			if len(cells) == 0 {
				t.Fatal("no cells")
			}
			for _, c := range cells {
				if msg := tt.want(c); msg != "" {
					b, _ := json.Marshal(c)
					t.Errorf("%s: %s\n%s", c.Name(), msg, b)
				}
			}
		})
	}
}

// TestTemplatesAreNotTargets: a template is never planned, and cannot be selected.
func TestTemplatesAreNotTargets(t *testing.T) {
	src := `
template "base" {
  image  = "img"
  script = "true"
}
target "t" {
  inherits = ["base"]
  artifact = "t.zip"
}`
	f, cells, diags := loadSourcePlan("m.hcl", []byte(src), Options{})
	if diags.HasErrors() || len(cells) != 1 || !slices.Equal(f.TargetNames(), []string{"t"}) {
		t.Fatalf("%d cells, targets %v:\n%s", len(cells), f.TargetNames(), render(f, diags))
	}
	if _, _, diags := loadSourcePlan("m.hcl", []byte(src), Options{}, "base"); !strings.Contains(render(f, diags), `no target named "base"`) {
		t.Errorf("planning a template: %s", render(f, diags))
	}
	// A file of templates only has no target.
	if f, _, diags := loadSourcePlan("m.hcl", []byte(`template "base" { image = "img" }`), Options{}); !strings.Contains(render(f, diags), "No target") {
		t.Errorf("templates only: %s", render(f, diags))
	}
}

func wantEq(got, want string) string {
	if got != want {
		return "got " + got + ", want " + want
	}
	return ""
}

func envString(env []plan.EnvVar) string {
	var s []string
	for _, e := range env {
		s = append(s, e.Name+"="+e.Value)
	}
	return strings.Join(s, " ")
}

func mountString(ms []plan.Mount) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Target)
	}
	return strings.Join(s, " ")
}

// TestReadmeInheritsExample: the example of README's "Templates and inherits" plans,
// with the template's lines in every cell.
func TestReadmeInheritsExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "#### Templates and inherits\n")
	_, example, ok2 := strings.Cut(section, "```hcl\n")
	example, _, ok3 := strings.Cut(example, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README has no example under \"Templates and inherits\"")
	}
	f, cells, diags := loadSourcePlan("README.md", []byte(example), Options{})
	if diags.HasErrors() || len(cells) != 2 {
		t.Fatalf("%d cells:\n%s", len(cells), render(f, diags))
	}
	for _, c := range cells {
		if c.Network != "host" || mountString(c.Mounts) != "/root/.npm" || envString(c.Env) != "SHARP_IGNORE_GLOBAL_LIBVIPS=1 npm_config_update_notifier=false" {
			t.Errorf("%s: network %q, mounts %q, env %q", c.Name(), c.Network, mountString(c.Mounts), envString(c.Env))
		}
	}
}
