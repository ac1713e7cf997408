package semver

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file holds the few JavaScript string behaviours node-semver relies on, so
// that the port can follow its code step by step.

// isJSSpace reports whether r is matched by JavaScript's \s and removed by
// String.prototype.trim: the ECMAScript WhiteSpace and LineTerminator code points.
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// jsTrim is String.prototype.trim.
func jsTrim(s string) string {
	return strings.TrimFunc(s, isJSSpace)
}

// jsSplitSpace is s.split(/\s+/): a leading or trailing run of white space
// yields an empty first or last element, and "" yields [""].
func jsSplitSpace(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isJSSpace(r) {
			i += n
			continue
		}
		out = append(out, s[start:i])
		for i < len(s) {
			r, n := utf8.DecodeRuneInString(s[i:])
			if !isJSSpace(r) {
				break
			}
			i += n
		}
		start = i
	}
	return append(out, s[start:])
}

// collapseSpace is s.replace(/\s+/g, ' ').
func collapseSpace(s string) string {
	return strings.Join(jsSplitSpace(s), " ")
}

// utf16Len is a JavaScript string's length: UTF-16 code units. An invalid byte
// counts as one, as the U+FFFD that would stand for it in JavaScript.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r > 0xffff {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// jsIncrement is `${+s + 1}` for a string of decimal digits: JavaScript number
// arithmetic, so a number past 2^53 loses precision and one of 1e21 or more is
// written with an exponent, exactly as node-semver then (fails to) parse it.
func jsIncrement(s string) string {
	// s is at most 257 digits matched by a regexp: it parses, to a finite number.
	f, _ := strconv.ParseFloat(s, 64)
	f++
	if f < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'e', -1, 64)
}

// submatches are the groups of one regexp match; an unmatched group is "", which
// node-semver treats the same as undefined everywhere it reads one.
type submatches []string

// jsReplaceFirst is s.replace(re, fn) for a regexp without the g flag.
func jsReplaceFirst(re *regexp.Regexp, s string, fn func(m submatches) string) string {
	loc := re.FindStringSubmatchIndex(s)
	if loc == nil {
		return s
	}
	return s[:loc[0]] + fn(groups(s, loc)) + s[loc[1]:]
}

// jsReplaceAll is s.replace(re, fn) for a regexp with the g flag. None of the
// regexps it is used with matches the empty string, where JavaScript and Go differ.
func jsReplaceAll(re *regexp.Regexp, s string, fn func(m submatches) string) string {
	var b strings.Builder
	last := 0
	for _, loc := range re.FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(s[last:loc[0]])
		b.WriteString(fn(groups(s, loc)))
		last = loc[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

func groups(s string, loc []int) submatches {
	m := make(submatches, len(loc)/2)
	for i := range m {
		if loc[2*i] >= 0 {
			m[i] = s[loc[2*i]:loc[2*i+1]]
		}
	}
	return m
}
