package semver

import (
	"errors"
	"testing"
)

// FuzzParseRange: ParseRange never panics; an error says where in the input;
// a range's String parses again to a range that contains the same versions
// (without includePrerelease, the way String formats it); and the value of
// every comparator parses as a range, which Comparator.intersects relies on.
func FuzzParseRange(f *testing.F) {
	for _, s := range append(grid().Ranges[:400], "1.2.3 - =2.0.0", "1 - 1.2.9007199254740991", "^1.2.3-beta.1 || ~0.0.1 <0.0.1-rc") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRange(s)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Offset < -1 || se.Offset > len(s) {
				t.Fatalf("ParseRange(%q): %v: not a *SyntaxError with an offset in the input", s, err)
			}
			return
		}
		again, err := ParseRange(r.String())
		if err != nil {
			t.Fatalf("ParseRange(%q).String() = %q, which does not parse: %v", s, r.String(), err)
		}
		for _, v := range probes(r, again) {
			if r.Test(v, false) != again.Test(v, false) {
				t.Fatalf("%q contains %s: %v; its String %q: %v", s, v, r.Test(v, false), r.String(), again.Test(v, false))
			}
		}
		for i, includePrerelease := range []bool{false, true} {
			for _, set := range r.sets[i] {
				for _, c := range set {
					if _, err := parseRange(c.value, includePrerelease); err != nil {
						t.Fatalf("%q has the comparator %q, which does not parse as a range: %v", s, c.value, err)
					}
				}
			}
		}
	})
}

// probes are versions on and around every bound of the ranges.
func probes(ranges ...Range) []Version {
	vs := []Version{{}, {Prerelease: []string{"0"}}, {Major: 1}, {Major: maxSafeInteger, Minor: maxSafeInteger, Patch: maxSafeInteger}}
	for _, r := range ranges {
		for _, sets := range r.sets {
			for _, set := range sets {
				for _, c := range set {
					v := c.v
					release := Version{Major: v.Major, Minor: v.Minor, Patch: v.Patch}
					vs = append(vs, v, release, withPre(release, "0"), withPre(release, "zzz"))
					near := []Version{{Major: v.Major, Minor: v.Minor, Patch: v.Patch + 1}, {Major: v.Major, Minor: v.Minor + 1}, {Major: v.Major + 1}}
					if v.Patch > 0 {
						near = append(near, Version{Major: v.Major, Minor: v.Minor, Patch: v.Patch - 1})
					}
					if v.Minor > 0 {
						near = append(near, Version{Major: v.Major, Minor: v.Minor - 1, Patch: v.Patch})
					}
					if v.Major > 0 {
						near = append(near, Version{Major: v.Major - 1, Minor: v.Minor, Patch: v.Patch})
					}
					for _, w := range near {
						vs = append(vs, w, withPre(w, "0"))
					}
				}
			}
		}
	}
	return vs
}

func withPre(v Version, pre ...string) Version {
	v.Prerelease = pre
	return v
}

// FuzzParse: Parse never panics; a version's String parses to the same
// version; an error's offset is in the input, and the diagnosis finds what
// the regular expression rejected.
func FuzzParse(f *testing.F) {
	for _, s := range grid().Versions {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Offset < -1 || se.Offset > len(s) || se.Reason == "not a version" {
				t.Fatalf("Parse(%q): %v", s, err)
			}
			return
		}
		again, err := Parse(v.String())
		if err != nil || again.String() != v.String() || Compare(again, v) != 0 {
			t.Fatalf("Parse(%q).String() = %q parses to %v, %v", s, v.String(), again, err)
		}
		if off, reason := diagnoseVersion(jsTrim(s)); off != -1 || reason != "not a version" {
			t.Fatalf("Parse(%q) succeeds, but the diagnosis says: at %d: %s", s, off, reason)
		}
	})
}
