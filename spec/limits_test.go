package spec

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"
)

// localsChain is a file of n locals, each the one before plus one; reversed, each
// refers to the one after it, so that evaluating the first goes n locals deep.
func localsChain(n int, reversed bool) string {
	var b strings.Builder
	b.WriteString("locals {\n")
	for i := range n {
		switch {
		case !reversed && i == 0, reversed && i == n-1:
			fmt.Fprintf(&b, "  l%d = 0\n", i)
		case reversed:
			fmt.Fprintf(&b, "  l%d = local.l%d + 1\n", i, i+1)
		default:
			fmt.Fprintf(&b, "  l%d = local.l%d + 1\n", i, i-1)
		}
	}
	b.WriteString("}\ntarget \"t\" {\n" + cellBody + "}\n")
	return b.String()
}

// TestLocalsDeepChain: a chain of 30,000 locals, first to last, is evaluated without
// recursion through them, each to its value.
func TestLocalsDeepChain(t *testing.T) {
	f := loadString(t, localsChain(30_000, true), Options{})
	locals := f.ctx.Variables["local"]
	if got := locals.GetAttr("l0"); !got.RawEquals(cty.NumberIntVal(29_999)) {
		t.Errorf("l0 = %#v", got)
	}
}

// TestLocalsSeeWhatTheyName: a local sees the locals it names; one that refers to
// local as a whole, or by a computed name, sees every local evaluated before it.
func TestLocalsSeeWhatTheyName(t *testing.T) {
	src := `
variable "k" { default = "a" }
locals {
  a     = 1
  b     = local.a + 1
  byKey = local[var.k]
  both  = [local.a, local["b"]]
  names = sort(keys(local))
}
target "t" {` + cellBody + "}\n"
	locals := loadString(t, src, Options{}).ctx.Variables["local"]
	want := map[string]string{"byKey": "1", "both": "[1,2]", "names": `["a","b","both","byKey"]`}
	for name, w := range want {
		got, err := jsonString(locals.GetAttr(name))
		if err != nil || got != w {
			t.Errorf("local.%s = %s (%v), want %s", name, got, err, w)
		}
	}
}

func jsonString(v cty.Value) (string, error) {
	out, err := functions["jsonencode"].Call([]cty.Value{v})
	if err != nil {
		return "", err
	}
	return out.AsString(), nil
}

// TestValueDepthLimit: a local nesting more than maxValueDepth levels, made by a chain
// of locals each wrapping the one before, is an error at the first that does; the
// value of each is measured once.
func TestValueDepthLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("locals {\n  l0 = 1\n")
	for i := 1; i <= 120; i++ {
		fmt.Fprintf(&b, "  l%d = %slocal.l%d%s\n", i, strings.Repeat("[", 100), i-1, strings.Repeat("]", 100))
	}
	b.WriteString("}\ntarget \"t\" {" + cellBody + "}\n")
	f, diags := LoadSource(context.Background(), "deep.hcl", []byte(b.String()), Options{})
	out := render(f, diags)
	if len(diags) != 1 || !strings.Contains(out, "Value nested too deep") || !strings.Contains(out, `local "l101"`) {
		t.Errorf("diagnostics:\n%.3000s", out)
	}
}

// TestTypeDepth: depths of types, with and without the remembered ones.
func TestTypeDepth(t *testing.T) {
	inner := cty.Tuple([]cty.Type{cty.String, cty.List(cty.Number)})
	tests := []struct {
		ty   cty.Type
		want int
	}{
		{cty.String, 0},
		{cty.List(cty.String), 1},
		{cty.Map(cty.List(cty.Set(cty.Bool))), 3},
		{inner, 2},
		{cty.Object(map[string]cty.Type{"a": inner, "b": cty.Number}), 3},
		{cty.Tuple([]cty.Type{inner, inner, cty.List(inner)}), 4},
		{cty.EmptyTuple, 1},
		{cty.DynamicPseudoType, 0},
	}
	m := typeDepths{}
	for range 2 { // the second time from what m remembers
		for _, tt := range tests {
			if got := m.depth(tt.ty, maxValueDepth); got != tt.want {
				t.Errorf("depth(%s) = %d, want %d", tt.ty.FriendlyName(), got, tt.want)
			}
		}
	}
	if got := m.depth(cty.List(cty.List(cty.List(cty.String))), 2); got <= 2 {
		t.Errorf("past the limit: %d", got)
	}
}

// naiveExpand is expand as it was, comparing every cell with every exclude and
// include: the reference for the indexed expand.
func naiveExpand(t *target) []combo {
	n, _ := t.productSize()
	nk := len(t.keys)
	matches := func(c combo, ks keyset, axesOnly bool) bool {
		for _, e := range ks.entries {
			k := slices.Index(t.keys, e.name)
			if k < 0 || k >= len(t.axes) {
				if axesOnly {
					continue
				}
				return false
			}
			if c.strs[k] != e.str {
				return false
			}
		}
		return true
	}
	var cells []combo
	idx := make([]int, len(t.axes))
	for range n {
		c := combo{vals: make([]cty.Value, nk), strs: make([]string, nk)}
		for i, a := range t.axes {
			c.vals[i], c.strs[i] = a.values[idx[i]], a.strs[idx[i]]
		}
		if !slices.ContainsFunc(t.exclude, func(ex keyset) bool { return matches(c, ex, false) }) {
			cells = append(cells, c)
		}
		for i := len(idx) - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < len(t.axes[i].values) {
				break
			}
			idx[i] = 0
		}
	}
	if len(t.axes) == 0 && len(t.include) > 0 {
		cells = cells[:0]
	}
	original := len(cells)
	for _, inc := range t.include {
		matched := false
		for ci := range original {
			if matches(cells[ci], inc, true) {
				matched = true
				for _, e := range inc.entries {
					if k := slices.Index(t.keys, e.name); k >= len(t.axes) {
						cells[ci].vals[k], cells[ci].strs[k] = e.value, e.str
					}
				}
			}
		}
		if !matched {
			c := combo{vals: make([]cty.Value, nk), strs: make([]string, nk)}
			for _, e := range inc.entries {
				k := slices.Index(t.keys, e.name)
				c.vals[k], c.strs[k] = e.value, e.str
			}
			cells = append(cells, c)
		}
	}
	return cells
}

// randomTarget is a target of up to 4 axes of up to 4 values, with random excludes
// and includes (of axis values, values on no axis, and new keys).
func randomTarget(r *rand.Rand) *target {
	t := &target{name: "t"}
	keyIndex := map[string]int{}
	for a := range r.IntN(5) {
		ax := axis{name: fmt.Sprintf("a%d", a)}
		for v := range 1 + r.IntN(4) {
			ax.values = append(ax.values, cty.StringVal(fmt.Sprint(v)))
			ax.strs = append(ax.strs, fmt.Sprint(v))
		}
		keyIndex[ax.name] = len(t.keys)
		t.axes = append(t.axes, ax)
		t.keys = append(t.keys, ax.name)
	}
	randomKeyset := func(extra bool) keyset {
		var ks keyset
		for _, a := range t.axes {
			if r.IntN(2) == 0 {
				v := fmt.Sprint(r.IntN(len(a.values) + 1)) // sometimes a value on no axis
				ks.entries = append(ks.entries, entry{name: a.name, str: v, value: cty.StringVal(v), key: keyIndex[a.name]})
			}
		}
		if extra {
			for _, name := range []string{"x", "y"} {
				if r.IntN(2) == 0 {
					v := fmt.Sprint(r.IntN(3))
					if _, ok := keyIndex[name]; !ok {
						keyIndex[name] = len(t.keys)
						t.keys = append(t.keys, name)
					}
					ks.entries = append(ks.entries, entry{name: name, str: v, value: cty.StringVal(v), key: keyIndex[name]})
				}
			}
		}
		return ks
	}
	for range r.IntN(4) {
		t.exclude = append(t.exclude, randomKeyset(false))
	}
	for range r.IntN(6) {
		if ks := randomKeyset(true); len(ks.entries) > 0 {
			t.include = append(t.include, ks)
		}
	}
	return t
}

// TestExpandAsBefore: the indexed expand makes the cells the naive one makes, in the
// same order with the same values, on 20,000 random targets.
func TestExpandAsBefore(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20_000 {
		tg := randomTarget(r)
		got, err := tg.expand(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := naiveExpand(tg)
		if !slices.EqualFunc(got, want, func(a, b combo) bool { return slices.Equal(a.strs, b.strs) && slices.Equal(a.vals, b.vals) }) {
			t.Fatalf("target %d: axes %v, exclude %v, include %v:\ngot  %v\nwant %v", i, tg.axes, tg.exclude, tg.include, comboStrings(got), comboStrings(want))
		}
	}
}

func comboStrings(cs []combo) []string {
	var out []string
	for _, c := range cs {
		out = append(out, strings.Join(c.strs, "/"))
	}
	return out
}

// TestLargeExcludeAndInclude: 20,000 excludes and 20,000 includes of a 200 x 200
// matrix (each of the cells left), plus 1,000 includes that each match every cell,
// expand in a second or two (compared with every cell, they took minutes).
func TestLargeExcludeAndInclude(t *testing.T) {
	src := `
target "t" {
  matrix  = { a = range(200), b = range(200) }
  exclude = [for p in setproduct(range(200), range(200)) : { a = p[0], b = p[1] } if (p[0] + p[1]) % 2 == 0]
  include = concat(
    [for p in setproduct(range(200), range(100)) : { a = p[0], b = p[1] * 2 + (p[0] + 1) % 2, odd = true }],
    [for i in range(1000) : { all = i }],
  )
` + cellBody + "}\n"
	f := loadString(t, src, Options{})
	start := time.Now()
	combos, err := f.targets[0].expand(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("expand took %v", d)
	}
	if len(combos) != 20_000 {
		t.Fatalf("%d cells, want 20000", len(combos))
	}
	keys := f.targets[0].keys
	for _, c := range combos {
		m := map[string]string{}
		for i, k := range keys {
			m[k] = c.strs[i]
		}
		if m["odd"] != "true" || m["all"] != "999" {
			t.Fatalf("cell %v", m)
		}
	}
}

// TestSizeLimits: what would make more cells, keys or exclude objects than a plan may
// have is refused when it is read, before its objects are.
func TestSizeLimits(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"include", `include = flatten([for i in range(101) : local.thousand])`, `The include of target "t" has 101000 objects`},
		{"exclude", "matrix = { a = [0] }\nexclude = flatten([for i in range(101) : local.thousand])", `The exclude of target "t" has 101000 objects`},
		{"axis", `matrix = { a = flatten([for i in range(101) : range(1000)]) }`, `The axis "a" has 101000 values`},
		{"product", `matrix = { a = range(1000), b = range(101) }`, `more than 100000 cells (the product`},
		{"axes", "matrix = {" + axesOf(65) + "}", "more than 64 matrix keys"},
		{"include keys", `include = [for i in range(65) : { "k${i}" = i }]`, "more than 64 matrix keys"},
		{"include object", `include = [{ ` + axesOf(65) + ` }]`, "more than 64 matrix keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "locals {\n  thousand = [for j in range(1000) : { a = j }]\n}\ntarget \"t\" {\n" + tt.body + "\n" + `
  image    = "img"
  script   = "true"
  artifact = "a-${jsonencode(matrix)}.tar.gz"
}
`
			start := time.Now()
			f, _, diags := loadSourcePlan("limits.hcl", []byte(src), Options{})
			if out := render(f, diags); !strings.Contains(out, tt.want) {
				t.Errorf("diagnostics lack %q:\n%s", tt.want, out)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// axesOf is n object attributes "aI = [I]".
func axesOf(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, fmt.Sprintf("a%d = [%d]", i, i))
	}
	return strings.Join(parts, ", ")
}

// TestPlanStopsWhenCanceled: cancelling a plan of 90,000 cells that each take a while
// returns within a second, with the "Planning stopped" error.
func TestPlanStopsWhenCanceled(t *testing.T) {
	src := `
target "t" {
  matrix   = { a = range(300), b = range(300) }
  image    = "img"
  script   = join(" ", [for i in range(200) : "${matrix.a}-${matrix.b}-${i}"])
  artifact = "a-${matrix.a}-${matrix.b}.tar.gz"
}
`
	f := loadString(t, src, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	cells, diags := f.Plan(ctx)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stopped after %v", d)
	}
	if len(cells) == 90_000 || !strings.Contains(render(f, diags), "Planning stopped") {
		t.Errorf("%d cells, diagnostics:\n%.2000s", len(cells), render(f, diags))
	}
}

// TestLoadStopsWhenCanceled: cancelling the load of 5,000 locals that each loop 1,000
// times stops it between two of them, well before it would end.
func TestLoadStopsWhenCanceled(t *testing.T) {
	var b strings.Builder
	b.WriteString("locals {\n")
	for i := range 5_000 {
		fmt.Fprintf(&b, "  l%d = length([for i in range(1000) : i if i %% 3 == %d])\n", i, i%3)
	}
	b.WriteString("}\ntarget \"t\" {" + cellBody + "}\n")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	f, diags := LoadSource(ctx, "slow.hcl", []byte(b.String()), Options{})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stopped after %v", d)
	}
	out := render(f, diags)
	if !strings.Contains(out, "Loading stopped") {
		t.Errorf("diagnostics:\n%s", out)
	}
	if _, more := f.Plan(context.Background()); !strings.Contains(render(f, more), "Incomplete matrix file") {
		t.Errorf("planned a file whose load stopped: %s", render(f, more))
	}
}

// chain is a locals block of n+1 locals: a0 = first, and each aI = step with %[1]s
// the local before it (local.aI-1).
func chain(first, step string, n int) string {
	var b strings.Builder
	b.WriteString("locals {\n  a0 = " + first + "\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  a%d = "+step+"\n", i, fmt.Sprintf("local.a%d", i-1))
	}
	return b.String() + "}\n"
}

// TestValueBudget: what one evaluation builds is bounded, and so is what a load keeps:
// doubling through locals, templates, lists, nested for expressions and numbers of
// huge magnitude are errors where the bound is crossed, in seconds and a few hundred
// MB (each took minutes and gigabytes, or hours; see the README), while the files
// within them load as before.
func TestValueBudget(t *testing.T) {
	tests := []struct {
		name, src, want, at string
	}{
		{"template doubling", chain(`"xxxxxxxx"`, `"${%[2]s}${%[2]s}"`, 40), "Value too large", "test.hcl:25:"},
		{"directive doubling", chain(`"xxxxxxxx"`, `"%%{for i in range(2)}${%[2]s}%%{endfor}"`, 40), "Value too large", "test.hcl:"},
		{"concat doubling", chain(`["x"]`, `concat(%[2]s, %[2]s)`, 40), "Value too large", "test.hcl:"},
		{"for doubling", chain(`["x", "y"]`, `[for x in %[2]s : %[2]s]`, 40) + "locals {\n  j = jsonencode(local.a40)\n}\n", "Value too large", "test.hcl:"},
		{"nested for", "locals {\n  x = [for a in range(1000) : [for b in range(1000) : [for c in range(1000) : c]]]\n}\n", "Value too large", "test.hcl:2:"},
		{"repeated reference", "locals {\n  s = format(\"%1000000s\", \"\")\n  x = jsonencode([for i in range(1000) : local.s])\n}\n", "Value too large", "test.hcl:3:"},
		{"huge literal", "locals {\n  x = jsonencode(1e999999)\n}\n", "a number of about 1000000 digits", "test.hcl:2:18"},
		{"huge product", "locals {\n  x = tostring(1e900 * 1e900)\n}\n", "more than 1000", "test.hcl:2:16"},
		{"long literal", "locals {\n  x = " + strings.Repeat("7", 1_000_000) + "\n}\n", "Number too long", "test.hcl:2:7"},
		{"numeric string", "locals {\n  x = tonumber(format(\"%01000000d\", 1))\n}\n", "a string of 1000000 digits", "test.hcl:2:16"},
		{"numeric key", "locals {\n  l = [1]\n  x = local.l[\"" + strings.Repeat("0", 2000) + "\"]\n}\n", "a string of 2000 digits", "test.hcl:3:14"},
		{"in a cell", `target "u" {
  matrix   = { a = range(3) }
  image    = "img"
  script   = join("", [for i in range(1000) : format("%100000s", matrix.a)])
  artifact = "u-${matrix.a}.tar.gz"
}
`, "Value too large", "test.hcl:4:"},
		{"many locals kept", "locals {\n  s = format(\"%10000000s\", \"\")\n" + func() string {
			var b strings.Builder
			for i := range 40 {
				fmt.Fprintf(&b, "  c%d = \"${local.s}%d\"\n", i, i)
			}
			return b.String()
		}() + "}\n", "Values too large", "test.hcl:"},
		// Within the bounds: as before.
		{"large but fine", "locals {\n  x = strlen(jsonencode([for a in range(300) : [for b in range(300) : b]]))\n  y = format(\"%f\", 1e300)\n  z = tonumber(\"12345678901234567890\") * 2\n}\n", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			f, _, diags := loadSourcePlan("test.hcl", []byte(tt.src+"target \"t\" {"+cellBody+"}\n"), Options{})
			out := render(f, diags)
			if tt.want == "" {
				if diags.HasErrors() {
					t.Errorf("diagnostics:\n%.3000s", out)
				}
				return
			}
			if !diags.HasErrors() || !strings.Contains(out, tt.want) || !strings.Contains(out, tt.at) {
				t.Errorf("diagnostics lack %q at %q:\n%.3000s", tt.want, tt.at, out)
			}
			// A hang guard, not a speed test: unbounded, these take minutes or hours.
			if d := time.Since(start); d > 60*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}
