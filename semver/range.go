package semver

import (
	"strings"
)

// A Range is a set of versions written as node-semver writes one, parsed as
// new Range(s) does without loose:
//
//   - "||" separates alternatives; a version is in the range if it is in one;
//   - an alternative is comparators separated by white space, all of which must
//     hold: an operator <, <=, >, >= or = (or none, meaning =) and a version;
//   - "1.2.3 - 2.3.4" (a hyphen range) is >=1.2.3 <=2.3.4; a partial version on the
//     left is padded with zeros, one on the right covers all it names:
//     "1.2 - 2.3" is >=1.2.0 <2.4.0-0;
//   - x-ranges: "*", "" and "x" are any version, "1" or "1.x" or "1.*" is
//     >=1.0.0 <2.0.0-0, "1.2" or "1.2.x" is >=1.2.0 <1.3.0-0; with an operator,
//     ">1.2" is >=1.3.0, "<=1.2" is <1.3.0-0, ">=1.2" is >=1.2.0, "<1.2" is <1.2.0-0;
//   - "~1.2.3" (or "~>1.2.3") allows patch changes, >=1.2.3 <1.3.0-0; "~1" is
//     >=1.0.0 <2.0.0-0;
//   - "^1.2.3" allows changes that keep the left-most non-zero part: >=1.2.3
//     <2.0.0-0, "^0.2.3" is >=0.2.3 <0.3.0-0, "^0.0.3" is >=0.0.3 <0.0.4-0;
//   - build metadata ("+...") is ignored; a version may have a prerelease.
//
// The zero Range contains no version.
type Range struct {
	input string
	// sets are node-semver's range.set, parsed without and with includePrerelease;
	// errs say why node-semver rejects the range either way, if it does.
	sets [2][][]comparator
	errs [2]error
}

// A comparator is node-semver's Comparator.
type comparator struct {
	op    string // "", "<", "<=", ">" or ">="; "=" is stored as ""
	any   bool   // the empty comparator, which every version satisfies
	v     Version
	value string // op and v.String(), or "" for any
}

// ParseRange parses s as new Range(s, {includePrerelease}) does (see Range),
// both without and with includePrerelease. The option changes how partial
// versions are filled in ("1.x" starts at 1.0.0 or at 1.0.0-0), and so, rarely,
// whether s is valid: "1.2.3 - =2.0.0" is valid only with it, and
// "1 - 1.2.9007199254740991" only without. ParseRange fails when s is valid
// neither way, with a *SyntaxError that names the comparator node-semver rejects
// and says where it is in s; Err tells whether s is valid one way.
func ParseRange(s string) (Range, error) {
	r := Range{input: s}
	for i, includePrerelease := range []bool{false, true} {
		r.sets[i], r.errs[i] = parseRange(s, includePrerelease)
	}
	if r.errs[0] != nil && r.errs[1] != nil {
		return Range{}, r.errs[0]
	}
	return r, nil
}

// Err is nil when node-semver accepts the range with the includePrerelease
// option given, and otherwise the *SyntaxError it fails with: then new Range
// throws, semver.validRange is null and semver.satisfies is false, as Test is.
func (r Range) Err(includePrerelease bool) error {
	return r.errs[index(includePrerelease)]
}

// Test reports whether v is in r, as semver.satisfies(v, r, {includePrerelease})
// does. Without includePrerelease, a version with a prerelease is in an
// alternative only if some comparator of that alternative has a prerelease on
// the same major.minor.patch: ">=1.2.3-beta.1 <2" contains 1.2.3-beta.2 but not
// 1.2.4-alpha, although 1.2.4-alpha is between the bounds.
func (r Range) Test(v Version, includePrerelease bool) bool {
	return testSets(r.sets[index(includePrerelease)], v, includePrerelease)
}

// Intersects reports whether some version could satisfy both a and b, as
// semver.intersects(a, b) answers it: for some pair of alternatives, both
// satisfiable, every comparator of one intersects every comparator of the
// other. semver.intersects throws for a range that is not valid without
// includePrerelease (see Err); Intersects is false then.
func Intersects(a, b Range) bool {
	return intersects(a, b, false)
}

// String is the range as node-semver normalizes it (new Range(s).range):
// alternatives joined by "||", each its comparators joined by a space, with
// x-ranges, tildes, carets and hyphens written out; "" for any version. For a
// range valid only with includePrerelease, it is the range as given.
func (r Range) String() string {
	if r.errs[0] != nil {
		return r.input
	}
	return formatSets(r.sets[0])
}

func formatSets(sets [][]comparator) string {
	var b strings.Builder
	for i, set := range sets {
		if i > 0 {
			b.WriteString("||")
		}
		for k, c := range set {
			if k > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(c.value)
		}
	}
	return b.String()
}

func index(includePrerelease bool) int {
	if includePrerelease {
		return 1
	}
	return 0
}

// parseRange is the Range constructor: the comparator sets of s.
func parseRange(s string, includePrerelease bool) ([][]comparator, error) {
	raw := collapseSpace(jsTrim(s))
	var set [][]comparator
	for _, alt := range strings.Split(raw, "||") {
		comps, err := parseAlternative(jsTrim(alt), includePrerelease)
		if err != nil {
			return nil, err.in(s)
		}
		if len(comps) > 0 {
			set = append(set, comps)
		}
	}
	if len(set) < 2 {
		// One alternative at least: split never returns none, and an alternative
		// has one comparator at least.
		return set, nil
	}
	// Drop alternatives that match nothing, unless all do; if one matches
	// anything, it is the range.
	first := set[0]
	kept := set[:0:0]
	for _, c := range set {
		if !c[0].isNullSet() {
			kept = append(kept, c)
		}
	}
	switch {
	case len(kept) == 0:
		return [][]comparator{first}, nil
	case len(kept) > 1:
		for _, c := range kept {
			if len(c) == 1 && c[0].any {
				return [][]comparator{c}, nil
			}
		}
	}
	return kept, nil
}

func (c comparator) isNullSet() bool { return c.value == "<0.0.0-0" }

// parseAlternative is Range.parseRange: one alternative's comparators, after
// rewriting hyphen ranges, x-ranges, tildes and carets into plain comparators.
func parseAlternative(r string, includePrerelease bool) ([]comparator, *comparatorError) {
	r = jsReplaceAll(reBuildStrip, r, nothing)
	r = jsReplaceFirst(reHyphenRange, r, func(m submatches) string { return hyphenReplace(m, includePrerelease) })
	r = jsReplaceAll(reComparatorTrim, r, func(m submatches) string { return m[1] + m[2] + m[3] })
	r = jsReplaceAll(reTildeTrim, r, func(m submatches) string { return m[1] + "~" })
	r = jsReplaceAll(reCaretTrim, r, func(m submatches) string { return m[1] + "^" })

	parts := strings.Split(r, " ")
	for i, p := range parts {
		parts[i] = desugar(p, includePrerelease)
	}
	list := jsSplitSpace(strings.Join(parts, " "))
	comps := make([]comparator, len(list))
	for i, p := range list {
		p = jsTrim(p)
		if includePrerelease {
			p = jsReplaceFirst(reGTE0Pre, p, nothing)
		} else {
			p = jsReplaceFirst(reGTE0, p, nothing)
		}
		c, err := parseComparator(p)
		if err != nil {
			return nil, err
		}
		comps[i] = c
	}

	var unique []comparator
	at := map[string]int{}
	for _, c := range comps {
		if c.isNullSet() {
			return []comparator{c}, nil
		}
		if i, ok := at[c.value]; ok {
			unique[i] = c // a JavaScript Map keeps the first key's place
			continue
		}
		at[c.value] = len(unique)
		unique = append(unique, c)
	}
	if i, ok := at[""]; ok && len(unique) > 1 {
		unique = append(unique[:i], unique[i+1:]...)
	}
	return unique, nil
}

func nothing(submatches) string { return "" }

// parseComparator is the Comparator constructor.
func parseComparator(s string) (comparator, *comparatorError) {
	s = strings.Join(jsSplitSpace(jsTrim(s)), " ")
	m := reComparator.FindStringSubmatch(s)
	if m == nil {
		return comparator{}, comparatorSyntax(s)
	}
	if m[2] == "" {
		return comparator{any: true}, nil
	}
	op := m[1]
	if op == "=" {
		op = ""
	}
	v, err := Parse(m[2])
	if err != nil {
		e := err.(*SyntaxError)
		if e.Offset >= 0 {
			e.Offset += len(m[1])
		}
		return comparator{}, &comparatorError{comp: s, offset: e.Offset, reason: e.Reason}
	}
	return comparator{op: op, v: v, value: op + v.String()}, nil
}
