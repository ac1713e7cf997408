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
	"time"

	"github.com/spf13/cobra"

	"github.com/matrixbuild/matrix/engine"
	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/internal/terminal"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/pack"
	"github.com/matrixbuild/matrix/plan"
	"github.com/matrixbuild/matrix/progress"
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
	sel           selectFlags
	progress      progressFlags
	// artifacts, when set, keeps the cells of these artifact names (verify --rebuild);
	// epoch, when set, is SOURCE_DATE_EPOCH instead of the environment's.
	artifacts []string
	epoch     *time.Time
}

// register adds the flags that run and lock share.
func (f *runFlags) register(cmd *cobra.Command) {
	f.spec.register(cmd)
	f.sel.register(cmd)
	fl := cmd.Flags()
	fl.IntVarP(&f.jobs, "jobs", "j", runner.DefaultJobs, "cells built at once on each engine; the default is four per core of this machine, 2 to 32")
	fl.BoolVar(&f.keepGoing, "keep-going", false, "build every cell even after one fails, and report all failures")
	fl.StringVar(&f.pull, "pull", string(engine.PullMissing), "when to pull images: missing, always or never")
	fl.StringArrayVar(&f.engines, "engine", nil, "build on this Docker engine (unix://, tcp://, ssh://...); repeat to share the cells among several, each running --jobs at once; default: the environment's")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "show only failures, the tool's messages and the summary: no container output (it is still in the logs)")
	f.progress.register(cmd)
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
	if _, err := f.sel.parse(); err != nil {
		return err
	}
	if f.prune && f.sel.given() {
		// As with targets: the cells left out would be pruned.
		return usageError{fmt.Errorf("--prune removes what the whole file no longer produces: select no cells (%s)", f.sel.describe())}
	}
	p, err := f.spec.loadProject(cmd, path, targets)
	if err != nil {
		return err
	}
	if len(p.cells) == 0 {
		return fmt.Errorf("%s: the selected targets have no cells", path)
	}
	// p.cells stays the whole plan: the lock keeps the entries of the cells left out.
	cells, err := f.sel.apply(p.cells)
	if err != nil {
		return err
	}
	if f.artifacts != nil {
		cells = slices.DeleteFunc(slices.Clone(cells), func(c plan.Cell) bool { return !slices.Contains(f.artifacts, c.Artifact) })
	}
	if len(cells) == 0 && f.sel.shard != "" {
		// More shards than selected cells (a CI's fixed parallel: N): this one has
		// nothing to do, which is not a failure of the job.
		whole := f.sel
		whole.shard, whole.durations = "", ""
		if all, err := whole.apply(p.cells); err == nil && len(all) > 0 {
			logOf(cmd.Context(), cmd.ErrOrStderr()).Info(fmt.Sprintf("%s: --shard %s: none of the %s selected is in this shard: nothing to build", path, f.sel.shard, cellCount(all)))
			return nil
		}
	}
	if len(cells) == 0 {
		return fmt.Errorf("%s: %s selects none of the %s", path, f.sel.describe(), cellCount(p.cells))
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
			logOf(cmd.Context(), cmd.ErrOrStderr()).Info(fmt.Sprintf("%s: every cell's entry is current (%d); `matrix lock --upgrade` resolves them anew", p.lock.path, len(locked)))
			return nil
		}
	}
	if use == lockPrefer && len(locked) > 0 && !lockOnly {
		logOf(cmd.Context(), cmd.ErrOrStderr()).Info(fmt.Sprintf("installing %s from %s (MATRIX_LOCKED=1), resolving %d anew", plural(len(locked), "cell"), p.lock.path, resolving))
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

	// Before the display opens: its warnings go to stderr, and an error here leaves
	// no live area or progress file open.
	lockRead, err := lockAsRead(p)
	if err != nil {
		return err
	}
	prov, err := provenanceOf(p, path, targets, f, lockRead, stderr)
	if err != nil {
		return err
	}
	show, err := newDisplay(cmd, f.progress, f.quiet, records, f.jobs*len(engines), cellLocator(p))
	if err != nil {
		return err
	}
	for _, eng := range engines {
		eng.Warnings = messageLines{show.sink} // above a live area, not through it
	}
	runID := runner.NewRunID()
	logOf(ctx, stderr).Info(fmt.Sprintf("run %s: %s, %d at a time per engine, engine %s, output %s",
		runID, cellCount(cells), f.jobs, engineList(engines), f.out))
	started := time.Now()
	results, err := runner.Run(ctx, executors, cells, records, runner.Options{
		OutDir:        f.out,
		Jobs:          f.jobs,
		KeepGoing:     f.keepGoing,
		SkipTests:     f.skipTests,
		Epoch:         epochTime,
		Environ:       os.Environ(),
		Events:        show.sink,
		RunID:         runID,
		ToolVersion:   version,
		SpecPath:      path,
		SpecSHA256:    p.file.SHA256(),
		Lock:          lockRead,
		AllowDangling: f.allowDangling,
		Locked:        locked,
		LockedSHA256:  lockedSHA256(p.lock, locked),
		AllowDrift:    f.allowDrift,
		Prune:         f.prune,
		Reuse:         f.reuse,
		Provenance:    prov,
		Force:         f.force,
	})
	if results != nil {
		manifestPath := filepath.Join(f.out, manifest.FileName)
		if lockOnly {
			manifestPath = "" // the records of a temporary directory, gone with it
		}
		show.finish(summaryOf(manifestPath, runID, results, time.Since(started), err), stderr)
	} else {
		show.stop()
	}
	for _, eng := range engines {
		eng.Warnings = escapedLines{stderr} // the display is closed
	}
	if !f.spec.locked && ctx.Err() == nil {
		n, lerr := recordLocks(p.lock, p.cells, results, locked, len(targets) == 0, stderr)
		if n > 0 {
			logOf(ctx, stderr).Info(fmt.Sprintf("recorded the lock_files of %d cell(s) in %s", n, p.lock.path))
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
	if err := f.progress.check(); err != nil {
		return "", time.Time{}, err
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
	if f.epoch != nil {
		return pull, *f.epoch, nil
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

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i] + " ..."
		}
	}
	return s
}

// summaryOf is the summary of a run's results; manifestPath is where its records
// go ("": none are kept), err Run's error.
func summaryOf(manifestPath, runID string, results []runner.Result, elapsed time.Duration, err error) progress.Summary {
	return runner.Summary(runID, results, elapsed, manifestPath, err)
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
