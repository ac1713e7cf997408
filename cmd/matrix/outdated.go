package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/matrixbuild/matrix/lock"
	"github.com/matrixbuild/matrix/plan"
	"github.com/matrixbuild/matrix/resolve"
)

func newOutdatedCmd() *cobra.Command {
	var flags specFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "outdated [FILE]",
		Short: "Show what the registry calls pinned in matrix.lock.json resolve to today",
		Long: `outdated resolves every npm_versions and npm_package call of FILE (default
./matrix.hcl) on the npm registry, as matrix update would, and compares the answers
with the pins in matrix.lock.json: the versions each call would gain and lose (and
why: deprecated, unpublished, out of the range, superseded), and the cells that would
appear, disappear or change. It writes nothing. Exit 0 when the lock is current, 1
when something is outdated (or cannot be resolved), 2 on a wrong command line.`,
		Args: wrapArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, _ := fileAndTargets(args)
			c, err := flags.compareToday(cmd, path)
			if err != nil {
				return err
			}
			if asJSON {
				err = writeComparisonJSON(cmd.OutOrStdout(), c)
			} else {
				err = writeComparison(cmd.OutOrStdout(), c)
				if err == nil {
					_, err = fmt.Fprintln(cmd.OutOrStdout(), c.summary())
				}
			}
			if err == nil && c.outdated() {
				err = reportedError{fmt.Errorf("%s is outdated", c.lock.path)}
			}
			return err
		},
	}
	flags.registerVars(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the comparison as JSON")
	return cmd
}

// comparison is a matrix file planned twice: with the pins of its lock, and with what
// the registry answers today.
type comparison struct {
	lock  *lockFile
	calls []resolve.Change
	cells []resolve.CellChange
	// today are the calls of today's plan and their answers: what matrix update pins.
	today []lock.Resolution
	// pinnedErrors counts the errors of the plan with the pins (a pinned version has
	// gone, say): its cells were not compared.
	pinnedErrors int
}

// compareToday plans the file with its pins and with today's answers, one registry
// client for both. Problems of today's plan are diagnostics (the command fails);
// those of the plan with the pins are only counted, since updating the pins is what
// mends them.
func (f *specFlags) compareToday(cmd *cobra.Command, path string) (*comparison, error) {
	lf, err := readLock(path, f.lockFile)
	if err != nil {
		return nil, err
	}
	reg, now := newRegistry(path), time.Now()
	pinned, err := resolve.New(reg, lf.file.Resolved, resolve.Options{Mode: resolve.Pinned, Now: now})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", lf.path, err)
	}
	today, err := resolve.New(reg, lf.file.Resolved, resolve.Options{Mode: resolve.Fresh, Now: now})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", lf.path, err)
	}
	_, after, err := f.evaluate(cmd, path, nil, today, cmd.ErrOrStderr())
	if err != nil {
		return nil, err
	}
	// Today's plan's calls are what update pins, and what the comparison is of.
	c := &comparison{lock: lf, today: today.Used()}
	_, before, err := f.evaluate(cmd, path, nil, pinned, nil)
	var diags diagnosticsError
	switch {
	case errors.As(err, &diags):
		c.pinnedErrors = diags.errors
	case err != nil:
		return nil, err
	default:
		c.cells = resolve.CompareCells(before, after)
	}
	if c.calls, err = resolve.Compare(cmd.Context(), today, c.today); err != nil {
		return nil, err
	}
	return c, nil
}

// outdated reports whether matrix update would change a pin of a call the file makes,
// or a cell; pins the file no longer calls are dropped by update but outdate nothing.
func (c *comparison) outdated() bool {
	return len(c.cells) > 0 || c.pinnedErrors > 0 || c.count(resolve.Changed)+c.count(resolve.NotPinned) > 0
}

// count returns how many calls have a status.
func (c *comparison) count(s resolve.Status) int {
	n := 0
	for _, ch := range c.calls {
		if ch.Status == s {
			n++
		}
	}
	return n
}

// summary is the comparison's last line. Its counts are those of matrix update's
// line: changed, new (not pinned yet) and dropped (no longer called).
func (c *comparison) summary() string {
	pinned := c.count(resolve.Current) + c.count(resolve.Changed)
	unused := ""
	switch n := c.count(resolve.Unused); n {
	case 0:
	case 1:
		unused = "1 pin no longer called (matrix update drops it)"
	default:
		unused = fmt.Sprintf("%d pins no longer called (matrix update drops them)", n)
	}
	if !c.outdated() {
		verb := "resolve"
		if pinned == 1 {
			verb = "resolves"
		}
		line := fmt.Sprintf("%s is current: %s %s as pinned", c.lock.path, plural(pinned, "registry call"), verb)
		if unused != "" {
			line += "; " + unused
		}
		return line
	}
	verb := "resolve"
	if c.count(resolve.Changed) == 1 {
		verb = "resolves"
	}
	parts := []string{fmt.Sprintf("%d of %s %s otherwise today", c.count(resolve.Changed), plural(pinned, "pinned call"), verb)}
	if n := c.count(resolve.NotPinned); n > 0 {
		parts = append(parts, fmt.Sprintf("%d not pinned yet", n))
	}
	if unused != "" {
		parts = append(parts, unused)
	}
	added, removed, changed := 0, 0, 0
	for _, ch := range c.cells {
		switch ch.Change {
		case resolve.CellAdded:
			added++
		case resolve.CellRemoved:
			removed++
		default:
			changed++
		}
	}
	cells := fmt.Sprintf("cells: %d added, %d removed, %d changed", added, removed, changed)
	if c.pinnedErrors > 0 {
		cells = fmt.Sprintf("the pins no longer plan (%s; matrix plan shows them)", plural(c.pinnedErrors, "error"))
	}
	parts = append(parts, cells)
	return fmt.Sprintf("%s is outdated: %s; matrix update pins today's answers", c.lock.path, strings.Join(parts, ", "))
}

// writeComparison prints each call that is not current, then the cells that differ.
func writeComparison(w io.Writer, c *comparison) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, ch := range c.calls {
		switch ch.Status {
		case resolve.NotPinned:
			fmt.Fprintf(tw, "%s: not pinned yet\n", ch.Call)
		case resolve.Unused:
			fmt.Fprintf(tw, "%s: pinned, no longer called (matrix update drops it)\n", ch.Call)
		case resolve.Changed:
			fmt.Fprintf(tw, "%s: changed\n", ch.Call)
			writeCallChanges(tw, ch)
		}
	}
	if len(c.cells) > 0 {
		fmt.Fprintln(tw, "cells:")
	}
	for _, cc := range c.cells {
		line := "  " + cellMark(cc.Change) + "\t" + cc.Cell
		if note := cellNote(cc); note != "" {
			line += "\t" + note
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

func writeCallChanges(w io.Writer, ch resolve.Change) {
	for _, a := range ch.Added {
		if a.Published.IsZero() {
			fmt.Fprintf(w, "  +\t%s\n", a.Version)
		} else {
			fmt.Fprintf(w, "  +\t%s\tpublished %s\n", a.Version, a.Published.Format(time.DateOnly))
		}
	}
	for _, r := range ch.Removed {
		fmt.Fprintf(w, "  -\t%s\t%s\n", r.Version, r.Reason)
	}
	for _, f := range ch.Fields {
		fmt.Fprintf(w, "  ~\t%s\t%s -> %s\n", f.Name, jsonText(f.Pinned), jsonText(f.Today))
	}
}

func jsonText(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}

func cellMark(change string) string {
	switch change {
	case resolve.CellAdded:
		return "+"
	case resolve.CellRemoved:
		return "-"
	}
	return "~"
}

// cellNote says what changes of a cell besides being there or not.
func cellNote(cc resolve.CellChange) string {
	switch {
	case cc.Change == resolve.CellBuild:
		return "its build changes"
	case cc.Change == resolve.CellAdded && cc.Skipped != "":
		return "skipped: " + cc.Skipped
	case cc.Change == resolve.CellRemoved && cc.WasSkipped != "":
		return "was skipped: " + cc.WasSkipped
	case cc.Change == resolve.CellAdded, cc.Change == resolve.CellRemoved:
		return ""
	case cc.WasSkipped == "":
		return "now skipped: " + cc.Skipped
	case cc.Skipped == "":
		return "no longer skipped (was: " + cc.WasSkipped + ")"
	}
	return "skipped for another reason: " + cc.Skipped + " (was: " + cc.WasSkipped + ")"
}

// comparisonJSON is outdated --json: every call, current ones included, and the cells
// that differ; "cells" is null when the plan with the pins has errors.
type comparisonJSON struct {
	Lock         string               `json:"lock"`
	Outdated     bool                 `json:"outdated"`
	Calls        []resolve.Change     `json:"calls"`
	Cells        []resolve.CellChange `json:"cells"`
	PinnedErrors int                  `json:"pinned_plan_errors"`
}

func writeComparisonJSON(w io.Writer, c *comparison) error {
	out := comparisonJSON{Lock: c.lock.path, Outdated: c.outdated(), Calls: c.calls, Cells: c.cells, PinnedErrors: c.pinnedErrors}
	if out.Calls == nil {
		out.Calls = []resolve.Change{}
	}
	if out.Cells == nil && c.pinnedErrors == 0 {
		out.Cells = []resolve.CellChange{}
	}
	for i := range out.Cells {
		if out.Cells[i].Axes == nil {
			out.Cells[i].Axes = []plan.Axis{}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
