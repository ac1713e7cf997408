package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/matrixbuild/matrix/internal/terminal"
	"github.com/matrixbuild/matrix/plan"
	"github.com/spf13/cobra"
)

func newPlanCmd() *cobra.Command {
	var flags specFlags
	var sel selectFlags
	var asJSON bool
	var format string
	var runsOnFlags []string
	cmd := &cobra.Command{
		Use:   "plan [FILE] [TARGET...]",
		Short: "Show the cells a matrix file expands to, without building",
		Long: `plan expands the targets of FILE (default ./matrix.hcl; all targets unless some
are named) into cells and prints them in build order: a table by default, or with
--json every evaluated field of every cell, or with --format github the matrix of a
GitHub Actions workflow (README, "Running on many machines"). Each cell has an ID
that --cell takes here, in run and in lock, as --only and --shard (README,
"Selecting cells"). Cells that a skip block leaves out come after the others in the
table, with their reason; --json gives them in their place, with "skipped": REASON. Host variables named in pass_env are never read, and no cell
may use the value of a sensitive variable, so nothing secret is printed.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			path, targets := fileAndTargets(args)
			if _, err := sel.parse(); err != nil {
				return err
			}
			if asJSON && format != "table" && format != "json" {
				return usageError{fmt.Errorf("--json and --format %s: give one", format)}
			}
			if asJSON {
				format = "json"
			}
			if !slices.Contains([]string{"table", "json", "github"}, format) {
				return usageError{fmt.Errorf("--format %q: want table, json or github", format)}
			}
			runsOn, err := parseRunsOn(runsOnFlags)
			if err != nil {
				return err
			}
			if len(runsOnFlags) > 0 && format != "github" {
				return usageError{fmt.Errorf("--runs-on: only for --format github")}
			}
			_, cells, err := flags.load(cmd, path, targets)
			if err != nil {
				return err
			}
			if cells, err = sel.apply(cells); err != nil {
				return err
			}
			switch format {
			case "json":
				return writePlanJSON(cmd.OutOrStdout(), cells)
			case "github":
				return writePlanGitHub(cmd.OutOrStdout(), cells, runsOn)
			}
			return writePlanTable(cmd.OutOrStdout(), cells)
		},
	}
	flags.register(cmd)
	sel.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print every field of every cell as a JSON array (--format json)")
	cmd.Flags().StringVar(&format, "format", "table", "table; json (every field of every cell); github (one line of JSON for a GitHub Actions strategy.matrix: the cells to build, each with its ID, runner and axes)")
	cmd.Flags().StringArrayVar(&runsOnFlags, "runs-on", nil, "with --format github: the runner label of a cell platform, PLATFORM=LABEL (repeatable; default linux/amd64=ubuntu-24.04, linux/arm64=ubuntu-24.04-arm)")
	return cmd
}

// writePlanJSON prints the cells as an indented JSON array; the same plan gives the
// same bytes. A skipped cell is in its place with only what was evaluated of it.
func writePlanJSON(w io.Writer, cells []plan.Cell) error {
	out := make([]any, len(cells))
	for i, c := range cells {
		out[i] = c
		if c.Skip != "" {
			axes := c.Axes
			if axes == nil {
				axes = []plan.Axis{}
			}
			out[i] = skippedJSON{Name: c.Name(), ID: c.ID(), Target: c.Target, Axes: axes, Skip: c.Skip}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// skippedJSON is a skipped cell in plan --json: a skip block held, so nothing else of
// it was evaluated, and zero values would only mislead ("timeout": "0s"). Its keys
// come in the order of a cell's.
type skippedJSON struct {
	Name   string      `json:"name"`
	ID     string      `json:"id"`
	Target string      `json:"target"`
	Axes   []plan.Axis `json:"axes"`
	Skip   string      `json:"skipped"`
}

// writePlanTable prints one aligned row per cell to build, numbered in build order,
// then one per skipped cell with its reason. Axes are columns in the order targets
// declare them; a cell without some axis shows "-".
func writePlanTable(w io.Writer, cells []plan.Cell) error {
	var axes []string
	for _, c := range cells {
		for _, a := range c.Axes {
			if !slices.Contains(axes, a.Name) {
				axes = append(axes, a.Name)
			}
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := append(append([]string{"#", "ID", "TARGET"}, upper(axes)...), "IMAGE", "PLATFORM")
	withTests := slices.ContainsFunc(cells, func(c plan.Cell) bool { return len(c.Tests) > 0 })
	if withTests {
		header = append(header, "TESTS")
	}
	header = append(header, "ARTIFACT")
	fmt.Fprintln(tw, tableRow(header))
	n := 0
	for _, c := range cells {
		if c.Skip != "" {
			continue
		}
		n++
		platform := c.Platform
		if platform == "" {
			platform = "-"
		}
		row := append(axisRow(strconv.Itoa(n), c, axes), c.Image, platform)
		if withTests {
			row = append(row, testsColumn(c))
		}
		row = append(row, c.Artifact)
		fmt.Fprintln(tw, tableRow(row))
	}
	for _, c := range cells {
		if c.Skip != "" {
			// The reason is the row's last cell, so its length widens no column.
			row := append(axisRow("-", c, axes), "skipped: "+c.Skip)
			fmt.Fprintln(tw, tableRow(row))
		}
	}
	n = 0
	for _, c := range cells {
		if c.Skip != "" {
			continue
		}
		n++
		for _, t := range c.Tests {
			if t.Skip != "" {
				row := append(axisRow(strconv.Itoa(n), c, axes), "test "+testAxes(t)+" skipped: "+t.Skip)
				fmt.Fprintln(tw, tableRow(row))
			}
		}
	}
	return tw.Flush()
}

// testsColumn says which tests of a cell with test axes run: the values of its one
// axis ("node=20,22,24") or each test's axes, and where their platform is not the
// cell's, on which ("on linux/arm64"); "-" for a cell without tests.
func testsColumn(c plan.Cell) string {
	if c.CrossBuilt {
		return "- (cross-built)"
	}
	if c.Test != nil {
		return withPlatform("1", c, []plan.Test{*c.Test})
	}
	var run []plan.Test
	for _, t := range c.Tests {
		if t.Skip == "" {
			run = append(run, t)
		}
	}
	switch {
	case len(c.Tests) == 0:
		return "-"
	case len(run) == 0:
		return "none (all skipped)"
	}
	var names []string
	if len(run[0].Axes) == 1 {
		for _, t := range run {
			names = append(names, t.Axes[0].String())
		}
		return withPlatform(run[0].Axes[0].Name+"="+strings.Join(names, ","), c, run)
	}
	for _, t := range run {
		names = append(names, testAxes(t))
	}
	return withPlatform(strings.Join(names, " "), c, run)
}

// withPlatform adds to s the platforms of tests that are not the cell's.
func withPlatform(s string, c plan.Cell, tests []plan.Test) string {
	var other []string
	for _, t := range tests {
		if t.Platform != "" && t.Platform != c.Platform && !slices.Contains(other, t.Platform) {
			other = append(other, t.Platform)
		}
	}
	if len(other) > 0 {
		s += " on " + strings.Join(other, ",")
	}
	return s
}

// testAxes is a test's axes as name=value pairs, "node=18" or "node=18,os=x".
func testAxes(t plan.Test) string {
	parts := make([]string, len(t.Axes))
	for i, a := range t.Axes {
		parts[i] = a.Name + "=" + a.String()
	}
	return strings.Join(parts, ",")
}

// axisRow is the start of c's row: its number, ID, target and value of each axis.
func axisRow(number string, c plan.Cell, axes []string) []string {
	row := []string{number, c.ID(), c.Target}
	for _, name := range axes {
		v, ok := c.AxisValue(name)
		if !ok {
			v = "-"
		}
		row = append(row, v)
	}
	return row
}

// tableRow joins a row's cells with tabs, each escaped: values may come from --var or
// MATRIX_VAR_* (a CI branch name), and must neither steer the terminal nor, by a tab,
// shift the columns.
func tableRow(cells []string) string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = strings.ReplaceAll(terminal.Escape(c), "\t", `\t`)
	}
	return strings.Join(out, "\t")
}

func upper(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.ToUpper(n)
	}
	return out
}
