// Package terminal holds the one rule for showing text that is not ours (a container's
// output, a value from the environment) on a terminal: what a terminal would act on
// instead of showing is written as an escape, so such text can neither move the
// cursor, clear or retitle the screen, nor forge a line of its own.
package terminal

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// Escape returns s with each C0 control but the tab, DEL and each C1 control (U+0080
// to U+009F) written as \xNN (\u0085 and such for C1), each bidi formatting
// character (isBidi) as \uNNNN, and each byte that is not valid UTF-8 as \xNN.
// Everything else, printable Unicode included, is kept as is.
func Escape(s string) string {
	if !needsEscape(s) {
		return s
	}
	return string(AppendEscaped(nil, []byte(s)))
}

// AppendEscaped appends p, escaped as Escape escapes, to dst. Runs of printable ASCII
// are copied whole: a container printing hundreds of megabytes goes through here.
func AppendEscaped(dst, p []byte) []byte {
	const hex = "0123456789abcdef"
	for len(p) > 0 {
		i := 0
		for i < len(p) && (p[i] >= 0x20 && p[i] < 0x7f || p[i] == '\t') {
			i++
		}
		dst, p = append(dst, p[:i]...), p[i:]
		if len(p) == 0 {
			break
		}
		r, n := utf8.DecodeRune(p)
		switch {
		case r == utf8.RuneError && n == 1:
			dst = append(dst, '\\', 'x', hex[p[0]>>4], hex[p[0]&15])
		case r < 0x20, r == 0x7f:
			dst = append(dst, '\\', 'x', hex[r>>4], hex[r&15])
		case r >= 0x80 && r <= 0x9f, isBidi(r):
			dst = append(dst, '\\', 'u', hex[r>>12], hex[r>>8&15], hex[r>>4&15], hex[r&15])
		default:
			dst = append(dst, p[:n]...)
		}
		p = p[n:]
	}
	return dst
}

// AppendEscapedLines appends p to dst escaped as AppendEscaped does, but for its
// newlines, which it keeps: for text of several lines whose line breaks are ours (an
// error quoting a script's last lines, one per line).
func AppendEscapedLines(dst, p []byte) []byte {
	for {
		line, rest, more := bytes.Cut(p, []byte("\n"))
		dst = AppendEscaped(dst, line)
		if !more {
			return dst
		}
		dst = append(dst, '\n')
		p = rest
	}
}

// EscapeLines is AppendEscapedLines for a string.
func EscapeLines(s string) string {
	if !needsEscape(strings.ReplaceAll(s, "\n", "")) {
		return s
	}
	return string(AppendEscapedLines(nil, []byte(s)))
}

// isBidi reports whether r is a bidi formatting character: the embeddings and
// overrides U+202A to U+202E, the isolates U+2066 to U+2069, the marks U+200E, U+200F
// and U+061C. A terminal shows none of them but reorders the text around them, so a
// U+202E in a name makes "gpj.exe" read "exe.jpg", and one in a line carries on to
// the rest of it (the plan table's next columns, the tool's own words after it).
func isBidi(r rune) bool {
	return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f || r == 0x061c
}

func needsEscape(s string) bool {
	for _, r := range s {
		if r < 0x20 && r != '\t' || r >= 0x7f && r <= 0x9f || r == utf8.RuneError || isBidi(r) {
			return true
		}
	}
	return false
}
