package semver

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Version
	}{
		{"1.2.3", Version{Major: 1, Minor: 2, Patch: 3}},
		{"v1.2.3", Version{Major: 1, Minor: 2, Patch: 3}},
		{" \t1.2.3\u00a0\n", Version{Major: 1, Minor: 2, Patch: 3}},
		{"0.0.0-0", Version{Prerelease: []string{"0"}}},
		{"1.2.3-alpha.1+build.01", Version{Major: 1, Minor: 2, Patch: 3, Prerelease: []string{"alpha", "1"}, Build: []string{"build", "01"}}},
		{"1.2.3-alpha-.-beta", Version{Major: 1, Minor: 2, Patch: 3, Prerelease: []string{"alpha-", "-beta"}}},
		{"1.2.3-0a", Version{Major: 1, Minor: 2, Patch: 3, Prerelease: []string{"0a"}}},
		{"9007199254740991.0.0", Version{Major: 9007199254740991}},
		{"1.2.3-9007199254740993", Version{Major: 1, Minor: 2, Patch: 3, Prerelease: []string{"9007199254740993"}}},
	} {
		got, err := Parse(tc.in)
		if err != nil || got.String() != tc.want.String() || !slices.Equal(got.Build, tc.want.Build) {
			t.Errorf("Parse(%q) = %#v, %v; want %#v", tc.in, got, err, tc.want)
		}
	}
}

// TestParseErrors pins the messages: what is wrong, and at which byte.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `invalid version "": empty`},
		{"1.2", `invalid version "1.2": at byte 3: expected "." and the patch version, found the end`},
		{"v1.2.3.4", `invalid version "v1.2.3.4": at byte 6: unexpected "." after the version`},
		{"=1.2.3", `invalid version "=1.2.3": at byte 0: expected the major version number, found "="`},
		{"  x1.2.3", `invalid version "  x1.2.3": at byte 2: expected the major version number, found "x"`},
		{"01.2.3", `invalid version "01.2.3": at byte 0: major version 01 has a leading zero`},
		{"1.2.03", `invalid version "1.2.03": at byte 4: patch version 03 has a leading zero`},
		{"1.2.3-01", `invalid version "1.2.3-01": at byte 6: numeric prerelease identifier 01 has a leading zero`},
		{"1.2.3-a..b", `invalid version "1.2.3-a..b": at byte 8: expected a prerelease identifier ([0-9A-Za-z-]), found "."`},
		{"1.2.3+", `invalid version "1.2.3+": at byte 6: expected a build identifier ([0-9A-Za-z-]), found the end`},
		{"1.2.3-alpha_1", `invalid version "1.2.3-alpha_1": at byte 11: unexpected "_" after the version`},
		{"9007199254740992.0.0", `invalid version "9007199254740992.0.0": major version 9007199254740992 is greater than 9007199254740991`},
		{"1." + strings.Repeat("1", 255), `invalid version "1.` + strings.Repeat("1", 255) + `": longer than 256 characters`},
	} {
		_, err := Parse(tc.in)
		var se *SyntaxError
		if !errors.As(err, &se) || err.Error() != tc.want {
			t.Errorf("Parse(%q) error:\n got %v\nwant %s", tc.in, err, tc.want)
		}
	}
}

func TestCompare(t *testing.T) {
	ascending := []string{
		"0.0.0-0", "0.0.0-alpha", "0.0.0", "1.0.0-0", "1.0.0-1", "1.0.0-2", "1.0.0-10", "1.0.0-10.a", "1.0.0-A",
		"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
		"1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "1.10.0", "2.0.0", "9007199254740991.0.0",
	}
	for i, a := range ascending {
		for j, b := range ascending {
			va, vb := must(Parse(a)), must(Parse(b))
			if got, want := Compare(va, vb), cmpInt(i, j); got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", a, b, got, want)
			}
		}
	}
	// Build metadata: ignored by Compare, second key of compareBuild.
	a, b := must(Parse("1.0.0+2")), must(Parse("1.0.0+10"))
	if Compare(a, b) != 0 || compareBuild(a, b) != -1 {
		t.Errorf("1.0.0+2 vs 1.0.0+10: Compare %d, compareBuild %d; want 0, -1", Compare(a, b), compareBuild(a, b))
	}
	// node-semver quirks kept: the first differing identifiers decide even when
	// they compare equal as numbers.
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"1.0.0+01.b", "1.0.0+1.a", 0},
		{"1.0.0-9007199254740993.b", "1.0.0-9007199254740992.a", 0},
	} {
		if got := compareBuild(must(Parse(tc.a)), must(Parse(tc.b))); got != tc.want {
			t.Errorf("compareBuild(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestSort(t *testing.T) {
	in := []string{"1.0.0", "1.0.0+b", "0.9.0", "1.0.0-rc.1", "1.0.0+a", "v1.0.0", "2.0.0-0"}
	want := []string{"0.9.0", "1.0.0-rc.1", "1.0.0", "1.0.0", "1.0.0+a", "1.0.0+b", "2.0.0-0"}
	vs := make([]Version, len(in))
	for i, s := range in {
		vs[i] = must(Parse(s))
	}
	Sort(vs)
	var got []string
	for _, v := range vs {
		s := v.String()
		if len(v.Build) > 0 {
			s += "+" + strings.Join(v.Build, ".")
		}
		got = append(got, s)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Sort(%q) = %q, want %q", in, got, want)
	}
}

func TestTimSortIsStable(t *testing.T) {
	type item struct{ key, at int }
	for n := range 300 {
		items := make([]item, n)
		for i := range items {
			items[i] = item{(i * 7919) % 13, i}
		}
		timSort(items, func(a, b item) int { return cmpInt(a.key, b.key) })
		for i := 1; i < n; i++ {
			if a, b := items[i-1], items[i]; a.key > b.key || a.key == b.key && a.at > b.at {
				t.Fatalf("n=%d: %v before %v", n, a, b)
			}
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
