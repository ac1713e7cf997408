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
			rep, err := manifest.Verify(cmd.Context(), dir)
			if err != nil {
				return fmt.Errorf("verify %s: %w", dir, err)
			}
			stderr := cmd.ErrOrStderr()
			records := manifest.FileName
			if rep.Pending != "" {
				records = rep.Pending
				fmt.Fprintf(stderr, "%s: a run stopped between writing %s and %s: checking against the manifest it left complete, %s; the next matrix run into %s puts it in place\n",
					dir, manifest.SumsName, manifest.FileName, rep.Pending, dir)
			}
			for _, n := range rep.Notes {
				fmt.Fprintf(stderr, "%s: note: %s\n", dir, n)
			}
			for _, p := range rep.Problems {
				fmt.Fprintf(stderr, "%s: %s\n", dir, p)
			}
			if len(rep.Problems) > 0 {
				return reportedError{fmt.Errorf("%d problem(s)", len(rep.Problems))}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %d artifacts in %s match %s and %s\n", rep.Checked, dir, records, manifest.SumsName)
			return nil
		},
	}
}
