package progress

import (
	"strconv"
	"strings"

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
	return AppendAnnotation(dst, kind, props, terminal.EscapeLines(a.Message))
}
