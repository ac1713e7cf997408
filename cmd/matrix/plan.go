package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/matrixbuild/matrix/plan"
	"github.com/spf13/cobra"
)

func newPlanCmd() *cobra.Command {
	var flags specFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "plan [FILE] [TARGET...]",
		Short: "Show the cells a matrix file expands to, without building",
		Long: `plan expands the targets of FILE (default ./matrix.hcl; all targets unless some
are named) into cells and prints them in build order: a table by default, or with
--json every evaluated field of every cell. Host variables named in pass_env are
never read, so nothing secret is printed.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			path, targets := fileAndTargets(args)
			_, cells, err := flags.load(cmd, path, targets)
			if err != nil {
				return err
			}
			if asJSON {
				return writePlanJSON(cmd.OutOrStdout(), cells)
			}
			return writePlanTable(cmd.OutOrStdout(), cells)
		},
	}
	flags.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print every field of every cell as a JSON array")
	return cmd
}

// writePlanJSON prints the cells as an indented JSON array; the same plan gives the
// same bytes.
func writePlanJSON(w io.Writer, cells []plan.Cell) error {
	if cells == nil {
		cells = []plan.Cell{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(cells)
}

// writePlanTable prints one aligned row per cell. Axes are columns in the order targets
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
	header := append(append([]string{"#", "TARGET"}, upper(axes)...), "IMAGE", "PLATFORM", "ARTIFACT")
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for i, c := range cells {
		row := []string{fmt.Sprint(i + 1), c.Target}
		for _, name := range axes {
			v, ok := c.AxisValue(name)
			if !ok {
				v = "-"
			}
			row = append(row, v)
		}
		platform := c.Platform
		if platform == "" {
			platform = "-"
		}
		row = append(row, c.Image, platform, c.Artifact)
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

func upper(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.ToUpper(n)
	}
	return out
}
