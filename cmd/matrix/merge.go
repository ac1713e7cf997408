package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/matrixbuild/matrix/internal/terminal"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/merge"
	"github.com/matrixbuild/matrix/report"
	"github.com/matrixbuild/matrix/runner"
)

func newMergeCmd() *cobra.Command {
	var flags specFlags
	var file string
	var partial bool
	cmd := &cobra.Command{
		Use:   "merge OUT DIR...",
		Short: "Join the output directories of a matrix's shards into one",
		Long: `merge joins the output directories of shards of one matrix file (runs of parts of
its plan, on other machines or in other processes) into OUT, as one run would have
left it: every artifact the shards' records list, re-hashed against its shard's
record while it is copied, with its log; one manifest.json (each artifact keeps the
run_id and engine that built it; "shards" records the shards' runs) and one
SHA256SUMS. The plan of --file (with --var and --var-file as for run) says which
cells there must be: each cell to build must come from a shard, and two shards
that built the same artifact must agree on its bytes. A shard directory may carry
the lock file its run wrote, under the lock file's name (matrix.lock.json): the
entries of the cells it built, and its pinned registry calls, are joined into the
matrix file's lock file.

OUT must not exist, or be empty: it is built beside, under a hidden temporary name,
and renamed into place, so a merge that fails writes nothing.`,
		Args: wrapArgs(cobra.MinimumNArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, _ := fileAndTargets([]string{file})
			p, err := flags.loadProject(cmd, path, nil)
			if err != nil {
				return err
			}
			out, dirs := args[0], args[1:]
			vars, _ := p.file.Variables()
			res, err := merge.Merge(cmd.Context(), merge.Options{
				Out:         out,
				Shards:      dirs,
				Cells:       p.cells,
				Spec:        manifest.SpecFile{Path: path, SHA256: p.file.SHA256()},
				Partial:     partial,
				Variables:   vars,
				Lock:        p.lock.file,
				LockPath:    p.lock.path,
				LockName:    filepath.Base(p.lock.path),
				ToolVersion: version,
				RunID:       runner.NewRunID(),
				Now:         time.Now,
				Finish:      mergeFinish,
			})
			if err != nil {
				return fmt.Errorf("merge into %s: %w", out, err)
			}
			stderr := cmd.ErrOrStderr()
			for _, name := range res.Ignored {
				fmt.Fprintf(stderr, "matrix: %s: not a cell of the plan, not taken\n", terminal.Escape(name))
			}
			if res.LockWritten {
				fmt.Fprintf(stderr, "matrix: %s: joined the shards' lock entries\n", terminal.Escape(p.lock.path))
			}
			m := res.Manifest
			fmt.Fprintf(cmd.OutOrStdout(), "merged %s from %s (%d taken twice with the same bytes), %d missing; manifest: %s\n",
				plural(len(m.Artifacts), "artifact"), plural(len(dirs), "shard"), res.Duplicates, len(res.Missing),
				terminal.Escape(filepath.Join(out, manifest.FileName)))
			if len(res.Missing) > 0 {
				fmt.Fprintf(stderr, "matrix: --partial: %s built by no shard: %s\n", plural(len(res.Missing), "cell"), nameList(res.Missing))
			}
			return nil
		},
	}
	flags.register(cmd)
	cmd.Flags().StringVarP(&file, "file", "f", defaultFile, "the matrix file whose plan the shards ran (a directory stands for its matrix.hcl)")
	cmd.Flags().BoolVar(&partial, "partial", false, "merge what the shards built and record the missing cells as failed, instead of failing")
	return cmd
}

// mergeFinish adds to a merged output directory, before it is put in place, what is
// made of its manifest rather than of the shards: report.html. Its error fails the
// merge, which then writes nothing.
func mergeFinish(ctx context.Context, dir string, m *manifest.Manifest) error {
	return report.Write(ctx, dir, m)
}
