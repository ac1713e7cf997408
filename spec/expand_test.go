package spec

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/matrixbuild/matrix/plan"
)

// loadString loads src as a matrix file named "test.hcl" and fails the test on any
// diagnostic.
func loadString(t testing.TB, src string, opts Options) *File {
	t.Helper()
	f, diags := LoadSource(context.Background(), "test.hcl", []byte(src), opts)
	if len(diags) > 0 {
		t.Fatalf("Load: %s", render(f, diags))
	}
	return f
}

func planString(t testing.TB, src string, opts Options, targets ...string) []plan.Cell {
	t.Helper()
	f := loadString(t, src, opts)
	cells, diags := f.Plan(context.Background(), targets...)
	if len(diags) > 0 {
		t.Fatalf("Plan: %s", render(f, diags))
	}
	return cells
}

// loadSourcePlan is LoadPlan for a source in memory.
func loadSourcePlan(name string, src []byte, opts Options, targets ...string) (*File, []plan.Cell, hcl.Diagnostics) {
	f, diags := LoadSource(context.Background(), name, src, opts)
	cells, diags := f.planLoaded(context.Background(), diags, targets)
	return f, cells, diags
}

func render(f *File, diags hcl.Diagnostics) string {
	var b strings.Builder
	if err := f.WriteDiagnostics(&b, diags, false); err != nil {
		return err.Error()
	}
	return b.String()
}

func names(cells []plan.Cell) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = c.Name()
	}
	return out
}

// cellBody is what every test target needs besides its matrix: an artifact name made
// unique from all of the cell's keys.
const cellBody = `
  image    = "img"
  script   = "true"
  artifact = "c${regex_replace(jsonencode(matrix), "[^a-z0-9]+", "-")}.tar.gz"
`

func TestExpand(t *testing.T) {
	tests := []struct {
		name string
		body string // the target's matrix, exclude and include
		want []string
	}{
		{
			name: "first axis varies slowest",
			body: `matrix = { os = ["linux", "windows"], node = [14, 16], arch = ["x64", "arm64"] }`,
			want: []string{
				"t[os=linux,node=14,arch=x64]", "t[os=linux,node=14,arch=arm64]",
				"t[os=linux,node=16,arch=x64]", "t[os=linux,node=16,arch=arm64]",
				"t[os=windows,node=14,arch=x64]", "t[os=windows,node=14,arch=arm64]",
				"t[os=windows,node=16,arch=x64]", "t[os=windows,node=16,arch=arm64]",
			},
		},
		{
			name: "axes keep written order, not sorted",
			body: `matrix = { zeta = ["z"], alpha = ["a", "b"] }`,
			want: []string{"t[zeta=z,alpha=a]", "t[zeta=z,alpha=b]"},
		},
		{
			name: "no matrix is one cell",
			body: ``,
			want: []string{"t"},
		},
		{
			// GitHub docs, "Expanding or adding matrix configurations".
			name: "github include example",
			body: `
  matrix = { fruit = ["apple", "pear"], animal = ["cat", "dog"] }
  include = [
    { color = "green" },
    { color = "pink", animal = "cat" },
    { fruit = "apple", shape = "circle" },
    { fruit = "banana" },
    { fruit = "banana", animal = "cat" },
  ]`,
			want: []string{
				"t[fruit=apple,animal=cat,color=pink,shape=circle]",
				"t[fruit=apple,animal=dog,color=green,shape=circle]",
				"t[fruit=pear,animal=cat,color=pink]",
				"t[fruit=pear,animal=dog,color=green]",
				"t[fruit=banana]",
				"t[fruit=banana,animal=cat]",
			},
		},
		{
			name: "include extends matching cells only",
			body: `
  matrix  = { os = ["linux", "windows"], node = [14, 16] }
  include = [{ node = 16, npm = 6 }]`,
			want: []string{
				"t[os=linux,node=14]", "t[os=linux,node=16,npm=6]",
				"t[os=windows,node=14]", "t[os=windows,node=16,npm=6]",
			},
		},
		{
			name: "include never overwrites an axis value: adds a cell instead",
			body: `
  matrix  = { os = ["linux"], node = [14] }
  include = [{ os = "macos", node = 14 }]`,
			want: []string{"t[os=linux,node=14]", "t[os=macos,node=14]"},
		},
		{
			name: "later include overwrites a key an earlier include added",
			body: `
  matrix  = { os = ["linux", "windows"] }
  include = [{ shell = "sh" }, { os = "windows", shell = "pwsh" }]`,
			want: []string{"t[os=linux,shell=sh]", "t[os=windows,shell=pwsh]"},
		},
		{
			// GitHub docs, "Excluding matrix configurations": a partial match excludes.
			name: "github exclude example",
			body: `
  matrix = {
    os          = ["macos-latest", "windows-latest"]
    version     = [12, 14, 16]
    environment = ["staging", "production"]
  }
  exclude = [
    { os = "macos-latest", version = 12, environment = "production" },
    { os = "windows-latest", version = 16 },
  ]`,
			want: []string{
				"t[os=macos-latest,version=12,environment=staging]",
				"t[os=macos-latest,version=14,environment=staging]",
				"t[os=macos-latest,version=14,environment=production]",
				"t[os=macos-latest,version=16,environment=staging]",
				"t[os=macos-latest,version=16,environment=production]",
				"t[os=windows-latest,version=12,environment=staging]",
				"t[os=windows-latest,version=12,environment=production]",
				"t[os=windows-latest,version=14,environment=staging]",
				"t[os=windows-latest,version=14,environment=production]",
			},
		},
		{
			name: "include re-adds an excluded cell at the end",
			body: `
  matrix  = { os = ["a", "b"], node = [1, 2] }
  exclude = [{ os = "b", node = 2 }]
  include = [{ os = "b", node = 2, extra = "x" }]`,
			want: []string{"t[os=a,node=1]", "t[os=a,node=2]", "t[os=b,node=1]", "t[os=b,node=2,extra=x]"},
		},
		{
			name: "numbers and strings compare by their written form",
			body: `
  matrix  = { node = [20, 22] }
  exclude = [{ node = "22" }]`,
			want: []string{"t[node=20]"},
		},
		{
			name: "exclude and include computed by expressions",
			body: `
  matrix  = { v = ["1", "2", "3"] }
  exclude = [for v in ["2", "3"] : { v = v } if v != "3"]
  include = [for v in ["3"] : { v = v, big = true }]`,
			want: []string{"t[v=1]", "t[v=3,big=true]"},
		},
		{
			name: "only includes, no matrix",
			body: `include = [{ a = "x" }, { a = "y", b = 1.5 }]`,
			want: []string{"t[a=x]", "t[a=y,b=1.5]"},
		},
		{
			// (every cell excluded and none added is an error: TestBadFiles/exclude_everything)
			name: "everything excluded, then included again",
			body: `
  matrix  = { a = ["x"] }
  exclude = [{ a = "x" }]
  include = [{ a = "x" }]`,
			want: []string{"t[a=x]"},
		},
		{
			name: "bool axis",
			body: `matrix = { debug = [false, true] }`,
			want: []string{"t[debug=false]", "t[debug=true]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "target \"t\" {\n" + tt.body + "\n" + cellBody + "}\n"
			got := names(planString(t, src, Options{}))
			if !slices.Equal(got, tt.want) {
				t.Errorf("cells:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestPlanTargetsInFileOrder(t *testing.T) {
	src := `
target "b" {
  matrix = { x = ["1"] }` + cellBody + `}
target "a" {
  matrix = { x = ["2", "3"] }` + cellBody + `}
`
	f := loadString(t, src, Options{})
	if got, want := f.TargetNames(), []string{"b", "a"}; !slices.Equal(got, want) {
		t.Errorf("TargetNames = %q, want %q", got, want)
	}
	cells, diags := f.Plan(context.Background(), "a", "b")
	if len(diags) > 0 {
		t.Fatal(render(f, diags))
	}
	if got, want := names(cells), []string{"b[x=1]", "a[x=2]", "a[x=3]"}; !slices.Equal(got, want) {
		t.Errorf("cells = %q, want %q", got, want)
	}
	cells, _ = f.Plan(context.Background(), "a")
	if got, want := names(cells), []string{"a[x=2]", "a[x=3]"}; !slices.Equal(got, want) {
		t.Errorf("Plan(a) = %q, want %q", got, want)
	}
	_, diags = f.Plan(context.Background(), "nope")
	if !diags.HasErrors() || !strings.Contains(diags[0].Detail, "Its targets are: b, a.") {
		t.Errorf("Plan(nope) diagnostics = %v, want an error listing the targets", diags)
	}
}

func TestCellFields(t *testing.T) {
	src := `
variable "reg" { default = "example.test/" }
locals { tag = upper("v") }
target "t" {
  matrix   = { node = [22], arch = ["arm64"] }
  include  = [{ arch = "arm64", qemu = true }]
  image    = "${var.reg}node:${matrix.node}"
  platform = "linux/${matrix.arch}"
  workdir  = "/w"
  env      = { B = "2", A = matrix.node, Q = tostring(matrix.qemu) }
  pass_env = ["NPM_TOKEN"]
  network  = "host"
  mount {
    source = "cache"
    target = "/root/.npm/"
  }
  dynamic "mount" {
    for_each = ["/etc/ssl/ca.crt"]
    iterator = m
    content {
      source    = m.value
      target    = "/ca.crt"
      read_only = true
    }
  }
  script   = "echo ${local.tag}"
  artifact = "out-${matrix.node}.zip"
  max_size = "1.5KiB"
  warn_size = "1KB"
  retries  = 0
  test {
    script  = "node -v"
    timeout = "90s"
  }
}
`
	cells := planString(t, src, Options{})
	if len(cells) != 1 {
		t.Fatalf("%d cells, want 1", len(cells))
	}
	c := cells[0]
	check := func(what string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	check("name", c.Name(), "t[node=22,arch=arm64,qemu=true]")
	check("image", c.Image, "example.test/node:22")
	check("platform", c.Platform, "linux/arm64")
	check("workdir", c.Workdir, "/w")
	check("collect", c.Collect, "/w/node_modules")
	check("env", c.Env, []plan.EnvVar{{Name: "A", Value: "22"}, {Name: "B", Value: "2"}, {Name: "Q", Value: "true"}})
	check("pass_env", c.PassEnv, []string{"NPM_TOKEN"})
	check("network", c.Network, "host")
	check("mount count", len(c.Mounts), 2)
	if len(c.Mounts) == 2 {
		if m := c.Mounts[0]; !strings.HasSuffix(m.Source, "/cache") || !strings.HasPrefix(m.Source, "/") || m.Target != "/root/.npm" || m.ReadOnly {
			t.Errorf("relative mount = %+v, want an absolute source next to the file", m)
		}
		check("dynamic mount", c.Mounts[1], plan.Mount{Type: plan.MountBind, Source: "/etc/ssl/ca.crt", Target: "/ca.crt", ReadOnly: true})
	}
	check("script", c.Script, "echo V")
	check("artifact", c.Artifact, "out-22.zip")
	check("format", c.Format, "zip")
	check("timeout", c.Timeout, DefaultTimeout)
	check("max_size", c.MaxSize, 1536)
	check("warn_size", c.WarnSize, 1000)
	check("retries", c.Retries, 0)
	if c.Test == nil {
		t.Fatal("no test")
	}
	check("test image", c.Test.Image, c.Image)
	check("test platform", c.Test.Platform, c.Platform)
	check("test network", c.Test.Network, "host")
	check("test workdir", c.Test.Workdir, "/test")
	check("test timeout", c.Test.Timeout, "1m30s")
	if v, ok := c.AxisValue("node"); !ok || v != "22" {
		t.Errorf("AxisValue(node) = %q, %v", v, ok)
	}
	if _, ok := c.AxisValue("nope"); ok {
		t.Error("AxisValue(nope) found")
	}
}

func TestDefaults(t *testing.T) {
	c := planString(t, `target "t" {
  image    = "i"
  script   = "s"
  artifact = "a.tgz"
}`, Options{})[0]
	if c.Workdir != "/build" || c.Collect != "/build/node_modules" || c.Format != "tar.gz" ||
		c.Timeout != DefaultTimeout || c.MaxSize != 2<<30 || c.Retries != 2 || c.Test != nil ||
		c.Platform != "" || c.Network != "" || c.Env == nil || c.PassEnv == nil || c.Mounts == nil {
		t.Errorf("defaults: %+v", c)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"2GiB": 2 << 30, "500MB": 500e6, "1024": 1024, "1.5 KiB": 1536, "1TiB": 1 << 40, "7B": 7,
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "2G", "2gb", "1.5B", "-1", "2 TiB", "x"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		}
	}
}
