package semver

import (
	"regexp"
	"strconv"
	"strings"
)

// The regular expressions of node-semver's internal/re.js, built from the same
// pieces in the same way. node-semver matches with the "safe" variants, in which
// every \s*, \s+, \d*, \d+ and [a-zA-Z0-9-]* or + has an upper bound; so do we,
// since a bound can decide whether a long string matches. Go's regexp picks the
// same match as JavaScript's backtracking engine (leftmost-first), and \s is
// rewritten to JavaScript's set of white space.

const (
	maxLength          = 256            // MAX_LENGTH
	maxSafeInteger     = 1<<53 - 1      // MAX_SAFE_INTEGER
	maxSafeBuildLength = maxLength - 6  // MAX_SAFE_BUILD_LENGTH
	letterDashNumber   = `[a-zA-Z0-9-]` // LETTERDASHNUMBER
	jsSpaceClass       = `\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}`
)

const (
	numericIdentifier      = `0|[1-9]\d*`
	numericIdentifierLoose = `\d+`
	nonNumericIdentifier   = `\d*[a-zA-Z-]` + letterDashNumber + `*`

	mainVersion      = `(` + numericIdentifier + `)\.(` + numericIdentifier + `)\.(` + numericIdentifier + `)`
	mainVersionLoose = `(` + numericIdentifierLoose + `)\.(` + numericIdentifierLoose + `)\.(` + numericIdentifierLoose + `)`

	prereleaseIdentifier      = `(?:` + nonNumericIdentifier + `|` + numericIdentifier + `)`
	prereleaseIdentifierLoose = `(?:` + nonNumericIdentifier + `|` + numericIdentifierLoose + `)`
	prerelease                = `(?:-(` + prereleaseIdentifier + `(?:\.` + prereleaseIdentifier + `)*))`
	prereleaseLoose           = `(?:-?(` + prereleaseIdentifierLoose + `(?:\.` + prereleaseIdentifierLoose + `)*))`

	buildIdentifier = letterDashNumber + `+`
	build           = `(?:\+(` + buildIdentifier + `(?:\.` + buildIdentifier + `)*))`

	fullPlain  = `v?` + mainVersion + prerelease + `?` + build + `?`
	loosePlain = `[v=\s]*` + mainVersionLoose + prereleaseLoose + `?` + build + `?`

	gtlt             = `((?:<|>)?=?)`
	xRangeIdentifier = numericIdentifier + `|x|X|\*`
	xRangePlain      = `[v=\s]*(` + xRangeIdentifier + `)` +
		`(?:\.(` + xRangeIdentifier + `)` +
		`(?:\.(` + xRangeIdentifier + `)` +
		`(?:` + prerelease + `)?` + build + `?` +
		`)?)?`

	loneTilde = `(?:~>?)`
	loneCaret = `(?:\^)`
)

var (
	// FULL: a whole version, groups major, minor, patch, prerelease, build.
	reFull = safeRegexp(`^` + fullPlain + `$`)
	// XRANGE: groups operator, major, minor, patch, prerelease, build.
	reXRange = safeRegexp(`^` + gtlt + `\s*` + xRangePlain + `$`)
	// TILDE and CARET: groups major, minor, patch, prerelease, build.
	reTilde = safeRegexp(`^` + loneTilde + xRangePlain + `$`)
	reCaret = safeRegexp(`^` + loneCaret + xRangePlain + `$`)
	// TILDETRIM and CARETTRIM (global): the space after ~ or ^.
	reTildeTrim = safeRegexp(`(\s*)` + loneTilde + `\s+`)
	reCaretTrim = safeRegexp(`(\s*)` + loneCaret + `\s+`)
	// COMPARATOR: groups operator, version; or the empty string.
	reComparator = safeRegexp(`^` + gtlt + `\s*(` + fullPlain + `)$|^$`)
	// COMPARATORTRIM (global): groups space, operator, version, to drop the space
	// between an operator and its version.
	reComparatorTrim = safeRegexp(`(\s*)` + gtlt + `\s*(` + loosePlain + `|` + xRangePlain + `)`)
	// HYPHENRANGE: groups from (then its 5 parts), to (then its 5 parts).
	reHyphenRange = safeRegexp(`^\s*(` + xRangePlain + `)\s+-\s+(` + xRangePlain + `)\s*$`)
	reStar        = safeRegexp(`(<|>)?=?\s*\*`)
	reGTE0        = safeRegexp(`^\s*>=\s*0\.0\.0\s*$`)
	reGTE0Pre     = safeRegexp(`^\s*>=\s*0\.0\.0-0\s*$`)
	reBuild       = safeRegexp(build)
	// BUILDSTRIPRE in classes/range.js is built from the unbounded source.
	reBuildStrip = regexp.MustCompile(jsRegexp(build))
)

// safeRegexp compiles src as node-semver's makeSafeRegex would have rewritten it.
func safeRegexp(src string) *regexp.Regexp {
	for _, r := range []struct {
		token string
		max   int
	}{{`\s`, 1}, {`\d`, maxLength}, {letterDashNumber, maxSafeBuildLength}} {
		bound := strconv.Itoa(r.max)
		src = strings.ReplaceAll(src, r.token+`*`, r.token+`{0,`+bound+`}`)
		src = strings.ReplaceAll(src, r.token+`+`, r.token+`{1,`+bound+`}`)
	}
	return regexp.MustCompile(jsRegexp(src))
}

// jsRegexp rewrites JavaScript's \s, in and out of brackets, for Go, whose \s
// lacks \v and the Unicode spaces.
func jsRegexp(src string) string {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\\' && i+1 < len(src) && src[i+1] == 's':
			if inClass {
				b.WriteString(jsSpaceClass)
			} else {
				b.WriteString(`[` + jsSpaceClass + `]`)
			}
			i++
			continue
		case c == '\\' && i+1 < len(src):
			b.WriteByte(c)
			i++
			c = src[i]
		case c == '[':
			inClass = true
		case c == ']':
			inClass = false
		}
		b.WriteByte(c)
	}
	return b.String()
}
