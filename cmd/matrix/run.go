package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/matrixbuild/matrix/engine"
	"github.com/matrixbuild/matrix/pack"
	"github.com/matrixbuild/matrix/runner"
)

type runFlags struct {
	spec          specFlags
	out           string
	jobs          int
	keepGoing     bool
	pull          string
	skipTests     bool
	allowDangling bool
	quiet         bool
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [FILE] [TARGET...]",
		Short: "Build every cell of the selected targets (all by default)",
		Long: `Build every cell in a fresh Docker container, pack the collected tree into a
reproducible artifact in the output directory, test it, and record the run in
SHA256SUMS and manifest.json. FILE defaults to ./matrix.hcl.

The Docker engine comes from the environment (DOCKER_HOST, DOCKER_TLS_VERIFY,
DOCKER_CERT_PATH). SOURCE_DATE_EPOCH sets the timestamp inside artifacts.`,
		Args: wrapArgs(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error { return runRun(cmd, args, f) },
	}
	f.spec.register(cmd)
	fl := cmd.Flags()
	fl.StringVarP(&f.out, "out", "o", "out", "output directory")
	fl.IntVarP(&f.jobs, "jobs", "j", runner.DefaultJobs, "cells built at once")
	fl.BoolVar(&f.keepGoing, "keep-going", false, "build every cell even after one fails, and report all failures")
	fl.StringVar(&f.pull, "pull", string(engine.PullMissing), "when to pull images: missing, always or never")
	fl.BoolVar(&f.skipTests, "skip-tests", false, "do not run the targets' test blocks (recorded in the manifest)")
	fl.BoolVar(&f.allowDangling, "allow-dangling", false, "drop dangling symlinks from artifacts instead of failing the cell")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "do not echo the containers' output (it is still in OUT/logs)")
	return cmd
}

func runRun(cmd *cobra.Command, args []string, f runFlags) error {
	pull, err := engine.ParsePullPolicy(f.pull)
	if err != nil {
		return usageError{err}
	}
	if f.jobs < 1 || f.jobs > 256 {
		return usageError{fmt.Errorf("--jobs %d: want a number from 1 to 256", f.jobs)}
	}
	if f.out == "" {
		return usageError{errors.New("--out: empty output directory")}
	}
	epochTime, err := pack.EpochFromEnv(os.Environ())
	if err != nil {
		return usageError{err}
	}
	path, targets := fileAndTargets(args)
	file, cells, err := f.spec.load(cmd, path, targets)
	if err != nil {
		return err
	}
	if len(cells) == 0 {
		return fmt.Errorf("%s: the selected targets have no cells", path)
	}

	ctx := cmd.Context()
	eng, err := engine.Connect(ctx, pull)
	if err != nil {
		return err
	}
	defer eng.Close()
	stderr := cmd.ErrOrStderr()
	left, err := eng.RemoveLeftovers(ctx)
	if err != nil {
		return err
	}
	for _, l := range left {
		fmt.Fprintf(stderr, "matrix: removed container %.12s of an earlier run (%s) that was killed: %s\n", l.ID, l.Run, l.Cell)
	}

	var progress io.Writer = stderr
	if f.quiet {
		progress = statusOnly{stderr}
	}
	runID := runner.NewRunID()
	fmt.Fprintf(stderr, "matrix: run %s: %d cells, %d at a time, engine %s, output %s\n", runID, len(cells), f.jobs, eng.Host(), f.out)
	results, err := runner.Run(ctx, eng, cells, runner.Options{
		OutDir:        f.out,
		Jobs:          f.jobs,
		KeepGoing:     f.keepGoing,
		SkipTests:     f.skipTests,
		Epoch:         epochTime,
		Environ:       os.Environ(),
		Progress:      progress,
		RunID:         runID,
		ToolVersion:   version,
		SpecPath:      path,
		SpecSHA256:    file.SHA256(),
		AllowDangling: f.allowDangling,
	})
	if results != nil {
		printSummary(cmd.OutOrStdout(), f.out, results)
	}
	var runErr *runner.RunError
	if errors.As(err, &runErr) {
		return reportedError{err}
	}
	return err
}

// printSummary prints one line per cell, in plan order.
func printSummary(w io.Writer, out string, results []runner.Result) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
			fmt.Fprintf(tw, "FAILED\t%s\t%s\n", r.Cell.Artifact, firstLine(r.Err.Error()))
			continue
		}
		fmt.Fprintf(tw, "ok\t%s\tsha256:%s\n", r.Artifact.File, r.Artifact.SHA256)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d built, %d failed; manifest: %s\n", len(results)-failed, failed, filepath.Join(out, "manifest.json"))
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i] + " ..."
		}
	}
	return s
}

// statusOnly drops the containers' prefixed output lines and keeps the tool's own.
type statusOnly struct{ w io.Writer }

func (s statusOnly) Write(p []byte) (int, error) {
	if len(p) > 0 && p[0] == '[' {
		return len(p), nil
	}
	return s.w.Write(p)
}
