package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/matrixbuild/matrix/manifest"
)

func newVerifyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify [DIR]",
		Short: "Re-hash every artifact in DIR (default ./out) against manifest.json and SHA256SUMS",
		Args:  wrapArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "out"
			if len(args) == 1 {
				dir = args[0]
			}
			checked, problems, err := manifest.Verify(dir)
			if err != nil {
				return fmt.Errorf("verify %s: %w", dir, err)
			}
			for _, p := range problems {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s\n", dir, p)
			}
			if len(problems) > 0 {
				return reportedError{fmt.Errorf("%d problem(s)", len(problems))}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %d artifacts in %s match manifest.json and SHA256SUMS\n", checked, dir)
			return nil
		},
	}
}
