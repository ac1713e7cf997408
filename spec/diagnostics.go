package spec

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/matrixbuild/matrix/internal/terminal"
)

// diagCollector gathers the diagnostics of many cells: a problem in an expression
// shared by all cells is reported once, naming the first cell and how many share it.
type diagCollector struct {
	f     *File
	diags hcl.Diagnostics
	seen  map[string]int // key -> index in diags
	count map[string]int
	cells map[string]string
	last  map[string]string
}

func newDiagCollector(f *File) *diagCollector {
	return &diagCollector{f: f, seen: map[string]int{}, count: map[string]int{}, cells: map[string]string{}, last: map[string]string{}}
}

func (dc *diagCollector) add(d *hcl.Diagnostic, cell string) {
	key := d.Summary
	if d.Subject != nil {
		key += "\x00" + rangeString(*d.Subject) + fmt.Sprintf("-%d", d.Subject.End.Byte)
	}
	if x := inheritedOf(d); x != nil { // one message per target that inherits the place
		key += "\x00" + x.target
	}
	if _, ok := dc.seen[key]; ok {
		if dc.last[key] != cell { // count cells, not occurrences within one cell
			dc.count[key]++
			dc.last[key] = cell
		}
		return
	}
	dc.last[key] = cell
	dc.seen[key] = len(dc.diags)
	dc.count[key] = 1
	dc.cells[key] = cell
	dc.diags = append(dc.diags, d)
}

func (dc *diagCollector) addAll(diags hcl.Diagnostics, cell string) {
	for _, d := range diags {
		dc.add(d, cell)
	}
}

// explain adds what a user of Terraform may not expect to HCL's own messages.
func explain(diags hcl.Diagnostics) hcl.Diagnostics {
	for _, d := range diags {
		switch {
		case d.Summary == "Call to unknown function" && !strings.Contains(d.Detail, "file system"):
			d.Detail += " Functions that read the file system or the environment do not exist in matrix files, so that a plan depends only on the file, its variables and the npm registry's answers (npm_versions, npm_package), which matrix.lock.json pins."
		case d.Summary == "Missing map element" && !strings.Contains(d.Detail, "lookup(") && calls(d.Expression, npmPackageName):
			d.Detail += ` npm_package gives engines as the package declares them: lookup(npm_package(...).engines, "node", "*") reads engines.node as npm does, "*" when the package declares none.`
		}
	}
	return diags
}

// calls reports whether expr calls the function name.
func calls(expr hcl.Expression, name string) bool {
	node, ok := expr.(hclsyntax.Node)
	if !ok {
		return false
	}
	found := false
	hclsyntax.VisitAll(node, func(n hclsyntax.Node) hcl.Diagnostics {
		if call, ok := n.(*hclsyntax.FunctionCallExpr); ok && call.Name == name {
			found = true
		}
		return nil
	})
	return found
}

func (dc *diagCollector) result() hcl.Diagnostics {
	explain(dc.diags)
	for key, i := range dc.seen {
		cell := dc.cells[key]
		if cell == "" && inheritedOf(dc.diags[i]) == nil {
			continue
		}
		// Redact before the notes: redact may replace the detail they are added to.
		d := *withNote(dc.f.sens.redact(dc.diags[i]))
		if cell == "" {
			dc.diags[i] = &d
			continue
		}
		sep := "\n\n"
		if d.Detail == "" {
			sep = ""
		}
		if n := dc.count[key]; n > 1 {
			d.Detail += fmt.Sprintf("%sIn cell %s and %d more.", sep, cell, n-1)
			if n == 2 {
				d.Detail = strings.TrimSuffix(d.Detail, "1 more.") + "one other."
			}
		} else {
			d.Detail += fmt.Sprintf("%sIn cell %s.", sep, cell)
		}
		dc.diags[i] = &d
	}
	return dc.diags
}

// WriteDiagnostics renders diags as HCL does (the source line with the problem
// highlighted), with the position as file:line:col and a caret line under the range, so
// that editors and people find it. color adds terminal colours and wraps at 100 columns.
// What comes from outside (source lines, file names, messages quoting values and cell
// names) is escaped by internal/terminal's rule: a file or a value cannot drive the
// terminal the diagnostics are read on.
func (f *File) WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, color bool) error {
	var width uint
	if color {
		width = 100
	}
	var buf bytes.Buffer
	for _, d := range diags {
		d := f.sens.redact(d)
		buf.Reset()
		files := f.files
		if f.hides(d) || longLine(d.Subject, f.files) {
			files = nil // no source shown
		}
		shown, window, before := snippet(d, files)
		if err := hcl.NewDiagnosticTextWriter(&buf, window, width, color).WriteDiagnostic(shown); err != nil {
			return err
		}
		out := renumber(buf.String(), before)
		if shown.Subject != nil {
			out = decorate(out, shown.Subject, window)
		}
		if _, err := io.WriteString(w, out); err != nil {
			return err
		}
	}
	return nil
}

// snippet gives HCL's writer only the lines of its source that d shows, as a file of
// their own, with d's byte offsets moved into it; before is how many lines of the
// source come before them. (The writer reads its file from the start, line by line,
// for each diagnostic: a file of 100,000 lines with many errors took minutes.) The
// lines, d's messages and file names are escaped for a terminal (escapeSource), the
// offsets moved to match; a source d's range does not fit is not shown.
func snippet(d *hcl.Diagnostic, files map[string]*hcl.File) (shown *hcl.Diagnostic, window map[string]*hcl.File, before int) {
	c := *d
	c.Summary, c.Detail = terminal.Escape(d.Summary), terminal.EscapeLines(d.Detail)
	named := func(r *hcl.Range) *hcl.Range {
		if r == nil {
			return nil
		}
		m := *r
		m.Filename = terminal.Escape(r.Filename)
		return &m
	}
	c.Subject, c.Context = named(d.Subject), named(d.Context)
	if d.Subject == nil || files[d.Subject.Filename] == nil || files[d.Subject.Filename].Bytes == nil {
		return &c, nil, 0
	}
	file := files[d.Subject.Filename]
	src := file.Bytes
	snip := *d.Subject
	if d.Context != nil && d.Context.Filename == snip.Filename {
		snip = hcl.RangeOver(snip, *d.Context)
	}
	if snip.Start.Byte < 0 || snip.Start.Byte > snip.End.Byte || snip.End.Byte > len(src) || snip.Start.Line < 1 {
		return &c, nil, 0
	}
	start := bytes.LastIndexByte(src[:snip.Start.Byte], '\n') + 1
	end := min(max(snip.End.Byte, d.Subject.End.Byte+1), len(src)) // an empty subject is shown one byte long
	if i := bytes.IndexByte(src[end:], '\n'); i >= 0 {
		end += i + 1
	} else {
		end = len(src)
	}
	part := escapeSource(nil, src[start:end])
	offset := func(b int) int { // b, in src, as an offset in part
		b = min(max(b, start), end)
		return len(escapeSource(nil, src[start:b]))
	}
	move := func(r *hcl.Range) {
		if r != nil && r.Filename == terminal.Escape(snip.Filename) {
			r.Start.Byte, r.End.Byte = offset(r.Start.Byte), offset(r.End.Byte)
		}
	}
	move(c.Subject)
	move(c.Context)
	window = map[string]*hcl.File{c.Subject.Filename: {Bytes: part, Nav: subjectNav{file.Nav, d.Subject.Start.Byte}}}
	return &c, window, snip.Start.Line - 1
}

// escapeSource appends src to dst escaped for a terminal (terminal.AppendEscapedLines),
// but for a carriage return before a line's end, which HCL's writer drops: a file
// written with \r\n line ends is shown as it reads.
func escapeSource(dst, src []byte) []byte {
	for {
		line, rest, more := bytes.Cut(src, []byte("\n"))
		cr := len(line) > 0 && line[len(line)-1] == '\r'
		if cr {
			line = line[:len(line)-1]
		}
		dst = terminal.AppendEscaped(dst, line)
		if cr {
			dst = append(dst, '\r')
		}
		if !more {
			return dst
		}
		dst = append(dst, '\n')
		src = rest
	}
}

// subjectNav answers HCL's writer's "in target ..." for a part of a file: the writer
// asks only about its diagnostic's subject, which starts at at in the file.
type subjectNav struct {
	nav any
	at  int
}

func (n subjectNav) ContextString(int) string {
	if c, ok := n.nav.(interface{ ContextString(int) string }); ok {
		return terminal.Escape(c.ContextString(n.at))
	}
	return ""
}

// renumber adds before to the line numbers of the source lines HCL's writer printed
// ("%4d: " after the "  on FILE line N" line, up to the blank line).
func renumber(out string, before int) string {
	if before == 0 {
		return out
	}
	lines := strings.SplitAfter(out, "\n")
	inSource := false
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "  on "):
			inSource = true
		case inSource && strings.TrimSpace(l) == "":
			return strings.Join(lines, "")
		case inSource:
			num, rest, ok := strings.Cut(l, ": ")
			if n, err := strconv.Atoi(strings.TrimSpace(num)); ok && err == nil {
				lines[i] = fmt.Sprintf("%4d: %s", n+before, rest)
			}
		}
	}
	return strings.Join(lines, "")
}

// hides reports whether rendering d would show a line of a place in f.hidden.
func (f *File) hides(d *hcl.Diagnostic) bool {
	shares := func(r *hcl.Range, h hcl.Range) bool {
		return r != nil && r.Filename == h.Filename && r.Start.Line <= h.End.Line && h.Start.Line <= r.End.Line
	}
	for _, h := range f.hidden {
		if shares(d.Subject, h) || shares(d.Context, h) {
			return true
		}
	}
	return false
}

// maxShownLine is the longest source line a diagnostic shows: a generated or hostile
// file may be one line of megabytes (100,000 brackets), which helps no reader.
const maxShownLine = 1000

// longLine reports whether the subject's first line is longer than maxShownLine.
func longLine(subj *hcl.Range, files map[string]*hcl.File) bool {
	if subj == nil || files[subj.Filename] == nil {
		return false
	}
	src := files[subj.Filename].Bytes
	if subj.Start.Byte > len(src) {
		return false
	}
	start := bytes.LastIndexByte(src[:subj.Start.Byte], '\n') + 1
	end := bytes.IndexByte(src[subj.Start.Byte:], '\n')
	if end < 0 {
		end = len(src) - subj.Start.Byte
	}
	return subj.Start.Byte+end-start > maxShownLine
}

// decorate turns HCL's "  on FILE line N" into "  on FILE:N:C" and adds a caret line
// under the subject's first source line, when files has it.
func decorate(out string, subj *hcl.Range, files map[string]*hcl.File) string {
	old := fmt.Sprintf("  on %s line %d", subj.Filename, subj.Start.Line)
	out = strings.Replace(out, old, fmt.Sprintf("  on %s:%d:%d", subj.Filename, subj.Start.Line, subj.Start.Column), 1)
	file := files[subj.Filename]
	if file == nil || file.Bytes == nil || subj.Start.Byte > len(file.Bytes) {
		return out
	}
	src := file.Bytes
	lineStart := bytes.LastIndexByte(src[:subj.Start.Byte], '\n') + 1
	lineEnd := len(src)
	if i := bytes.IndexByte(src[subj.Start.Byte:], '\n'); i >= 0 {
		lineEnd = subj.Start.Byte + i
	}
	end := min(max(subj.End.Byte, subj.Start.Byte), lineEnd)
	var caret strings.Builder
	for _, r := range string(src[lineStart:subj.Start.Byte]) {
		if r == '\t' {
			caret.WriteByte('\t')
		} else {
			caret.WriteByte(' ')
		}
	}
	caret.WriteByte('^')
	if n := len([]rune(string(src[subj.Start.Byte:end]))); n > 1 {
		caret.WriteString(strings.Repeat("~", n-1))
	}
	prefix := fmt.Sprintf("%4d: ", subj.Start.Line)
	lines := strings.SplitAfter(out, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) {
			ins := strings.Repeat(" ", len(prefix)) + strings.TrimRight(caret.String(), " ") + "\n"
			lines = append(lines[:i+1], append([]string{ins}, lines[i+1:]...)...)
			break
		}
	}
	return strings.Join(lines, "")
}

// errorAt is an error diagnostic about the source at subject; nil is about no place in
// a file (the command line, a file that cannot be read). Every error is made here or in
// errorWithin.
func errorAt(subject *hcl.Range, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: subject}
}

// errorWithin is errorAt with the construct around the subject (an attribute, a block),
// which HCL names in the message ("in target ...").
func errorWithin(subject, context hcl.Range, summary, detail string) *hcl.Diagnostic {
	d := errorAt(subject.Ptr(), summary, detail)
	d.Context = context.Ptr()
	return d
}

func rangeString(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}
