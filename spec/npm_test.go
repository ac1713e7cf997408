package spec

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/matrixbuild/matrix/registry"
)

// evalLocal loads a file whose local x is expr, with r as the Resolver, and returns
// x as JSON ("" when it failed) and the rendered diagnostics. expr is on line 2,
// starting at column 7.
func evalLocal(t *testing.T, expr string, r Resolver) (string, string) {
	t.Helper()
	src := "locals {\n  x = " + expr + "\n}\ntarget \"t\" {" + cellBody + "}\n"
	f, diags := LoadSource(context.Background(), "test.hcl", []byte(src), Options{Resolver: r})
	out := render(f, diags)
	if diags.HasErrors() {
		return "", out
	}
	x := f.ctx.Variables["local"].GetAttr("x")
	js, err := ctyjson.Marshal(x, x.Type())
	if err != nil {
		t.Fatal(err)
	}
	return string(js), out
}

// functionCase is an expression and either its value as JSON or, when err is set, the
// substrings its one diagnostic must contain (its message and where it points).
type functionCase struct {
	expr string
	want string
	err  []string
}

func runFunctionCases(t *testing.T, tests []functionCase, r Resolver) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, diags := evalLocal(t, tt.expr, r)
			if tt.err == nil {
				if got != tt.want || diags != "" {
					t.Errorf("got %s, want %s\n%s", got, tt.want, diags)
				}
				return
			}
			if got != "" || strings.Count(diags, "Error: ") != 1 {
				t.Errorf("got %s, want one error:\n%s", got, diags)
			}
			for _, s := range tt.err {
				if !strings.Contains(diags, s) {
					t.Errorf("diagnostic lacks %q:\n%s", s, diags)
				}
			}
		})
	}
}

func TestNpmVersions(t *testing.T) {
	runFunctionCases(t, []functionCase{
		{expr: `npm_versions("sharp", ">=0.33")`, want: `["0.33.0","0.33.5","0.34.1","0.34.3"]`},
		{expr: `npm_versions("sharp", "*", null)`, want: `["0.32.6","0.33.0","0.33.5","0.34.1","0.34.3"]`},
		{expr: `npm_versions("sharp", ">=0.33", { per = "minor" })`, want: `["0.33.5","0.34.3"]`},
		{expr: `npm_versions("sharp", "*", { per = "major" })`, want: `["0.34.3"]`},
		{expr: `npm_versions("sharp", "*", { per = "patch", last = 2 })`, want: `["0.34.1","0.34.3"]`},
		{expr: `npm_versions("sharp", "*", { last = "1" })`, want: `["0.34.3"]`},
		{expr: `npm_versions("sharp", ">=0.34.0-0", { prerelease = true })`, want: `["0.34.0-rc.0","0.34.1","0.34.3"]`},
		{expr: `npm_versions("sharp", "^0.34", { deprecated = true })`, want: `["0.34.1","0.34.2","0.34.3"]`},
		{expr: `npm_versions("sharp", "^0.34", { min_age = "3d" })`, want: `["0.34.1"]`},
		{expr: `npm_versions("sharp", "^0.34", { min_age = "48h" })`, want: `["0.34.1"]`},
		{expr: `npm_versions("sharp", "^0.34", { min_age = "1d12h" })`, want: `["0.34.1","0.34.3"]`},
		{expr: `npm_versions("sharp", "^0.34", { last = null, per = null })`, want: `["0.34.1","0.34.3"]`},
		{expr: `npm_versions("sharp", "^0.34", tomap({ per = "minor" }))`, want: `["0.34.3"]`},

		{expr: `npm_versions("sharp", "*", { newest = 1 })`, err: []string{`Invalid value for "options" parameter: unknown option "newest": the options are per, last, prerelease, deprecated and min_age.`, "test.hcl:2:34"}},
		{expr: `npm_versions("sharp", "*", { per = "minr" })`, err: []string{`option per: must be "major", "minor" or "patch", not "minr".`}},
		{expr: `npm_versions("sharp", "*", { last = 0 })`, err: []string{"option last: must be a whole number of 1 or more, not 0."}},
		{expr: `npm_versions("sharp", "*", { last = 1.5 })`, err: []string{"option last: must be a whole number of 1 or more, not 1.5."}},
		{expr: `npm_versions("sharp", "*", { last = "x" })`, err: []string{"option last: must be a number, not string."}},
		{expr: `npm_versions("sharp", "*", { prerelease = "yes" })`, err: []string{"option prerelease: must be a bool, not string."}},
		{expr: `npm_versions("sharp", "*", { deprecated = [] })`, err: []string{"option deprecated: must be a bool, not tuple."}},
		{expr: `npm_versions("sharp", "*", { min_age = "3 days" })`, err: []string{`option min_age: must be a duration of 0 or more like "72h", "3d" or "1d12h", not "3 days".`}},
		{expr: `npm_versions("sharp", "*", "minor")`, err: []string{`options must be an object like { per = "minor", last = 3 }, not string.`, "test.hcl:2:35"}},
		{expr: `npm_versions("sharp", "*", {}, {})`, err: []string{"at most 3 arguments", "test.hcl:2:38"}},
		{expr: `npm_versions("sharp")`, err: []string{`Not enough function arguments`}},
		{expr: `npm_versions("sharp", ">=1.2.3 <=2.0.0.0")`, err: []string{`Invalid value for "range" parameter: invalid range ">=1.2.3 <=2.0.0.0": at byte 15: comparator "<=2.0.0.0": unexpected "." after the version.`, "test.hcl:2:30"}},
		{expr: `npm_versions("Sharp Lib", "*")`, err: []string{`Invalid value for "package" parameter: not an npm package name: "Sharp Lib" has ' ', which npm does not allow.`, "test.hcl:2:21"}},
		{expr: `npm_versions("shrap", "*")`, err: []string{`Invalid value for "package" parameter: no package "shrap" on https://registry.test/.`, "test.hcl:2:21"}},
		{expr: `npm_versions("sharp", ">=9")`, err: []string{`Invalid value for "range" parameter: no version of "sharp" on https://registry.test/ satisfies ">=9"; the newest available: 0.34.3, 0.34.1, 0.33.5, 0.33.0, 0.32.6.`, "test.hcl:2:30"}},
		{expr: `npm_versions("down", "*")`, err: []string{"Error in function call", `Call to function "npm_versions" failed: cannot fetch package "down" from https://registry.test/down (3 attempts): connection refused.`, "test.hcl:2:7"}},
		{expr: `npm_versions("unpinned", "*")`, err: []string{`Call to function "npm_versions" failed: the call is not in matrix.lock.json and --locked forbids resolving it.`, "test.hcl:2:7"}},
	}, &fakeResolver{})
}

func TestNpmPackage(t *testing.T) {
	runFunctionCases(t, []functionCase{
		{expr: `npm_package("sharp", "0.33.5")`, want: `{"cpu":["x64","arm64"],"deprecated":"","engines":{"node":"^18.17.0 || ^20.3.0 || \u003e=21.0.0"},"integrity":"sha512-0.33.5","libc":["glibc"],"os":["linux"],"published":"2024-08-16T10:00:00Z","version":"0.33.5"}`},
		{expr: `npm_package("sharp", "v0.32.6").published`, want: `"2023-09-18T10:00:00Z"`},
		{expr: `npm_package("sharp", "0.34.2").deprecated`, want: `"broken install script"`},
		{expr: `npm_package("sharp", "0.34.3").engines.node`, want: `"^20.3.0 || \u003e=21.0.0"`},
		{expr: `npm_package("left-pad", "1.3.0")`, want: `{"cpu":[],"deprecated":"","engines":{},"integrity":"sha512-1.3.0","libc":[],"os":[],"published":"","version":"1.3.0"}`},
		{expr: `lookup(npm_package("left-pad", "1.3.0").engines, "node", "*")`, want: `"*"`},
		{expr: `npm_package("left-pad", "1.3.0").engines.node`, err: []string{"Missing map element", `lookup(npm_package(...).engines, "node", "*")`}},
		{expr: `npm_package("sharp", "0.33")`, err: []string{`Invalid value for "version" parameter: invalid version "0.33": at byte 4: expected "." and the patch version, found the end.`, "test.hcl:2:29"}},
		{expr: `npm_package("sharp", "0.1.0")`, err: []string{`Invalid value for "version" parameter: package "sharp" has no version "0.1.0"; the newest: 0.34.3, 0.34.2, 0.34.1, 0.33.5, 0.33.0.`, "test.hcl:2:29"}},
		{expr: `npm_package("shrap", "1.0.0")`, err: []string{`no package "shrap"`, "test.hcl:2:20"}},
		{expr: `npm_package("down", "1.0.0")`, err: []string{`Call to function "npm_package" failed: cannot fetch package "down"`}},
	}, &fakeResolver{})
}

func TestRegistryFunctionsWithoutResolver(t *testing.T) {
	runFunctionCases(t, []functionCase{
		{expr: `npm_versions("sharp", "*")`, err: []string{`Call to function "npm_versions" failed: this command does not resolve registry functions (no resolver).`, "test.hcl:2:7"}},
		{expr: `npm_package("sharp", "1.0.0")`, err: []string{`Call to function "npm_package" failed: this command does not resolve registry functions`}},
		// What can be checked without the registry still is.
		{expr: `npm_versions("sharp", "^^1")`, err: []string{`Invalid value for "range" parameter`}},
	}, nil)
}

func TestSemverFunctions(t *testing.T) {
	runFunctionCases(t, []functionCase{
		{expr: `semver_satisfies("1.2.3", "^1.0.0")`, want: `true`},
		{expr: `semver_satisfies("v2.0.0", "1.x || >=2.5")`, want: `false`},
		{expr: `semver_satisfies("1.2.4-beta", "^1.0.0")`, want: `false`},
		{expr: `semver_satisfies("1.2.3-beta.2", ">=1.2.3-beta.1 <2")`, want: `true`},
		{expr: `semver_satisfies("1.2.3", "")`, want: `true`},
		{expr: `semver_satisfies("1.2", "^1")`, err: []string{`Invalid value for "version" parameter: invalid version "1.2": at byte 3:`, "test.hcl:2:25"}},
		{expr: `semver_satisfies("1.2.3", ">=1.2.3 <=2.0.0.0")`, err: []string{`Invalid value for "range" parameter: invalid range ">=1.2.3 <=2.0.0.0": at byte 15:`, "test.hcl:2:34"}},
		{expr: `semver_intersects(">=20.9.0", "22.x")`, want: `true`},
		{expr: `semver_intersects("^18.17.0 || ^20.3.0", ">=22")`, want: `false`},
		{expr: `semver_intersects("22.x", "not a range")`, err: []string{`Invalid value for "range_b" parameter: invalid range "not a range"`}},
		{expr: `semver_sort(["1.0.0", "v0.9.1", "1.0.0-rc.10", "1.0.0-rc.9", "1.0.0-beta"])`, want: `["v0.9.1","1.0.0-beta","1.0.0-rc.9","1.0.0-rc.10","1.0.0"]`},
		{expr: `semver_sort(["v1.0.0", "1.0.0+b", "1.0.0", "1.0.0+a", " 1.0.0"])`, want: `["v1.0.0","1.0.0"," 1.0.0","1.0.0+a","1.0.0+b"]`},
		{expr: `semver_sort(toset(["2.0.0", "10.0.0"]))`, want: `["2.0.0","10.0.0"]`},
		{expr: `semver_sort([])`, want: `[]`},
		{expr: `semver_sort(["1.0.0", "1.0"])`, err: []string{`Invalid value for "versions" parameter: element 1: invalid version "1.0"`}},
		{expr: `semver_sort(["1.0.0", null])`, err: []string{`element 1 is null`}},
		{expr: `semver_major("v1.2.3-rc.1")`, want: `1`},
		{expr: `semver_minor("1.2.3-rc.1")`, want: `2`},
		{expr: `semver_patch("1.2.3+build.5")`, want: `3`},
		{expr: `semver_major("9007199254740991.0.0")`, want: `9007199254740991`},
		{expr: `semver_patch("1.2.x")`, err: []string{`Invalid value for "version" parameter: invalid version "1.2.x"`}},
	}, nil)
}

func TestVersionOptions(t *testing.T) {
	obj := func(m map[string]cty.Value) cty.Value { return cty.ObjectVal(m) }
	tests := []struct {
		in   cty.Value
		want registry.Options
	}{
		{cty.NullVal(cty.DynamicPseudoType), registry.Options{}},
		{cty.EmptyObjectVal, registry.Options{}},
		{obj(map[string]cty.Value{"per": cty.StringVal("patch"), "last": cty.NumberIntVal(3), "prerelease": cty.True, "deprecated": cty.StringVal("true"), "min_age": cty.StringVal("2d")}),
			registry.Options{Per: "patch", Last: 3, Prerelease: true, Deprecated: true, MinAge: 48 * time.Hour}},
		{cty.MapVal(map[string]cty.Value{"min_age": cty.StringVal("90m")}), registry.Options{MinAge: 90 * time.Minute}},
	}
	for _, tt := range tests {
		got, err := versionOptions(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("%#v: %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseAge(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration // -1: an error
	}{
		{"72h", 72 * time.Hour},
		{"0", 0},
		{"0d", 0},
		{"3d", 72 * time.Hour},
		{"1d12h", 36 * time.Hour},
		{"1d30m", 24*time.Hour + 30*time.Minute},
		{"36500d", 36500 * 24 * time.Hour},
		{"36501d", -1},
		{"-1h", -1},
		{"-1d", -1},
		{"+1d", -1},
		{"1d-1h", -1},
		{"1d+1h", -1},
		{"1.5d", -1},
		{"d", -1},
		{"3dd", -1},
		{"3 days", -1},
		{"", -1},
		{"1d2562047h", -1}, // overflows
	}
	for _, tt := range tests {
		got, err := parseAge(tt.in)
		if tt.want < 0 && err == nil || tt.want >= 0 && (err != nil || got != tt.want) {
			t.Errorf("parseAge(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}
