package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/matrixbuild/matrix/engine"
	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/internal/terminal"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/pack"
	"github.com/matrixbuild/matrix/plan"
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
	reuse         bool
	force         bool
	allowDrift    bool
	prune         bool
	upgrade       bool
	engines       []string
}

// register adds the flags that run and lock share.
func (f *runFlags) register(cmd *cobra.Command) {
	f.spec.register(cmd)
	fl := cmd.Flags()
	fl.IntVarP(&f.jobs, "jobs", "j", runner.DefaultJobs, "cells built at once on each engine; the default is twice the cores of this machine, 2 to 32")
	fl.BoolVar(&f.keepGoing, "keep-going", false, "build every cell even after one fails, and report all failures")
	fl.StringVar(&f.pull, "pull", string(engine.PullMissing), "when to pull images: missing, always or never")
	fl.StringArrayVar(&f.engines, "engine", nil, "build on this Docker engine (unix://, tcp://, ssh://...); repeat to share the cells among several, each running --jobs at once; default: the environment's")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "do not echo the containers' output (it is still in the logs)")
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [FILE] [TARGET...]",
		Short: "Build every cell of the selected targets (all by default)",
		Long: `Build every cell in a fresh Docker container, pack the collected tree into a
reproducible artifact in the output directory, test it, and record the run in
SHA256SUMS and manifest.json. FILE defaults to ./matrix.hcl. A cell whose entry in
the lock file (NAME.lock.json beside NAME.hcl) is current installs from it
(MATRIX_LOCKED=1); the others resolve anew and their lock_files are recorded.
--locked installs every cell from the lock file and writes nothing to it.

The Docker engine comes from the environment (DOCKER_HOST, DOCKER_TLS_VERIFY,
DOCKER_CERT_PATH). SOURCE_DATE_EPOCH sets the timestamp inside artifacts.`,
		Args: wrapArgs(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error { return runBuild(cmd, args, f, false) },
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.StringVarP(&f.out, "out", "o", "out", "output directory")
	fl.BoolVar(&f.skipTests, "skip-tests", false, "do not run the targets' test blocks (recorded in the manifest)")
	fl.BoolVar(&f.allowDangling, "allow-dangling", false, "drop dangling symlinks from artifacts instead of failing the cell")
	fl.BoolVar(&f.reuse, "reuse", false, "also keep the artifacts of cells not installed from their lock entry, when built from the same inputs and still verifying (by default only locked cells' are kept: that reuse is exact)")
	fl.BoolVar(&f.force, "force", false, "build every cell again, keeping no earlier artifact")
	fl.BoolVar(&f.allowDrift, "allow-drift", false, "keep an artifact installed from its lock entry whose sha256 is not the one the entry records, instead of failing its cell (recorded in the manifest)")
	fl.BoolVar(&f.prune, "prune", false, "remove the recorded artifacts, and their logs, that the file's cells no longer produce; name no targets")
	// --locked, from specFlags, does more here than resolve from the lock.
	fl.Lookup("locked").Usage = "install every cell from the lock file (MATRIX_LOCKED=1 in the build) and answer npm_versions and npm_package from it only; fail if anything is missing or stale; never write the lock file"
	return cmd
}

func newLockCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "lock [FILE] [TARGET...]",
		Short: "Record the lock_files of the selected cells whose lock entry is missing or stale (all with --upgrade), keeping no artifact",
		Args:  wrapArgs(cobra.ArbitraryArgs),
		RunE:  func(cmd *cobra.Command, args []string) error { return runBuild(cmd, args, f, true) },
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&f.upgrade, "upgrade", false, "resolve every selected cell anew, also those whose entry is current")
	// matrix lock records what --locked would install; the flag is refused (check).
	_ = cmd.Flags().MarkHidden("locked")
	return cmd
}

// runBuild is `matrix run`, and with lockOnly `matrix lock`: the same builds into a
// temporary directory, untested, for their lock files only.
func runBuild(cmd *cobra.Command, args []string, f runFlags, lockOnly bool) error {
	pull, epochTime, err := f.check(lockOnly)
	if err != nil {
		return err
	}
	path, targets := fileAndTargets(args)
	if f.prune && len(targets) > 0 {
		// A plan of some targets would prune every other target's artifacts.
		return usageError{fmt.Errorf("--prune removes what the whole file no longer produces: name no targets (%s)", strings.Join(targets, ", "))}
	}
	p, err := f.spec.loadProject(cmd, path, targets)
	if err != nil {
		return err
	}
	cells := p.cells
	if len(cells) == 0 {
		return fmt.Errorf("%s: the selected targets have no cells", path)
	}
	use := lockPrefer
	switch {
	case f.spec.locked:
		use = lockStrict
	case f.upgrade:
		use = lockIgnore
	}
	locked, resolving, err := lockedFiles(p.lock, cells, use)
	if err != nil {
		return err
	}
	if lockOnly && use == lockPrefer {
		// matrix lock builds only what it has to record.
		cells = slices.DeleteFunc(slices.Clone(cells), func(c plan.Cell) bool {
			return c.Skip != "" || len(c.LockFiles) == 0 || locked[c.Artifact] != nil
		})
		if resolving == 0 {
			if _, err := recordLocks(p.lock, p.cells, nil, nil, len(targets) == 0, cmd.ErrOrStderr()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "matrix: %s: every cell's entry is current (%d); `matrix lock --upgrade` resolves them anew\n", p.lock.path, len(locked))
			return nil
		}
	}
	if use == lockPrefer && len(locked) > 0 && !lockOnly {
		fmt.Fprintf(cmd.ErrOrStderr(), "matrix: installing %s from %s (MATRIX_LOCKED=1), resolving %d anew\n", plural(len(locked), "cell"), p.lock.path, resolving)
	}
	if lockOnly {
		tmp, err := os.MkdirTemp("", "matrix-lock-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		f.out, f.skipTests = tmp, true
	}
	// OUT a file (the matrix file, say) is a slip of the command line: saying so beats
	// the records' advice to remove what is in the way.
	if fi, err := os.Stat(f.out); err == nil && !fi.IsDir() {
		return fmt.Errorf("--out %s: not a directory", f.out)
	}
	// Before anything is connected, swept or written: a manifest that cannot be read
	// stops the run with the output directory as it was.
	records, err := runner.ReadRecords(f.out)
	if err != nil {
		return err
	}

	ctx := cmd.Context()
	stderr := cmd.ErrOrStderr()
	engines, err := connectEngines(ctx, f.engines, pull)
	if err != nil {
		return err
	}
	defer closeEngines(engines, stderr)
	executors, err := sweepEngines(ctx, engines, stderr)
	if err != nil {
		return err
	}

	var progress io.Writer = stderr
	if f.quiet {
		progress = statusOnly{stderr}
	}
	runID := runner.NewRunID()
	fmt.Fprintf(stderr, "matrix: run %s: %s, %d at a time per engine, engine %s, output %s\n",
		runID, cellCount(cells), f.jobs, engineList(engines), f.out)
	results, err := runner.Run(ctx, executors, cells, records, runner.Options{
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
		SpecSHA256:    p.file.SHA256(),
		AllowDangling: f.allowDangling,
		Locked:        locked,
		LockedSHA256:  lockedSHA256(p.lock, locked),
		AllowDrift:    f.allowDrift,
		Prune:         f.prune,
		Reuse:         f.reuse,
		Force:         f.force,
	})
	if results != nil && !lockOnly {
		printSummary(cmd.OutOrStdout(), f.out, runID, results, err)
	}
	if !f.spec.locked && ctx.Err() == nil {
		n, lerr := recordLocks(p.lock, p.cells, results, locked, len(targets) == 0, stderr)
		if n > 0 {
			fmt.Fprintf(stderr, "matrix: recorded the lock_files of %d cell(s) in %s\n", n, p.lock.path)
		}
		if lerr != nil {
			return errors.Join(err, lerr)
		}
	}
	var runErr *runner.RunError
	if errors.As(err, &runErr) {
		return reportedError{err}
	}
	return err
}

// check refuses a bad command line before anything is read or built, and returns
// the pull policy and SOURCE_DATE_EPOCH.
func (f runFlags) check(lockOnly bool) (engine.PullPolicy, time.Time, error) {
	pull, err := engine.ParsePullPolicy(f.pull)
	if err != nil {
		return "", time.Time{}, usageError{err}
	}
	if f.jobs < 1 || f.jobs > 256 {
		return "", time.Time{}, usageError{fmt.Errorf("--jobs %d: want a number from 1 to 256", f.jobs)}
	}
	if f.reuse && f.force {
		return "", time.Time{}, usageError{errors.New("--reuse and --force: keep the artifacts, or build them all again; not both")}
	}
	if lockOnly && f.spec.locked {
		return "", time.Time{}, usageError{errors.New("--locked: matrix lock records what --locked installs; use matrix run --locked")}
	}
	if !lockOnly && f.out == "" {
		return "", time.Time{}, usageError{errors.New("--out: empty output directory")}
	}
	epochTime, err := pack.EpochFromEnv(os.Environ())
	if err != nil {
		return "", time.Time{}, err // the environment's fault, not the command line's: no usage hint
	}
	return pull, epochTime, nil
}

// engineList names the engines and their CPUs for the run's first line.
func engineList(engines []*engine.Engine) string {
	hosts := make([]string, len(engines))
	for i, e := range engines {
		hosts[i] = e.Name() + " (" + e.Arch() + ")"
	}
	return strings.Join(hosts, ", ")
}

// connectEngines connects to the --engine hosts, or to the environment's engine.
func connectEngines(ctx context.Context, hosts []string, pull engine.PullPolicy) ([]*engine.Engine, error) {
	enginesConnected.Store(true)
	if len(hosts) == 0 {
		e, err := engine.Connect(ctx, pull)
		if err != nil {
			return nil, err
		}
		return []*engine.Engine{e}, nil
	}
	var engines []*engine.Engine
	seen := map[string]bool{}
	for _, h := range hosts {
		e, err := engine.ConnectHost(ctx, h, pull)
		if err == nil && seen[e.Name()] {
			e.Close()
			err = usageError{fmt.Errorf("--engine %s: given twice", engine.RedactHost(h))}
		}
		if err != nil {
			for _, e := range engines {
				e.Close()
			}
			return nil, err
		}
		seen[e.Name()] = true
		engines = append(engines, e)
	}
	return engines, nil
}

// sweepEngines sends the engines' warnings to stderr and removes, on each engine, the
// containers of earlier runs that were killed; it returns the engines as executors.
func sweepEngines(ctx context.Context, engines []*engine.Engine, stderr io.Writer) ([]executor.Executor, error) {
	executors := make([]executor.Executor, len(engines))
	for i, eng := range engines {
		eng.Warnings = escapedLines{stderr}
		executors[i] = eng
		left, err := eng.RemoveLeftovers(ctx)
		if err != nil {
			return nil, err
		}
		for _, l := range left {
			// Labels are the engine's to report: any client of it may have set them.
			fmt.Fprintf(stderr, "matrix: removed container %.12s of an earlier run (%s) that was killed: %s\n",
				terminal.Escape(l.ID), terminal.Escape(l.Run), terminal.Escape(l.Cell))
		}
	}
	return executors, nil
}

// closeEngines removes, on each engine, the containers this process created that a
// cancelled request left behind, and closes the engine.
func closeEngines(engines []*engine.Engine, stderr io.Writer) {
	for _, eng := range slices.Backward(engines) {
		left, err := eng.RemoveOwn()
		for _, l := range left {
			fmt.Fprintf(stderr, "matrix: removed container %.12s (%s) left by a cancelled request\n", terminal.Escape(l.ID), terminal.Escape(l.Cell))
		}
		if err != nil {
			fmt.Fprintf(stderr, "matrix: checking %s for containers left behind: %s\n", eng.Name(), terminal.EscapeLines(err.Error()))
		}
		eng.Close()
	}
}

// cellCount says how many cells there are, and how many of them are skipped.
func cellCount(cells []plan.Cell) string {
	skipped := 0
	for _, c := range cells {
		if c.Skip != "" {
			skipped++
		}
	}
	if skipped == 0 {
		return plural(len(cells), "cell")
	}
	return fmt.Sprintf("%s (%d skipped)", plural(len(cells), "cell"), skipped)
}

// printSummary prints one line per cell, in plan order, and a count; skipped cells
// with their reason. The last line names the manifest only if the run wrote its
// records (err is Run's error), and otherwise says why it did not. Every value is
// escaped (tableRow): an error may quote a container's output or an engine.
func printSummary(w io.Writer, out, runID string, results []runner.Result, err error) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	failed, reused, skipped := 0, 0, 0
	for _, r := range results {
		var row []string
		switch {
		case r.Skipped():
			skipped++
			row = []string{"skipped", r.Cell.Name(), r.Cell.Skip}
		case r.Err != nil:
			failed++
			row = []string{"FAILED", r.Cell.Artifact, firstLine(r.Err.Error())}
		case r.Artifact.RunID != runID && r.Artifact.Test != nil && r.Artifact.Test.RunID == runID:
			reused++
			row = []string{"reused, retested", r.Artifact.File, "sha256:" + r.Artifact.SHA256}
		case r.Artifact.RunID != runID:
			reused++
			row = []string{"reused", r.Artifact.File, "sha256:" + r.Artifact.SHA256}
		default:
			row = []string{"ok", r.Artifact.File, "sha256:" + r.Artifact.SHA256}
		}
		fmt.Fprintln(tw, tableRow(row))
	}
	tw.Flush()
	counts := fmt.Sprintf("%d built, %d reused, %d failed", len(results)-failed-reused-skipped, reused, failed)
	if skipped > 0 {
		counts += fmt.Sprintf(", %d skipped", skipped)
	}
	path := filepath.Join(out, manifest.FileName)
	var recErr *runner.RecordError
	switch {
	case errors.As(err, &recErr) && recErr.InPlace():
		fmt.Fprintf(w, "%s; manifest: %s (%s)\n", counts, path, terminal.EscapeLines(recErr.Err.Error()))
	case errors.As(err, &recErr):
		fmt.Fprintf(w, "%s; %s not written: %s\n", counts, path, terminal.EscapeLines(recErr.Err.Error()))
	default:
		fmt.Fprintf(w, "%s; manifest: %s\n", counts, path)
	}
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i] + " ..."
		}
	}
	return s
}

// escapedLines writes whole lines of text that may quote an engine (its warnings)
// escaped, their newlines kept.
type escapedLines struct{ w io.Writer }

func (e escapedLines) Write(p []byte) (int, error) {
	if _, err := e.w.Write(terminal.AppendEscapedLines(nil, p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// statusOnly drops the containers' prefixed output lines and keeps the tool's own.
type statusOnly struct{ w io.Writer }

func (s statusOnly) Write(p []byte) (int, error) {
	if len(p) > 0 && p[0] == '[' {
		return len(p), nil
	}
	return s.w.Write(p)
}
