// Command matrix builds prebuilt native Node.js module bundles for every cell of a
// matrix declared in an HCL file (see README.md).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes, as documented in the README.
const (
	exitOK      = 0
	exitProblem = 1 // a problem in the file or the run
	exitUsage   = 2 // wrong usage of the command line
	exitUntidy  = 3 // verify: every recorded artifact verifies, but the directory holds unlisted files or the last run failed cells
	exitSIGINT  = 130
	exitSIGTERM = 143
	defaultFile = "matrix.hcl"
	toolName    = "matrix"
)

// version is set at build time with -ldflags "-X main.version=..."; otherwise it is
// the VCS revision Go embeds when building from a checkout ("dev" if there is none).
var version = "dev"

func init() {
	if version != "dev" {
		return
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" {
		version = "dev-" + rev
		if modified == "true" {
			version += "-dirty"
		}
	}
}

// usageError marks a wrong command line: exit 2 instead of 1.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// reportedError is a problem whose details were already printed (diagnostics): only the
// exit code is left to set.
type reportedError struct{ err error }

func (e reportedError) Error() string { return e.err.Error() }
func (e reportedError) Unwrap() error { return e.err }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := context.WithCancelCause(context.Background())
	defer stop(nil)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	var got os.Signal
	go func() {
		for s := range sigs {
			if got == nil {
				got = s
				what := "stopping"
				if enginesConnected.Load() {
					what += ", removing this run's containers"
				}
				fmt.Fprintf(stderr, "matrix: %v: %s\n", s, what)
				stop(errInterrupted{s})
			}
		}
	}()

	root := newRootCmd(stdout, stderr)
	var logs logFlags
	logs.register(root)
	logger := newTextLogger(stderr, slog.LevelInfo)
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		l, err := logs.logger(stderr)
		logger = l
		cmd.SetContext(withLogger(cmd.Context(), l))
		return err
	}
	root.SetArgs(singleDashVarArgs(args))
	err := root.ExecuteContext(ctx)
	if sig := signalOf(ctx); sig != nil {
		if sig == syscall.SIGTERM {
			return exitSIGTERM
		}
		return exitSIGINT
	}
	return exitCodeLog(err, stderr, logger)
}

// enginesConnected is set once a command connects to an engine, from when a signal has
// containers to remove: validate, plan or outdated stopped by one have none.
var enginesConnected atomic.Bool

type errInterrupted struct{ sig os.Signal }

func (e errInterrupted) Error() string { return "interrupted by " + e.sig.String() }

func signalOf(ctx context.Context) os.Signal {
	var ei errInterrupted
	if errors.As(context.Cause(ctx), &ei) {
		return ei.sig
	}
	return nil
}

func exitCode(err error, stderr io.Writer) int {
	return exitCodeLog(err, stderr, newTextLogger(stderr, slog.LevelInfo))
}

// exitCodeLog is the exit code for err, which it logs (escaped) unless it was
// reported already.
func exitCodeLog(err error, stderr io.Writer, logger *slog.Logger) int {
	if err == nil {
		return exitOK
	}
	var ue usageError
	// cobra reports an unknown subcommand with an untyped error.
	if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command ") {
		logError(logger, err)
		fmt.Fprintf(stderr, "Run 'matrix --help' for usage.\n")
		return exitUsage
	}
	var ue3 untidyError
	if errors.As(err, &ue3) {
		return exitUntidy
	}
	var re reportedError
	if !errors.As(err, &re) {
		// Escaped (by the text handler; JSON by its own escapes): an error may quote a
		// container's output, an engine or the file.
		logError(logger, err)
	}
	return exitProblem
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   toolName,
		Short: "Build prebuilt native Node.js module bundles for every cell of a matrix",
		Long: `matrix reads an HCL file that declares a build matrix (package versions x Node.js
runtimes x base images x ...), builds every cell in parallel Docker containers, and
writes reproducible artifacts plus SHA256SUMS and manifest.json.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newValidateCmd(),
		newPlanCmd(),
		newRunCmd(),
		newLockCmd(),
		newOutdatedCmd(),
		newUpdateCmd(),
		newVerifyCmd(),
		newCICmd(),
		newReportCmd(),
		newFmtCmd(),
		newMergeCmd(),
		newEnginesCmd(),
		newSignCmd(),
	)
	for _, c := range root.Commands() {
		c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	}
	return root
}

// wrapArgs turns a cobra positional-argument check into a usage error (exit 2).
func wrapArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}
