package selection

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/matrixbuild/matrix/plan"
)

// Only is one --only expression: AXIS=GLOB terms joined by ",", all of which a cell
// must match (AND; --only given again is OR). A GLOB matches the axis value's string
// form (as `matrix plan` shows it) whole: "*" any run of characters, "?" one, "\"
// makes the next character plain ("\*", "\,", "\\"). A cell without the axis matches
// no term on it.
type Only struct {
	text  string
	terms []term
}

type term struct {
	name string
	glob []globPart
}

// globPart is one rune of a pattern: a plain one, or a wildcard.
type globPart struct {
	r        rune
	wildcard bool // r is '*' or '?'
}

// ParseOnly parses an --only expression, e.g. "sharp=0.34.*,arch=arm64".
func ParseOnly(expr string) (Only, error) {
	o := Only{text: expr}
	if expr == "" {
		return o, fmt.Errorf("--only \"\": want AXIS=VALUE[,AXIS=VALUE...], e.g. --only sharp=0.34.*,arch=arm64")
	}
	if !utf8.ValidString(expr) {
		return o, fmt.Errorf("--only %s: not valid UTF-8", strconv.Quote(expr))
	}
	var cur term
	var name strings.Builder
	inValue, escaped := false, false
	end := func() error {
		if !inValue {
			return fmt.Errorf("--only %s: %s has no \"=\": want AXIS=VALUE", strconv.Quote(expr), strconv.Quote(name.String()))
		}
		if cur.name == "" {
			return fmt.Errorf("--only %s: a term with no axis name before \"=\"", strconv.Quote(expr))
		}
		o.terms = append(o.terms, cur)
		cur, inValue = term{}, false
		name.Reset()
		return nil
	}
	for _, r := range expr {
		switch {
		case escaped:
			escaped = false
			if inValue {
				cur.glob = append(cur.glob, globPart{r: r})
			} else {
				name.WriteRune(r)
			}
		case r == '\\':
			escaped = true
		case r == ',':
			if err := end(); err != nil {
				return o, err
			}
		case r == '=' && !inValue:
			cur.name, inValue = name.String(), true
		case inValue && (r == '*' || r == '?'):
			cur.glob = append(cur.glob, globPart{r: r, wildcard: true})
		case inValue:
			cur.glob = append(cur.glob, globPart{r: r})
		default:
			name.WriteRune(r)
		}
	}
	if escaped {
		return o, fmt.Errorf("--only %s: ends with a lone \"\\\"", strconv.Quote(expr))
	}
	if err := end(); err != nil {
		return o, err
	}
	return o, nil
}

// String is the expression as given.
func (o Only) String() string { return o.text }

// Match says whether the cell matches every term.
func (o Only) Match(c plan.Cell) bool {
	for _, t := range o.terms {
		v, ok := c.AxisValue(t.name)
		if !ok || !match(t.glob, v) {
			return false
		}
	}
	return true
}

// match says whether the whole of s matches the pattern: the classic greedy matcher
// that goes back to the last '*' on a mismatch, linear in practice.
func match(p []globPart, s string) bool {
	str := []rune(s)
	pi, si := 0, 0
	star, from := -1, 0
	for si < len(str) {
		switch {
		case pi < len(p) && p[pi].wildcard && p[pi].r == '*':
			star, from = pi, si
			pi++
		case pi < len(p) && (p[pi].wildcard && p[pi].r == '?' || !p[pi].wildcard && p[pi].r == str[si]):
			pi++
			si++
		case star >= 0:
			pi = star + 1
			from++
			si = from
		default:
			return false
		}
	}
	for pi < len(p) && p[pi].wildcard && p[pi].r == '*' {
		pi++
	}
	return pi == len(p)
}
