package semver

// Desugaring: tilde, caret, x-ranges and hyphen ranges rewritten into primitive
// comparators, step by step as node-semver's Range does.

import "strings"

// desugar is node-semver's parseComparator: carets, tildes, x-ranges and stars
// written out as plain comparators, separated by spaces.
func desugar(comp string, includePrerelease bool) string {
	comp = jsReplaceFirst(reBuild, comp, nothing)
	comp = mapSpaceSeparated(jsTrim(comp), func(c string) string {
		return jsReplaceFirst(reCaret, c, func(m submatches) string { return caret(m, includePrerelease) })
	})
	comp = mapSpaceSeparated(jsTrim(comp), func(c string) string {
		return jsReplaceFirst(reTilde, c, func(m submatches) string { return tilde(m, includePrerelease) })
	})
	comp = mapSpaceSeparated(comp, func(c string) string { return xRange(jsTrim(c), includePrerelease) })
	return jsReplaceFirst(reStar, jsTrim(comp), nothing)
}

// mapSpaceSeparated is s.split(/\s+/).map(fn).join(' ').
func mapSpaceSeparated(s string, fn func(string) string) string {
	parts := jsSplitSpace(s)
	for i, p := range parts {
		parts[i] = fn(p)
	}
	return strings.Join(parts, " ")
}

// isX is node-semver's isX: a missing, "x", "X" or "*" version part.
func isX(id string) bool {
	return id == "" || id == "x" || id == "X" || id == "*"
}

// zero is the prerelease a lower bound gets so that it admits prereleases.
func zero(includePrerelease bool) string {
	if includePrerelease {
		return "-0"
	}
	return ""
}

// tilde is replaceTilde on a match of reTilde: patch changes allowed, or minor
// ones where the minor version is not given.
func tilde(g submatches, includePrerelease bool) string {
	major, minor := g[1], g[2]
	switch {
	case isX(major):
		return ""
	case isX(minor):
		return lowerBound(g, includePrerelease) + " <" + jsIncrement(major) + ".0.0-0"
	}
	return lowerBound(g, includePrerelease) + " <" + major + "." + jsIncrement(minor) + ".0-0"
}

// caret is replaceCaret on a match of reCaret: changes allowed that keep the
// left-most non-zero part given.
func caret(g submatches, includePrerelease bool) string {
	major, minor, patch := g[1], g[2], g[3]
	switch {
	case isX(major):
		return ""
	case isX(minor), major != "0":
		return lowerBound(g, includePrerelease) + " <" + jsIncrement(major) + ".0.0-0"
	case isX(patch), minor != "0":
		return lowerBound(g, includePrerelease) + " <" + major + "." + jsIncrement(minor) + ".0-0"
	}
	return lowerBound(g, includePrerelease) + " <" + major + "." + minor + "." + jsIncrement(patch) + "-0"
}

// lowerBound is the lower bound of a tilde or caret range whose major version
// is given: missing parts are zeros, and then, with includePrerelease, so is
// the prerelease.
func lowerBound(g submatches, includePrerelease bool) string {
	major, minor, patch, pre := g[1], g[2], g[3], g[4]
	switch {
	case isX(minor):
		return ">=" + major + ".0.0" + zero(includePrerelease)
	case isX(patch):
		return ">=" + major + "." + minor + ".0" + zero(includePrerelease)
	case pre != "":
		return ">=" + major + "." + minor + "." + patch + "-" + pre
	}
	return ">=" + major + "." + minor + "." + patch
}

// xRange is replaceXRange: an operator and a partial version as plain comparators.
func xRange(comp string, includePrerelease bool) string {
	return jsReplaceFirst(reXRange, comp, func(g submatches) string {
		op, major, minor, patch := g[1], g[2], g[3], g[4]
		if isX(major) && !isX(minor) || isX(minor) && !isX(patch) {
			return comp // "x.1" or "1.x.1": left as it is, to be rejected
		}
		xMajor := isX(major)
		xMinor := xMajor || isX(minor)
		anyX := xMinor || isX(patch)
		if op == "=" && anyX {
			op = ""
		}
		pre := zero(includePrerelease)
		switch {
		case xMajor:
			if op == ">" || op == "<" {
				return "<0.0.0-0" // nothing is allowed
			}
			return "*"
		case op != "" && anyX:
			if xMinor {
				minor = "0"
			}
			patch = "0"
			if op == ">" || op == "<=" {
				// Past every version the partial one names: ">1.2" is >=1.3.0,
				// "<=1.2" is <1.3.0-0.
				if xMinor {
					major = jsIncrement(major)
				} else {
					minor = jsIncrement(minor)
				}
				if op == ">" {
					op = ">="
				} else {
					op = "<"
				}
			}
			if op == "<" {
				pre = "-0"
			}
			return op + major + "." + minor + "." + patch + pre
		case xMinor:
			return ">=" + major + ".0.0" + pre + " <" + jsIncrement(major) + ".0.0-0"
		case anyX:
			return ">=" + major + "." + minor + ".0" + pre + " <" + major + "." + jsIncrement(minor) + ".0-0"
		}
		return g[0]
	})
}

// hyphenReplace rewrites a match of reHyphenRange, "from - to", as comparators.
func hyphenReplace(g submatches, includePrerelease bool) string {
	from, fMajor, fMinor, fPatch, fPre := g[1], g[2], g[3], g[4], g[5]
	to, tMajor, tMinor, tPatch, tPre := g[7], g[8], g[9], g[10], g[11]
	z := zero(includePrerelease)
	switch {
	case isX(fMajor):
		from = ""
	case isX(fMinor):
		from = ">=" + fMajor + ".0.0" + z
	case isX(fPatch):
		from = ">=" + fMajor + "." + fMinor + ".0" + z
	case fPre != "":
		from = ">=" + from
	default:
		from = ">=" + from + z
	}
	switch {
	case isX(tMajor):
		to = ""
	case isX(tMinor):
		to = "<" + jsIncrement(tMajor) + ".0.0-0"
	case isX(tPatch):
		to = "<" + tMajor + "." + jsIncrement(tMinor) + ".0-0"
	case tPre != "":
		to = "<=" + tMajor + "." + tMinor + "." + tPatch + "-" + tPre
	case includePrerelease:
		to = "<" + tMajor + "." + tMinor + "." + jsIncrement(tPatch) + "-0"
	default:
		to = "<=" + to
	}
	return jsTrim(from + " " + to)
}
