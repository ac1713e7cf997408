package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/matrixbuild/matrix/plan"
)

func newValidateCmd() *cobra.Command {
	var flags specFlags
	cmd := &cobra.Command{
		Use:   "validate [FILE]",
		Short: "Check a matrix file and expand every target, without building",
		Long: `validate parses FILE (default ./matrix.hcl), evaluates its variables and locals,
expands every target into cells and checks every cell. It prints all problems found,
with their place in the file, and exits 1 if there are any; otherwise it counts the
targets and cells, and the cells of them that skip blocks leave out.`,
		Args: wrapArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, _ := fileAndTargets(args)
			file, cells, err := flags.load(cmd, path, nil)
			if err != nil {
				return err
			}
			line := fmt.Sprintf("valid: %s, %s", plural(len(file.TargetNames()), "target"), plural(len(cells), "cell"))
			if n := skipped(cells); n > 0 {
				line += fmt.Sprintf(", %d skipped", n)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), line)
			return err
		},
	}
	flags.register(cmd)
	return cmd
}

// skipped counts the cells a skip block holds for; they are among the cells counted.
func skipped(cells []plan.Cell) int {
	n := 0
	for _, c := range cells {
		if c.Skip != "" {
			n++
		}
	}
	return n
}

func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
