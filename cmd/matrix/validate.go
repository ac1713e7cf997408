package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newValidateCmd() *cobra.Command {
	var flags specFlags
	cmd := &cobra.Command{
		Use:   "validate [FILE]",
		Short: "Check a matrix file and expand every target, without building",
		Long: `validate parses FILE (default ./matrix.hcl), evaluates its variables and locals,
expands every target into cells and checks every cell. It prints all problems found,
with their place in the file, and exits 1 if there are any.`,
		Args: wrapArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, _ := fileAndTargets(args)
			file, cells, err := flags.load(cmd, path, nil)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "valid: %s, %s\n",
				plural(len(file.TargetNames()), "target"), plural(len(cells), "cell"))
			return err
		},
	}
	flags.register(cmd)
	return cmd
}

func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
