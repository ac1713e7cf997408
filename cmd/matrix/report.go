package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/internal/terminal"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/progress"
	"github.com/matrixbuild/matrix/report"
)

func newReportCmd() *cobra.Command {
	var opts report.Options
	var output, format string
	cmd := &cobra.Command{
		Use:   "report [DIR]",
		Short: "Write DIR/report.html (default ./out) from DIR's manifest.json",
		Long: `Write report.html, one self-contained HTML page of the run that DIR's manifest.json
records: the run's inputs, then per target the matrix as grids of cells coloured by
result (passed, built but not tested, failed, skipped), each with its size, time,
sha256, tests and a link to its log in DIR/logs. matrix run writes it on every run;
this writes it again, with other axes or elsewhere.

The grids: the target's first axis down, its second across, one grid per value of
the others; --rows and --cols choose other axes (a target without the axis keeps
its default).

--format markdown prints instead the run's table of cells in Markdown (what matrix
run appends to a GitHub Actions job summary), to stdout or --output: for a step's
GITHUB_STEP_SUMMARY, e.g. of a merged output directory.`,
		Args: wrapArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "out"
			if len(args) == 1 {
				dir = args[0]
			}
			rec, err := manifest.ReadRecord(dir)
			if err != nil {
				return fmt.Errorf("report %s: %w", dir, err)
			}
			if rec.Manifest == nil {
				return fmt.Errorf("report %s: no %s there (matrix run writes it)", dir, manifest.FileName)
			}
			ctx := cmd.Context()
			switch format {
			case "html":
			case "markdown":
				return writeMarkdownSummary(cmd.OutOrStdout(), output, manifestSummary(dir, rec.Manifest))
			default:
				return usageError{fmt.Errorf("--format %q: want html or markdown", format)}
			}
			switch output {
			case "":
				err = report.WriteWith(ctx, dir, rec.Manifest, opts)
				output = filepath.Join(dir, report.FileName)
			case "-":
				w := bufio.NewWriter(cmd.OutOrStdout())
				if err = report.Render(ctx, w, rec.Manifest, opts); err == nil {
					return w.Flush()
				}
			default:
				err = atomicfile.WriteFrom(output, func(w io.Writer) error {
					bw := bufio.NewWriter(w)
					if err := report.Render(ctx, bw, rec.Manifest, opts); err != nil {
						return err
					}
					return bw.Flush()
				})
			}
			var oe *report.OptionError
			if errors.As(err, &oe) {
				// The axes named come from the manifest, which is hostile.
				return usageError{errors.New(terminal.Escape(oe.Error()))}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "matrix: wrote %s\n", terminal.Escape(output))
			return nil
		},
	}
	cmd.Flags().StringVar(&opts.Rows, "rows", "", "the axis down each grid (default: each target's first axis)")
	cmd.Flags().StringVar(&opts.Cols, "cols", "", "the axis across each grid (default: each target's second axis)")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the page to this file instead of DIR/report.html (- for stdout)")
	cmd.Flags().StringVar(&format, "format", "html", "html (report.html) or markdown (the table of cells, for a GitHub job summary; to stdout unless --output)")
	return cmd
}

// writeMarkdownSummary writes s as the Markdown table of a job summary, within
// GitHub's bound, to stdout or to the file output.
func writeMarkdownSummary(stdout io.Writer, output string, s progress.Summary) error {
	if output == "" || output == "-" {
		w := bufio.NewWriter(stdout)
		if err := s.WriteMarkdown(w, progress.MaxStepSummary); err != nil {
			return err
		}
		return w.Flush()
	}
	return atomicfile.WriteFrom(output, func(w io.Writer) error { return s.WriteMarkdown(w, progress.MaxStepSummary) })
}
