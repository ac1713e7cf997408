// Package semver parses, compares and matches versions and ranges exactly as the
// npm semver package (node-semver, version 7, without the loose option) does, so
// that a range in a matrix file means what it means to npm.
//
// The port follows node-semver's code step by step, regular expressions and
// JavaScript number arithmetic included, and a differential test runs node-semver
// itself over its own fixtures and a generated grid to prove every answer equal.
package semver

import (
	"strconv"
	"strings"
)

// A Version is a semantic version as node-semver's SemVer class holds it.
//
// Prerelease and Build hold the dot-separated identifiers after "-" and "+".
// An identifier of digits only is numeric: numeric identifiers compare as numbers
// (as JavaScript numbers: above 2^53 they lose precision, as in node-semver) and
// before alphanumeric ones, which compare as ASCII strings.
type Version struct {
	Major, Minor, Patch uint64
	Prerelease          []string
	Build               []string
}

// Parse parses a version as semver.parse(s) and new SemVer(s) do without loose:
//
//   - s may be at most 256 characters (UTF-16 code units, white space included);
//   - white space around it is ignored, and so is one leading "v" (not "=");
//   - major, minor and patch are decimal numbers without leading zeros, at most
//     9007199254740991 (Number.MAX_SAFE_INTEGER);
//   - an optional "-" and prerelease identifiers follow: [0-9A-Za-z-]+ each,
//     separated by ".", a numeric one without leading zeros;
//   - then an optional "+" and build identifiers: [0-9A-Za-z-]+ each, leading
//     zeros allowed.
//
// The error is a *SyntaxError that says where s stops being a version.
func Parse(s string) (Version, error) {
	if utf16Len(s) > maxLength {
		return Version{}, &SyntaxError{What: "version", Input: s, Offset: -1,
			Reason: "longer than " + strconv.Itoa(maxLength) + " characters"}
	}
	t := jsTrim(s)
	m := reFull.FindStringSubmatch(t)
	if m == nil {
		return Version{}, versionError(s)
	}
	var v Version
	for i, p := range []*uint64{&v.Major, &v.Minor, &v.Patch} {
		n, err := strconv.ParseUint(m[1+i], 10, 64)
		if err != nil || n > maxSafeInteger {
			return Version{}, &SyntaxError{What: "version", Input: s, Offset: -1,
				Reason: partNames[i] + " version " + m[1+i] + " is greater than " + strconv.Itoa(maxSafeInteger)}
		}
		*p = n
	}
	if m[4] != "" {
		v.Prerelease = strings.Split(m[4], ".")
	}
	if m[5] != "" {
		v.Build = strings.Split(m[5], ".")
	}
	return v, nil
}

var partNames = [3]string{"major", "minor", "patch"}

// String is node-semver's version.version: major.minor.patch and the prerelease,
// without build metadata, as semver.valid returns it.
func (v Version) String() string {
	s := strconv.FormatUint(v.Major, 10) + "." + strconv.FormatUint(v.Minor, 10) + "." + strconv.FormatUint(v.Patch, 10)
	if len(v.Prerelease) > 0 {
		s += "-" + strings.Join(v.Prerelease, ".")
	}
	return s
}

// Compare returns -1, 0 or +1 as a has lower, equal or higher precedence than b,
// as semver.compare: major, minor and patch numerically; then a version without
// prerelease above one with; then prerelease identifiers in order, the first pair
// that differs as strings deciding (numerically when both are numeric), a longer
// list above its prefix. Build metadata is ignored.
func Compare(a, b Version) int {
	if c := compareMain(a, b); c != 0 {
		return c
	}
	switch {
	case len(a.Prerelease) > 0 && len(b.Prerelease) == 0:
		return -1
	case len(a.Prerelease) == 0 && len(b.Prerelease) > 0:
		return 1
	}
	return compareIdentifierLists(a.Prerelease, b.Prerelease)
}

// compareBuild is semver.compareBuild: Compare, then build metadata compared as
// prerelease identifiers are.
func compareBuild(a, b Version) int {
	if c := Compare(a, b); c != 0 {
		return c
	}
	return compareIdentifierLists(a.Build, b.Build)
}

func compareMain(a, b Version) int {
	for _, p := range [3][2]uint64{{a.Major, b.Major}, {a.Minor, b.Minor}, {a.Patch, b.Patch}} {
		switch {
		case p[0] < p[1]:
			return -1
		case p[0] > p[1]:
			return 1
		}
	}
	return 0
}

// compareIdentifierLists is SemVer.comparePre and compareBuild: the first pair of
// identifiers that differ decides, even when compareIdentifiers calls them equal
// ("01" and "1" in build metadata), and a longer list is above its prefix.
func compareIdentifierLists(a, b []string) int {
	for i := 0; ; i++ {
		switch {
		case i == len(a) && i == len(b):
			return 0
		case i == len(b):
			return 1
		case i == len(a):
			return -1
		case a[i] != b[i]:
			return compareIdentifiers(a[i], b[i])
		}
	}
}

// compareIdentifiers is node-semver's compareIdentifiers: numeric identifiers
// compare as JavaScript numbers (+a), below alphanumeric ones, which compare as
// strings.
func compareIdentifiers(a, b string) int {
	an, bn := isNumeric(a), isNumeric(b)
	switch {
	case an && bn:
		// Digits only, at most 256 of them: they parse, to finite numbers.
		x, _ := strconv.ParseFloat(a, 64)
		y, _ := strconv.ParseFloat(b, 64)
		switch {
		case x == y:
			return 0
		case x < y:
			return -1
		}
		return 1
	case an:
		return -1
	case bn:
		return 1
	}
	return strings.Compare(a, b)
}

func isNumeric(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
