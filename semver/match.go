package semver

// Matching: a version against comparator sets, and sets against each other.

import "strings"

// test is Comparator.test.
func (c comparator) test(v Version) bool {
	if c.any {
		return true
	}
	n := Compare(v, c.v)
	switch c.op {
	case "<":
		return n < 0
	case "<=":
		return n <= 0
	case ">":
		return n > 0
	case ">=":
		return n >= 0
	}
	return n == 0
}

// testSets is Range.test.
func testSets(sets [][]comparator, v Version, includePrerelease bool) bool {
	for _, set := range sets {
		if testSet(set, v, includePrerelease) {
			return true
		}
	}
	return false
}

func testSet(set []comparator, v Version, includePrerelease bool) bool {
	for _, c := range set {
		if !c.test(v) {
			return false
		}
	}
	if len(v.Prerelease) == 0 || includePrerelease {
		return true
	}
	for _, c := range set {
		if !c.any && len(c.v.Prerelease) > 0 && compareMain(c.v, v) == 0 {
			return true
		}
	}
	return false
}

// intersects is Range.intersects with the includePrerelease option.
func intersects(a, b Range, includePrerelease bool) bool {
	i := index(includePrerelease)
	for _, x := range a.sets[i] {
		if !satisfiable(x, includePrerelease) {
			continue
		}
		for _, y := range b.sets[i] {
			if satisfiable(y, includePrerelease) && allIntersect(x, y, includePrerelease) {
				return true
			}
		}
	}
	return false
}

func allIntersect(x, y []comparator, includePrerelease bool) bool {
	for _, c := range x {
		for _, d := range y {
			if !c.intersects(d, includePrerelease) {
				return false
			}
		}
	}
	return true
}

// satisfiable is isSatisfiable: the last comparator intersects all before it,
// then the one before the last all before it, and so on.
func satisfiable(set []comparator, includePrerelease bool) bool {
	for n := len(set) - 1; n > 0; n-- {
		for _, other := range set[:n] {
			if !set[n].intersects(other, includePrerelease) {
				return false
			}
		}
	}
	return true
}

// intersects is Comparator.intersects.
func (c comparator) intersects(d comparator, includePrerelease bool) bool {
	switch {
	case c.op == "":
		if c.any {
			return true
		}
		return rangeOfComparator(d, includePrerelease, c.v)
	case d.op == "":
		if d.any {
			return true
		}
		return rangeOfComparator(c, includePrerelease, d.v)
	case includePrerelease && (c.isNullSet() || d.isNullSet()):
		return false
	case !includePrerelease && (strings.HasPrefix(c.value, "<0.0.0") || strings.HasPrefix(d.value, "<0.0.0")):
		return false
	case strings.HasPrefix(c.op, ">") && strings.HasPrefix(d.op, ">"),
		strings.HasPrefix(c.op, "<") && strings.HasPrefix(d.op, "<"):
		return true
	case c.v.String() == d.v.String() && strings.Contains(c.op, "=") && strings.Contains(d.op, "="):
		return true
	}
	n := Compare(c.v, d.v)
	return n < 0 && strings.HasPrefix(c.op, ">") && strings.HasPrefix(d.op, "<") ||
		n > 0 && strings.HasPrefix(c.op, "<") && strings.HasPrefix(d.op, ">")
}

// rangeOfComparator is new Range(c.value, options).test(v). The value of a
// parsed comparator always parses as a range (FuzzParseRange checks it).
func rangeOfComparator(c comparator, includePrerelease bool, v Version) bool {
	sets, err := parseRange(c.value, includePrerelease)
	return err == nil && testSets(sets, v, includePrerelease)
}
