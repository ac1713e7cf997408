package progress

import (
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/matrixbuild/matrix/internal/terminal"
)

// GitHub Actions workflow commands (::group::, ::error ...::) and their escaping.
// A container's line never starts one: the plain renderer prefixes each with
// "[ARTIFACT] ", and what the tool writes after "::" is escaped here.

// AppendAnnotation appends "::KIND PROPS::MESSAGE\n"; props are "key=value" already
// escaped with escapeProperty, message is escaped here.
func AppendAnnotation(dst []byte, kind string, props []string, message string) []byte {
	dst = append(dst, "::"...)
	dst = append(dst, kind...)
	if len(props) > 0 {
		dst = append(dst, ' ')
		dst = append(dst, strings.Join(props, ",")...)
	}
	dst = append(dst, "::"...)
	dst = append(dst, escapeData(message)...)
	return append(dst, '\n')
}

// escapeData escapes a workflow command's message: %, CR and LF.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a workflow command's property value: also : and ,.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// Annotation is an ::error (or ::warning) command at a place in a file; Line, Col,
// EndLine and EndCol are 1-based, 0 when unknown.
type Annotation struct {
	Kind                       string // "error", "warning", "notice"
	File                       string
	Line, Col, EndLine, EndCol int
	Title, Message             string
}

// AppendTo appends the command, its values escaped for a terminal and for GitHub.
func (a Annotation) AppendTo(dst []byte) []byte {
	var props []string
	if a.File != "" {
		props = append(props, "file="+escapeProperty(terminal.Escape(a.File)))
		for _, kv := range []struct {
			k string
			v int
		}{{"line", a.Line}, {"col", a.Col}, {"endLine", a.EndLine}, {"endColumn", a.EndCol}} {
			if kv.v > 0 {
				props = append(props, kv.k+"="+strconv.Itoa(kv.v))
			}
		}
	}
	if a.Title != "" {
		props = append(props, "title="+escapeProperty(terminal.Escape(a.Title)))
	}
	kind := a.Kind
	if kind == "" {
		kind = "error"
	}
	return AppendAnnotation(dst, kind, props, string(AppendGitHubSafe(nil, []byte(terminal.EscapeLines(a.Message)))))
}

// AppendGitHubSafe appends p to dst with what GitHub Actions' runner would read as a
// workflow command in text that is not one written as an escape: "::" at the start of
// a line (the runner trims the line's leading white space first, Unicode's: a no-break
// space too) as `\x3a:`, and "##[" anywhere in a line (the runner's older form, which
// it reads mid-line too: behind a cell's "[ARTIFACT] " prefix, or in an error quoting
// a script's last lines) as `##\x5b`. The text is already escaped for a terminal; its
// newlines are kept.
func AppendGitHubSafe(dst, p []byte) []byte {
	start := true // at the start of a line, past its leading white space only
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\n':
			start = true
		case start && c == ':' && i+1 < len(p) && p[i+1] == ':':
			dst = append(dst, `\x3a`...)
			start = false
			i++
			continue
		case c == '#' && i+2 < len(p) && p[i+1] == '#' && p[i+2] == '[':
			dst = append(dst, `##\x5b`...)
			start = false
			i += 3
			continue
		case start:
			r, n := utf8.DecodeRune(p[i:])
			start = unicode.IsSpace(r)
			dst = append(dst, p[i:i+n]...)
			i += n
			continue
		}
		dst = append(dst, c)
		i++
	}
	return dst
}

// GitHubSafeWriter writes each Write's bytes through AppendGitHubSafe: for text of the
// tool's written to a GitHub Actions log a whole line or more at a time (the summary,
// its closing error).
type GitHubSafeWriter struct{ W io.Writer }

func (g GitHubSafeWriter) Write(p []byte) (int, error) {
	if _, err := g.W.Write(AppendGitHubSafe(nil, p)); err != nil {
		return 0, err
	}
	return len(p), nil
}
