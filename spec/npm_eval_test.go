package spec

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/registry"
)

// registryEverywhere calls the registry functions wherever an expression may be: a
// validation, a local, an axis, exclude, include, an attribute, a dynamic block's
// for_each, the test block and a skip block.
const registryEverywhere = `
variable "range" {
  default = ">=0.33"
  validation {
    condition     = length(npm_versions("sharp", var.range)) > 0
    error_message = "No sharp in the range."
  }
}
locals {
  sharp = npm_versions("sharp", var.range, { per = "minor" })
}
target "t" {
  matrix   = { sharp = local.sharp, node = [for v in ["18.0.0", "20.1.0"] : semver_major(v)] }
  exclude  = [{ sharp = npm_versions("sharp", "0.33.x", { last = 1 })[0], node = 18 }]
  include  = [{ sharp = npm_package("sharp", "0.32.6").version, node = 16 }]
  image    = "node:${matrix.node}"
  script   = "npm install sharp@${matrix.sharp}"
  artifact = "sharp-${matrix.sharp}-${matrix.node}.zip"
  env      = { INTEGRITY = npm_package("sharp", matrix.sharp).integrity }
  dynamic "mount" {
    for_each = npm_package("sharp", matrix.sharp).cpu
    content {
      source = "/tmp/${mount.value}"
      target = "/cpu/${mount.value}"
    }
  }
  test {
    script = "test ${npm_package("sharp", matrix.sharp).version} = ${matrix.sharp}"
  }
  skip {
    condition = !semver_intersects(npm_package("sharp", matrix.sharp).engines.node, "${matrix.node}.x")
    reason    = "sharp ${matrix.sharp} does not support Node.js ${matrix.node}"
  }
}
`

// TestRegistryFunctionsEverywhere: the functions work wherever an expression may be,
// and each reaches the Resolver with the context of the call that evaluates it: Load's
// for validations, locals, axes, exclude and include; Plan's for the cells.
func TestRegistryFunctionsEverywhere(t *testing.T) {
	r := &fakeResolver{}
	loadCtx := context.WithValue(context.Background(), ctxKey{}, "load")
	f, diags := LoadSource(loadCtx, "test.hcl", []byte(registryEverywhere), Options{Resolver: r})
	if len(diags) > 0 {
		t.Fatal(render(f, diags))
	}
	loaded := r.count()
	cells, diags := f.Plan(context.WithValue(context.Background(), ctxKey{}, "plan"))
	if len(diags) > 0 {
		t.Fatal(render(f, diags))
	}
	want := []string{"t[sharp=0.33.5,node=20]", "t[sharp=0.34.3,node=18]", "t[sharp=0.34.3,node=20]", "t[sharp=0.32.6,node=16]"}
	if got := names(cells); !slices.Equal(got, want) {
		t.Fatalf("cells %v, want %v", got, want)
	}
	if c := cells[1]; c.Skip != "sharp 0.34.3 does not support Node.js 18" {
		t.Errorf("cell %s not skipped: %+v", c.Name(), c)
	}
	for _, c := range slices.Delete(slices.Clone(cells), 1, 2) {
		sharp, _ := c.AxisValue("sharp")
		if c.Skip != "" || len(c.Env) != 1 || c.Env[0].Value != "sha512-"+sharp || len(c.Mounts) != 2 || c.Mounts[1].Target != "/cpu/arm64" ||
			c.Test == nil || c.Test.Script != "test "+sharp+" = "+sharp {
			t.Errorf("cell %s: %+v", c.Name(), c)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if loaded != 4 {
		t.Errorf("Load made %d calls, want 4: %q", loaded, r.calls[:loaded])
	}
	for i, v := range r.ctxs {
		if want := map[bool]string{true: "load", false: "plan"}[i < loaded]; v != want {
			t.Errorf("call %d %s had the context of %v, want %s's", i, r.calls[i], v, want)
		}
	}
}

// TestRegistryFunctionsConcurrent: a plan large enough to be evaluated in parallel
// calls the Resolver from many goroutines (go test -race checks the rest).
func TestRegistryFunctionsConcurrent(t *testing.T) {
	src := `
target "t" {
  matrix   = { i = range(300), sharp = ["0.33.5", "0.34.3"] }
  image    = "img"
  script   = "true"
  artifact = "a-${matrix.i}-${matrix.sharp}.zip"
  env      = { NODE = npm_package("sharp", matrix.sharp).engines.node }
}
`
	r := &fakeResolver{}
	cells := planString(t, src, Options{Resolver: r})
	if len(cells) != 600 || r.count() != 600 {
		t.Fatalf("%d cells, %d calls; want 600 of each", len(cells), r.count())
	}
	for _, c := range cells {
		sharp, _ := c.AxisValue("sharp")
		if want := fakePackuments["sharp"].Versions[sharp].Engines["node"]; c.Env[0].Value != want {
			t.Fatalf("cell %s: NODE = %q, want %q", c.Name(), c.Env[0].Value, want)
		}
	}
}

// TestRegistryFunctionsCanceled: a Plan cancelled while a registry call waits fails
// that call, naming the cancellation, and stops.
func TestRegistryFunctionsCanceled(t *testing.T) {
	src := `
target "t" {
  image    = "img"
  script   = "true"
  artifact = "a.zip"
  env      = { V = join(",", npm_versions("sharp", "*")) }
}
`
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := loadString(t, src, Options{Resolver: cancelingResolver{&fakeResolver{}, cancel}})
	cells, diags := f.Plan(ctx)
	out := render(f, diags)
	if len(cells) != 0 || !strings.Contains(out, `Call to function "npm_versions" failed: context canceled.`) || !strings.Contains(out, "test.hcl:6:30") || !strings.Contains(out, "Planning stopped") {
		t.Errorf("cells %v, diagnostics:\n%s", names(cells), out)
	}
}

// cancelingResolver cancels the plan when asked, as a SIGINT during a registry request
// would.
type cancelingResolver struct {
	*fakeResolver
	cancel context.CancelFunc
}

func (r cancelingResolver) Versions(ctx context.Context, pkg, rng string, opts registry.Options) ([]string, error) {
	r.cancel()
	return r.fakeResolver.Versions(ctx, pkg, rng, opts)
}

// TestSensitiveRegistryArgumentsNotSent: a registry call refused for a sensitive
// argument never reaches the Resolver.
func TestSensitiveRegistryArgumentsNotSent(t *testing.T) {
	r := &fakeResolver{}
	src := sensitiveHead + `
locals {
  v = npm_versions(var.tok, "*")
}
` + sensitiveTarget(`  env = { V = npm_package("sharp", var.tok).version }`)
	f, _, diags := loadSourcePlan("test.hcl", []byte(src), Options{Resolver: r})
	out := render(f, diags)
	if r.count() != 0 || strings.Count(out, "Sensitive value in a registry call") != 2 || strings.Contains(out, secret) {
		t.Errorf("%d calls; diagnostics:\n%s", r.count(), out)
	}
}
