package progress

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/matrixbuild/matrix/internal/terminal"
)

// Row is one cell in the summary of a run.
type Row struct {
	Cell     string // the artifact name
	Name     string // the cell's name (target and axes)
	Target   string
	Axes     []Axis
	Result   Result
	Retested bool
	Size     int64
	Duration time.Duration
	SHA256   string
	Reason   string // failed: the error; skipped: why
}

// Summary is what a run did, for the table and the closing line at its end.
type Summary struct {
	Rows    []Row
	Elapsed time.Duration
	// Manifest is the path of the records the run wrote; "" when it wrote none, and
	// then NotWritten says why.
	Manifest   string
	NotWritten string
	// Note follows the manifest's path (a records write that is in place but not durable).
	Note string
}

// Counts sums the rows' results.
func (s Summary) Counts() Counts {
	c := Counts{Elapsed: s.Elapsed, Manifest: s.Manifest}
	for _, r := range s.Rows {
		switch r.Result {
		case Built:
			c.Built++
		case Reused:
			c.Reused++
		case Failed:
			c.Failed++
		case Skipped:
			c.Skipped++
		}
	}
	return c
}

// ClosingLine is "16 built, 2 reused, 1 failed, 3 skipped in 2m31s; out/manifest.json"
// (skipped only when there are any), or "...; out/manifest.json not written: WHY".
func (s Summary) ClosingLine() string {
	c := s.Counts()
	line := fmt.Sprintf("%d built, %d reused, %d failed", c.Built, c.Reused, c.Failed)
	if c.Skipped > 0 {
		line += fmt.Sprintf(", %d skipped", c.Skipped)
	}
	line += " in " + FormatDuration(s.Elapsed)
	switch {
	case s.Manifest != "" && s.Note != "":
		line += "; " + s.Manifest + " (" + s.Note + ")"
	case s.Manifest != "":
		line += "; " + s.Manifest
	case s.NotWritten != "":
		line += "; " + s.NotWritten
	}
	return line
}

// resultText is a row's result as the tables show it.
func resultText(r Row) string {
	switch {
	case r.Result == Reused && r.Retested:
		return "reused, retested"
	case r.Result == Failed:
		return "FAILED"
	}
	return string(r.Result)
}

// WriteText writes the table of cells, in plan order, and the closing line. Every
// value is escaped (internal/terminal), each cell of the table on one line: an error
// may quote a container's output.
func (s Summary) WriteText(w io.Writer) error {
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 4, 2, ' ', 0)
	withAxes := s.hasAxes()
	header := "RESULT\tCELL\tAXES\tSIZE\tTIME\tSHA256\tREASON"
	if !withAxes {
		header = "RESULT\tCELL\tSIZE\tTIME\tSHA256\tREASON"
	}
	fmt.Fprintln(tw, header)
	for _, r := range s.Rows {
		row := []string{resultText(r), r.Cell, axesText(r), "-", "-", "-", firstLine(r.Reason)}
		if r.Result == Skipped {
			row[1] = r.Name
		}
		if r.Result == Built || r.Result == Reused {
			row[3], row[5] = FormatSize(r.Size), short(r.SHA256)
		}
		if r.Result != Skipped {
			row[4] = FormatDuration(r.Duration)
		}
		for i, v := range row {
			// A tab or a newline in a value would break the table.
			row[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(terminal.Escape(v))
		}
		if !withAxes {
			row = append(row[:2], row[3:]...)
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for line := range bytes.Lines(table.Bytes()) {
		if _, err := w.Write(append(bytes.TrimRight(line, " \n"), '\n')); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, terminal.EscapeLines(s.ClosingLine()))
	return err
}

// hasAxes reports whether a cell has axes: without any, the tables leave their column out.
func (s Summary) hasAxes() bool {
	for _, r := range s.Rows {
		if len(r.Axes) > 0 {
			return true
		}
	}
	return false
}

func axesText(r Row) string {
	parts := make([]string, len(r.Axes))
	for i, a := range r.Axes {
		parts[i] = a.Name + "=" + a.Value
	}
	return strings.Join(parts, " ")
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// firstLine is the first line of a reason of several lines and its last, which for
// a failed script is the last line of its output.
func firstLine(s string) string {
	first, rest, ok := strings.Cut(s, "\n")
	if !ok {
		return s
	}
	rest = strings.TrimSpace(rest)
	if i := strings.LastIndexByte(rest, '\n'); i >= 0 {
		rest = strings.TrimSpace(rest[i+1:])
	}
	return first + " ... " + rest
}

// FormatDuration is a duration as the summary shows it: "850ms", "12.3s", "2m31s".
func FormatDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// FormatSize is a size in bytes as the summary shows it: "950 B", "17.2 MiB".
func FormatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
