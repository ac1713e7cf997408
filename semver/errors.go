package semver

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// A SyntaxError reports a version or range that node-semver rejects: what was
// given, where in it the problem is, and what the problem is.
type SyntaxError struct {
	What   string // "version" or "range"
	Input  string // the string as given
	Offset int    // byte offset in Input of the problem, or -1 when it has no one place
	Reason string
}

func (e *SyntaxError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("invalid %s %q: %s", e.What, e.Input, e.Reason)
	}
	return fmt.Sprintf("invalid %s %q: at byte %d: %s", e.What, e.Input, e.Offset, e.Reason)
}

// versionError explains why s, within the length limit, does not match FULL.
func versionError(s string) *SyntaxError {
	lead := len(s) - len(strings.TrimLeftFunc(s, isJSSpace))
	off, reason := diagnoseVersion(jsTrim(s))
	if off >= 0 {
		off += lead
	}
	return &SyntaxError{What: "version", Input: s, Offset: off, Reason: reason}
}

// diagnoseVersion finds where the trimmed version t leaves the grammar that
// reFull accepts. It only explains: reFull decides what is valid.
func diagnoseVersion(t string) (int, string) {
	if t == "" {
		return -1, "empty"
	}
	i := 0
	if t[0] == 'v' {
		i++
	}
	for n, part := range partNames {
		if n > 0 {
			if i == len(t) || t[i] != '.' {
				return i, fmt.Sprintf(`expected "." and the %s version, found %s`, part, found(t, i))
			}
			i++
		}
		j := i
		for j < len(t) && isDigit(t[j]) {
			j++
		}
		switch {
		case j == i:
			return i, fmt.Sprintf("expected the %s version number, found %s", part, found(t, i))
		case t[i] == '0' && j > i+1:
			return i, fmt.Sprintf("%s version %s has a leading zero", part, t[i:j])
		}
		i = j
	}
	if i < len(t) && t[i] == '-' {
		j, reason := diagnoseIdentifiers(t, i+1, "prerelease")
		if reason != "" {
			return j, reason
		}
		i = j
	}
	if i < len(t) && t[i] == '+' {
		j, reason := diagnoseIdentifiers(t, i+1, "build")
		if reason != "" {
			return j, reason
		}
		i = j
	}
	if i < len(t) {
		return i, fmt.Sprintf("unexpected %s after the version", found(t, i))
	}
	return -1, "not a version"
}

// diagnoseIdentifiers reads dot-separated identifiers from t[i:] and returns
// where they end, or where and why one is not valid.
func diagnoseIdentifiers(t string, i int, kind string) (int, string) {
	for {
		j := i
		for j < len(t) && (isDigit(t[j]) || isLetter(t[j]) || t[j] == '-') {
			j++
		}
		id := t[i:j]
		switch {
		case id == "":
			return i, fmt.Sprintf("expected a %s identifier ([0-9A-Za-z-]), found %s", kind, found(t, i))
		case kind == "prerelease" && len(id) > 1 && id[0] == '0' && isNumeric(id):
			return i, fmt.Sprintf("numeric prerelease identifier %s has a leading zero", id)
		}
		if j == len(t) || t[j] != '.' {
			return j, ""
		}
		i = j + 1
	}
}

func found(t string, i int) string {
	if i >= len(t) {
		return "the end"
	}
	r, _ := utf8.DecodeRuneInString(t[i:])
	return fmt.Sprintf("%q", string(r))
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// A comparatorError is a comparator node-semver's Comparator rejects, as it
// stands after the range was rewritten.
type comparatorError struct {
	comp   string
	offset int // byte offset in comp of the problem, or -1
	reason string
}

// comparatorSyntax explains why s does not match reComparator: an operator, then
// a whole version.
func comparatorSyntax(s string) *comparatorError {
	if s == "-" {
		return &comparatorError{comp: s, offset: 0, reason: `a hyphen range needs a version or partial version on each side of " - "`}
	}
	op := len(s) - len(strings.TrimLeft(s, "<>=~^"))
	off, reason := diagnoseVersion(s[op:])
	if off >= 0 {
		off += op
	}
	if op > 0 && !isOperator(s[:op]) {
		off, reason = 0, fmt.Sprintf("%q is not an operator (<, <=, >, >=, =, ~, ~>, ^)", s[:op])
	}
	return &comparatorError{comp: s, offset: off, reason: reason}
}

func isOperator(s string) bool {
	switch s {
	case "<", "<=", ">", ">=", "=", "~", "~>", "^":
		return true
	}
	return false
}

// in makes e an error of the range s, placed where its comparator is in s when
// the comparator appears there as written.
func (e *comparatorError) in(s string) *SyntaxError {
	at := tokenIndex(s, e.comp)
	if at < 0 {
		return &SyntaxError{What: "range", Input: s, Offset: -1,
			Reason: fmt.Sprintf("it rewrites to the comparator %q: %s", e.comp, e.reason)}
	}
	if e.offset >= 0 {
		at += e.offset
	}
	return &SyntaxError{What: "range", Input: s, Offset: at, Reason: fmt.Sprintf("comparator %q: %s", e.comp, e.reason)}
}

// tokenIndex is the byte offset of the first occurrence of tok in s that is
// bounded by white space, "|" or the ends of s, or -1.
func tokenIndex(s, tok string) int {
	for from := 0; from <= len(s); {
		i := strings.Index(s[from:], tok)
		if i < 0 {
			return -1
		}
		i += from
		before, _ := utf8.DecodeLastRuneInString(s[:i])
		after, _ := utf8.DecodeRuneInString(s[i+len(tok):])
		if (i == 0 || isJSSpace(before) || before == '|') && (i+len(tok) == len(s) || isJSSpace(after) || after == '|') {
			return i
		}
		from = i + 1
	}
	return -1
}
