package progress

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/matrixbuild/matrix/internal/terminal"
)

// MaxStepSummary is GitHub's limit on a step's summary (GITHUB_STEP_SUMMARY): 1 MiB.
const MaxStepSummary = 1 << 20

// WriteMarkdown writes the summary as a Markdown table for a GitHub job summary, in at
// most limit bytes: rows that do not fit are left out, and a last line says how many.
// Every value is escaped for a terminal (internal/terminal) and for Markdown and HTML
// (a cell's text cannot end the table, add a link, an image or a tag).
func (s Summary) WriteMarkdown(w io.Writer, limit int) error {
	var b bytes.Buffer
	b.WriteString("### matrix: " + md(s.ClosingLine()) + "\n\n")
	b.WriteString("| result | cell | axes | size | time | sha256 | reason |\n|---|---|---|---|---|---|---|\n")
	// Room for the note on rows left out, however many they are.
	const noteRoom = 200
	left := 0
	for i, r := range s.Rows {
		row := []string{resultText(r), r.Cell, axesText(r), "", "", "", firstLine(r.Reason)}
		if r.Result == Skipped {
			row[1] = r.Name
		}
		if r.Result == Built || r.Result == Reused {
			row[3], row[5] = FormatSize(r.Size), "`"+short(r.SHA256)+"`"
		}
		if r.Result != Skipped {
			row[4] = FormatDuration(r.Duration)
		}
		for j, v := range row {
			if j != 5 {
				row[j] = md(v)
			}
		}
		line := "| " + strings.Join(row, " | ") + " |\n"
		if b.Len()+len(line)+noteRoom > limit {
			left = len(s.Rows) - i
			break
		}
		b.WriteString(line)
	}
	if left > 0 {
		fmt.Fprintf(&b, "\n%d more cells left out: a job summary holds at most %d bytes; manifest.json lists every cell.\n", left, MaxStepSummary)
	}
	if b.Len() > limit {
		return nil // not even the heading fits: write nothing rather than a broken table
	}
	_, err := w.Write(b.Bytes())
	return err
}

// md escapes text for a Markdown table cell, after escaping it for a terminal.
func md(s string) string {
	s = terminal.Escape(s)
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '|', '\\', '`', '*', '_', '[', ']', '<', '>', '#', '!', '~', '(', ')':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '&':
			b.WriteString("&amp;")
		case '\n', '\r', '\t':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
