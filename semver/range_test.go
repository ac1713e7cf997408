package semver

import (
	"errors"
	"testing"
)

func TestRangeString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"*", ""},
		{"x || 1.2.3", ""},
		{"1.2.3", "1.2.3"},
		{"=1.2.3", "1.2.3"},
		{">= 1.2.3   <2", ">=1.2.3 <2.0.0-0"},
		{"1.2.3 - 2.3.4", ">=1.2.3 <=2.3.4"},
		{"1.2 - 2.3", ">=1.2.0 <2.4.0-0"},
		{"1.x", ">=1.0.0 <2.0.0-0"},
		{"1.2.*", ">=1.2.0 <1.3.0-0"},
		{">1.2", ">=1.3.0"},
		{"<=1.2", "<1.3.0-0"},
		{"<1.2", "<1.2.0-0"},
		{"<x", "<0.0.0-0"},
		{"~1.2.3", ">=1.2.3 <1.3.0-0"},
		{"~>1.2", ">=1.2.0 <1.3.0-0"},
		{"~1", ">=1.0.0 <2.0.0-0"},
		{"^1.2.3", ">=1.2.3 <2.0.0-0"},
		{"^0.2.3", ">=0.2.3 <0.3.0-0"},
		{"^0.0.3", ">=0.0.3 <0.0.4-0"},
		{"^0.0", "<0.1.0-0"}, // >=0.0.0 is dropped as any version
		{"^1.2.3-beta.1+build", ">=1.2.3-beta.1 <2.0.0-0"},
		{">=0.0.0", ""},
		{"1.2.3 1.2.3 >=1.2.3", "1.2.3 >=1.2.3"},
		{"<0.0.0-0 || 1", ">=1.0.0 <2.0.0-0"},
		{"1.2.3 - =2.0.0", "1.2.3 - =2.0.0"}, // valid only with includePrerelease: as given
	} {
		r, err := ParseRange(tc.in)
		if err != nil || r.String() != tc.want {
			t.Errorf("ParseRange(%q).String() = %q, %v; want %q", tc.in, r.String(), err, tc.want)
		}
	}
}

func TestRangeTest(t *testing.T) {
	for _, tc := range []struct {
		r, v              string
		includePrerelease bool
		want              bool
	}{
		{"^1.2.3", "1.9.9", false, true},
		{"^1.2.3", "2.0.0", false, false},
		{"^1.2.3", "2.0.0-0", true, false},
		{"^0.2.3", "0.2.9", false, true},
		{"^0.2.3", "0.3.0", false, false},
		{"^0.0.3", "0.0.4", false, false},
		{"~1.2.3", "1.2.9", false, true},
		{"~1.2.3", "1.3.0", false, false},
		{"1.x", "1.0.0-beta", false, false},
		{"1.x", "1.0.0-beta", true, true},
		{">=1.2.3-beta.1 <2", "1.2.3-beta.2", false, true},
		{">=1.2.3-beta.1 <2", "1.2.4-alpha", false, false},
		{">=1.2.3-beta.1 <2", "1.2.4-alpha", true, true},
		{"1.2.3 - 2.3.4", "2.3.4", false, true},
		{"1.2.3 - 2.3.4", "2.3.4-rc.1", true, true},
		{"1.2.3 - 2.3.4", "2.3.5-0", true, false},
		{"1.2.3 - =2.0.0", "1.5.0", false, false}, // invalid this way: satisfies is false
		{"1.2.3 - =2.0.0", "1.5.0", true, true},
		{"*", "1.0.0-0", false, false},
		{"*", "1.0.0-0", true, true},
		{"<1.0.0 || >=2.0.0", "1.5.0", false, false},
		{"<1.0.0 || >=2.0.0", "2.0.0", false, true},
	} {
		r, err := ParseRange(tc.r)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Test(must(Parse(tc.v)), tc.includePrerelease); got != tc.want {
			t.Errorf("ParseRange(%q).Test(%s, %v) = %v, want %v", tc.r, tc.v, tc.includePrerelease, got, tc.want)
		}
	}
	if (Range{}).Test(must(Parse("1.0.0")), false) {
		t.Error("the zero Range contains 1.0.0")
	}
}

func TestIntersects(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"^1.2.3", "~1.5", true},
		{"^1.2.3", "^2", false},
		{"1.x", "<=1.0.0", true},
		{">1.0.0 <1.0.0", "*", false},
		{"<1.0.0 >2.0.0", ">0.0.0", false},
		{"1.2.3 - =2.0.0", "*", false}, // node-semver throws
	} {
		a, b := must(ParseRange(tc.a)), must(ParseRange(tc.b))
		if got := Intersects(a, b); got != tc.want {
			t.Errorf("Intersects(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestRangeErrors pins the messages: the comparator node-semver rejects, where
// it is in the range, and why.
func TestRangeErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{">=1.2.3 <x.y", `invalid range ">=1.2.3 <x.y": at byte 9: comparator "<x.y": expected the major version number, found "x"`},
		{">=1.2.3 <=2.0.0.0", `invalid range ">=1.2.3 <=2.0.0.0": at byte 15: comparator "<=2.0.0.0": unexpected "." after the version`},
		{"^1.2.3.4", `invalid range "^1.2.3.4": at byte 6: comparator "^1.2.3.4": unexpected "." after the version`},
		{"1.2.3 || >>2", `invalid range "1.2.3 || >>2": at byte 9: comparator ">>2": ">>" is not an operator (<, <=, >, >=, =, ~, ~>, ^)`},
		{"^1.2.3-01", `invalid range "^1.2.3-01": at byte 7: comparator "^1.2.3-01": numeric prerelease identifier 01 has a leading zero`},
		{"1.2.3 - 2.3.4.5", `invalid range "1.2.3 - 2.3.4.5": at byte 6: comparator "-": a hyphen range needs a version or partial version on each side of " - "`},
		{"^1e+25", `invalid range "^1e+25": it rewrites to the comparator "^1e": expected "." and the minor version, found "e"`},
		{"^9007199254740991", `invalid range "^9007199254740991": it rewrites to the comparator "<9007199254740992.0.0-0": major version 9007199254740992 is greater than 9007199254740991`},
	} {
		_, err := ParseRange(tc.in)
		var se *SyntaxError
		if !errors.As(err, &se) || err.Error() != tc.want {
			t.Errorf("ParseRange(%q) error:\n got %v\nwant %s", tc.in, err, tc.want)
		}
	}
	// Valid one way only: Err says which.
	r := must(ParseRange("1 - 1.2.9007199254740991"))
	if r.Err(false) != nil || r.Err(true) == nil {
		t.Errorf(`ParseRange("1 - 1.2.9007199254740991").Err(false), Err(true) = %v, %v; want nil and an error`, r.Err(false), r.Err(true))
	}
}
