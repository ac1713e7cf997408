// Package report writes report.html: one self-contained HTML page of a run's
// manifest, the matrix as a grid of cells coloured by result, for a maintainer to look
// at, link from a pull request or attach to a release.
//
// The page needs nothing but itself: no script, no external style sheet, font or
// image, and a Content-Security-Policy that forbids every fetch, so it opens offline
// and from an artifact store the same. Logs are linked (logs/NAME.log, beside the
// page), never embedded, and every text the manifest holds is clipped, so the page's
// size is bounded by the number of cells (MaxCellBytes).
//
// Everything in a manifest is hostile: html/template escapes it for where it goes, it
// is escaped as on a terminal first (no bidi override reorders a cell), and a link is
// made only of a name that passes the output directory's name rule.
package report

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/internal/filename"
	"github.com/matrixbuild/matrix/manifest"
)

// FileName is the report's name in the output directory.
const FileName = "report.html"

// MaxCellBytes and MaxBaseBytes bound the page: it is at most MaxBaseBytes plus
// MaxCellBytes for each cell (artifact, failure and skipped cell) of the manifest,
// whatever the manifest's strings hold. A real cell takes about one KiB
// (report_test.go, TestReportSize).
const (
	MaxCellBytes = 16 << 10
	MaxBaseBytes = 64 << 10
)

// How much of each text from the manifest a cell shows, in runes (shown).
const (
	maxName    = 120 // an artifact's file name, a cell's axes
	maxReason  = 240 // an error's first line, a skip reason
	maxLine    = 120 // a test's one line, a warning
	maxTests   = 8   // tests listed per cell; the rest are counted
	maxWarn    = 2   // warnings listed per cell
	maxHeader  = 240 // a text of the run's inputs
	maxAxisKey = 60  // an axis's name or value in a grid's heading
)

// Options chooses the axes of the grids. An axis that a target does not have is
// ignored for that target; Render refuses one that no target has.
type Options struct {
	// Rows and Cols name the axes down and across each target's grids; "" takes the
	// default: the target's first axis down, its second across (of those the other
	// option does not take), and one grid per value of the rest.
	Rows, Cols string
}

// Write writes dir/report.html of m with the default layout, atomically (a
// reader sees the earlier page or the new one; a link named report.html is
// replaced, never followed).
func Write(ctx context.Context, dir string, m *manifest.Manifest) error {
	return WriteWith(ctx, dir, m, Options{})
}

// WriteWith is Write with the axes that opts chooses.
func WriteWith(ctx context.Context, dir string, m *manifest.Manifest, opts Options) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("writing %s: %w", filepath.Join(dir, FileName), err)
	}
	defer root.Close()
	f, err := atomicfile.CreateIn(root, FileName)
	if err != nil {
		return err
	}
	defer f.Abort()
	w := bufio.NewWriter(f)
	if err := Render(ctx, w, m, opts); err != nil {
		return fmt.Errorf("writing %s: %w", filepath.Join(dir, FileName), err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", filepath.Join(dir, FileName), err)
	}
	return f.Commit()
}

// Render writes the page of m to w.
func Render(ctx context.Context, w io.Writer, m *manifest.Manifest, opts Options) error {
	p, err := newPage(ctx, m, opts)
	if err != nil {
		return err
	}
	return pageTemplate.Execute(w, p)
}

// state is a cell's result, the class that colours it and its data-state.
type state string

const (
	passed  state = "passed"  // built, and every test that ran passed
	built   state = "built"   // built, not tested (no test, --skip-tests, cross-built)
	failed  state = "failed"  // no artifact: the build, a check or a test failed
	skipped state = "skipped" // a skip block held
)

// cell is one cell of the matrix as the page shows it.
type cell struct {
	ID       string // target[axis=value,...]
	State    state
	Label    string
	Name     string
	Href     string // the artifact, beside the page
	Size     string
	Time     string
	SHAShort string
	SHA      string
	Reason   string
	Tail     string // the last line of a failed cell's error (the last line its log shows)
	LogHref  string
	Log      string
	Reused   string
	Lock     string
	Tests    []string
	More     int // tests not listed
	Warnings []string

	target string
	axes   []manifest.Axis
}

type grid struct {
	Title   string // the values of the other axes
	RowAxis string
	ColAxis string
	Cols    []string
	Rows    []gridRow
}

type gridRow struct {
	Head  string
	Cells [][]*cell // per column: the cells there (none, one, or more when the manifest repeats one)
}

type section struct {
	Target string
	Axes   string
	Count  string
	Grids  []grid
}

type input struct{ Name, Value, Title string }

type page struct {
	Title    string
	Inputs   []input
	Counts   []count
	Sections []section
}

type count struct {
	State state
	N     int
}

// OptionError is Options that do not fit the manifest: an axis no cell has, or the
// same axis for rows and columns.
type OptionError struct{ Reason string }

func (e *OptionError) Error() string { return e.Reason }

func newPage(ctx context.Context, m *manifest.Manifest, opts Options) (*page, error) {
	if opts.Rows != "" && opts.Rows == opts.Cols {
		return nil, &OptionError{fmt.Sprintf("rows and columns are both the axis %q: choose two different axes", opts.Rows)}
	}
	cells := cellsOf(m)
	if err := checkAxis(cells, "rows", opts.Rows); err != nil {
		return nil, err
	}
	if err := checkAxis(cells, "columns", opts.Cols); err != nil {
		return nil, err
	}
	p := &page{Title: "matrix run " + shown(m.RunID, maxHeader), Inputs: inputsOf(m)}
	n := map[state]int{}
	for _, c := range cells {
		n[c.State]++
	}
	for _, s := range []state{passed, built, failed, skipped} {
		p.Counts = append(p.Counts, count{s, n[s]})
	}
	byTarget := map[string][]*cell{}
	var targets []string
	for _, c := range cells {
		if _, ok := byTarget[c.target]; !ok {
			targets = append(targets, c.target)
		}
		byTarget[c.target] = append(byTarget[c.target], c)
	}
	slices.Sort(targets)
	for _, t := range targets {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p.Sections = append(p.Sections, sectionOf(t, byTarget[t], opts))
	}
	return p, nil
}

// checkAxis refuses an axis that no cell has.
func checkAxis(cells []*cell, what, name string) error {
	if name == "" {
		return nil
	}
	var names []string
	for _, c := range cells {
		for _, a := range c.axes {
			if a.Name == name {
				return nil
			}
			if !slices.Contains(names, a.Name) {
				names = append(names, a.Name)
			}
		}
	}
	return &OptionError{fmt.Sprintf("no cell has the axis %q for the %s (the axes: %s)", name, what, strings.Join(names, ", "))}
}

func inputsOf(m *manifest.Manifest) []input {
	in := []input{
		{"spec", shown(m.Spec.Path, maxHeader), ""},
		{"spec sha256", shown(m.Spec.SHA256, maxHeader), ""},
	}
	if m.Lock != nil {
		in = append(in, input{"lock file", shown(m.Lock.Path, maxHeader), ""},
			input{"lock sha256", shown(m.Lock.SHA256, maxHeader), ""})
	}
	var locks []string
	for _, a := range m.Artifacts {
		if a.LockSHA256 != "" {
			locks = append(locks, a.File)
		}
	}
	if len(locks) > 0 {
		in = append(in, input{"lock", fmt.Sprintf("%d artifact(s) installed from their lock entries, each checked against the entry's sha256", len(locks)), ""})
	}
	in = append(in,
		input{"tool", shown(m.Tool+" "+m.ToolVersion, maxHeader), ""},
		input{"run", shown(m.RunID, maxHeader), ""},
		input{"started", m.Started.UTC().Format(time.RFC3339), ""},
		input{"took", durationString(m.Finished.Sub(m.Started).Seconds()), ""},
		input{"SOURCE_DATE_EPOCH", fmt.Sprint(m.SourceEpoch), ""},
		input{"SHA256SUMS sha256", shown(m.SumsSHA256, maxHeader), ""},
	)
	if m.SkipTests {
		in = append(in, input{"tests", "skipped (--skip-tests)", ""})
	}
	if m.AllowDrift {
		in = append(in, input{"drift", "allowed (--allow-drift)", ""})
	}
	return in
}

// cellsOf is every cell the manifest records: artifacts, failures, skipped cells.
func cellsOf(m *manifest.Manifest) []*cell {
	var cells []*cell
	for _, a := range m.Artifacts {
		cells = append(cells, artifactCell(m, a))
	}
	for _, f := range m.Failed {
		cells = append(cells, failedCell(f))
	}
	for _, s := range m.Skipped {
		c := &cell{State: skipped, Label: "skipped", target: s.Target, axes: s.Axes}
		c.Name = shown(s.Cell, maxName)
		c.Reason = shown(s.Reason, maxReason)
		cells = append(cells, c)
	}
	for _, c := range cells {
		c.ID = shown(c.target+"["+axesString(c.axes)+"]", maxName)
	}
	return cells
}

func artifactCell(m *manifest.Manifest, a manifest.Artifact) *cell {
	c := &cell{State: built, Label: "built, not tested", target: a.Target, axes: a.Axes}
	c.Name = shown(a.File, maxName)
	if filename.Check(a.File) == nil {
		c.Href = "./" + url.PathEscape(a.File)
	}
	c.Size = sizeString(a.Size)
	c.Time = durationString(a.DurationSecs)
	c.SHA = shown(a.SHA256, 64+8)
	c.SHAShort = shown(a.SHA256, 13) // 12 characters and "…"
	c.LogHref, c.Log = logLink(a.Log)
	if a.RunID != "" && a.RunID != m.RunID {
		c.Reused = shown("reused from run "+a.RunID, maxLine)
	}
	if a.LockSHA256 != "" && !a.Drift {
		c.Lock = "installed from its lock entry: sha256 as recorded"
	}
	tests := a.Tests
	if a.Test != nil {
		tests = []manifest.Test{*a.Test}
	}
	ran := false
	for _, t := range tests {
		if t.Skipped == "" {
			ran = true
		}
	}
	switch {
	case ran:
		c.State, c.Label = passed, "passed"
	case a.CrossBuilt:
		c.Label = "built, not tested (cross-built)"
	case m.SkipTests:
		c.Label = "built, not tested (--skip-tests)"
	}
	c.Tests, c.More = testLines(tests)
	warnings := a.Warnings
	if a.Drift {
		warnings = append([]string{"drift: sha256 differs from the lock entry's " + a.LockSHA256}, warnings...)
	}
	for i, w := range warnings {
		if i == maxWarn {
			c.Warnings = append(c.Warnings, fmt.Sprintf("and %d more", len(warnings)-maxWarn))
			break
		}
		c.Warnings = append(c.Warnings, shown(firstLine(w), maxLine))
	}
	return c
}

func failedCell(f manifest.Failure) *cell {
	c := &cell{State: failed, Label: "failed", target: f.Target, axes: f.Axes}
	c.Name = shown(f.Artifact, maxName)
	c.Reason = shown(firstLine(f.Error), maxReason)
	if tail := lastLine(f.Error); tail != firstLine(f.Error) {
		c.Tail = shown(tail, maxLine)
	}
	c.LogHref, c.Log = logLink(f.Log)
	tests := f.Tests
	if f.Test != nil {
		tests = []manifest.Test{*f.Test}
	}
	c.Tests, c.More = testLines(tests)
	return c
}

// testLines is one line per test: its axes, its result and the last line of its
// output; at most maxTests, and how many more there are.
func testLines(tests []manifest.Test) ([]string, int) {
	var lines []string
	for i, t := range tests {
		if i == maxTests {
			return lines, len(tests) - maxTests
		}
		var b strings.Builder
		if len(t.Axes) > 0 {
			b.WriteString(axesString(t.Axes) + ": ")
		}
		switch {
		case t.Skipped != "":
			b.WriteString("skipped: " + t.Skipped)
		case t.Passed:
			b.WriteString("passed in " + durationString(t.DurationSecs))
		default:
			b.WriteString("failed in " + durationString(t.DurationSecs))
		}
		if out := lastLine(t.Output); out != "" && t.Skipped == "" {
			b.WriteString(": " + out)
		}
		lines = append(lines, shown(b.String(), maxLine))
	}
	return lines, 0
}

// logLink is the link to a log the manifest names, logs/NAME.log or
// logs/NAME.log.failed of a NAME that passes the name rule; no link for anything else.
func logLink(log string) (href, text string) {
	rest, ok := strings.CutPrefix(log, "logs/")
	if !ok {
		return "", ""
	}
	name, ok := strings.CutSuffix(rest, ".log.failed")
	if !ok {
		if name, ok = strings.CutSuffix(rest, ".log"); !ok {
			return "", ""
		}
	}
	if filename.Check(name) != nil {
		return "", ""
	}
	return "logs/" + url.PathEscape(rest), shown(log, maxName)
}
