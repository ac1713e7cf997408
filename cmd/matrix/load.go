package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/matrixbuild/matrix/internal/terminal"
	"github.com/matrixbuild/matrix/plan"
	"github.com/matrixbuild/matrix/resolve"
	"github.com/matrixbuild/matrix/spec"
)

// specFlags are the flags every command that reads a matrix file shares.
type specFlags struct {
	vars     []string
	varFiles []string
	locked   bool
	lockFile string
}

// register adds --var, --var-file and --locked.
func (f *specFlags) register(cmd *cobra.Command) {
	f.registerVars(cmd)
	cmd.Flags().BoolVar(&f.locked, "locked", false, "answer npm_versions and npm_package only from the lock file: a call not pinned there is an error")
}

// registerVars adds --var and --var-file: the flags of commands that resolve every
// registry call afresh, where --locked means nothing.
func (f *specFlags) registerVars(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.vars, "var", nil, "set a variable: NAME=VALUE (repeatable; later wins; -var works too)")
	cmd.Flags().StringArrayVar(&f.varFiles, "var-file", nil, "read variable values from an HCL file (repeatable; -var-file works too)")
	cmd.Flags().StringVar(&f.lockFile, "lock-file", "", "the lock file to read and write (default: NAME.lock.json beside NAME.hcl)")
}

// singleDashVarArgs rewrites exactly -var, -var=..., -var-file and -var-file=... (and
// fmt's -check and -diff, fmtFlag) to their double-dash forms (Terraform's spellings, which pflag would read as the
// shorthands -v -a -r), up to a "--" that ends the flags. The value after --var or
// --var-file is left as it is, even when it starts with a dash.
func singleDashVarArgs(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		if a == "-var" || a == "-var-file" || strings.HasPrefix(a, "-var=") || strings.HasPrefix(a, "-var-file=") || fmtFlag(a) {
			a = "-" + a
		}
		out = append(out, a)
		if (a == "--var" || a == "--var-file") && i+1 < len(args) {
			i++
			out = append(out, args[i])
		}
	}
	return out
}

// fileAndTargets splits positional arguments into the matrix file (default
// ./matrix.hcl; a directory stands for its matrix.hcl) and target names.
func fileAndTargets(args []string) (string, []string) {
	if len(args) == 0 {
		return defaultFile, nil
	}
	if info, err := os.Stat(args[0]); err == nil && info.IsDir() {
		return filepath.Join(args[0], defaultFile), args[1:]
	}
	return args[0], args[1:]
}

// The registry functions of every command are answered by package resolve.
var _ spec.Resolver = (*resolve.Resolver)(nil)

// project is a matrix file planned, with the lock file next to it.
type project struct {
	file  *spec.File
	cells []plan.Cell
	lock  *lockFile
}

// load reads and validates the file and expands the selected targets; see
// loadProject.
func (f *specFlags) load(cmd *cobra.Command, path string, targets []string) (*spec.File, []plan.Cell, error) {
	p, err := f.loadProject(cmd, path, targets)
	if err != nil {
		return nil, nil, err
	}
	return p.file, p.cells, nil
}

// loadProject reads the lock file next to the matrix file, then reads, validates and
// plans the file with its registry calls answered from the lock's pins (only from
// them under --locked) and from the registry for the others. After a load without
// errors, the calls the registry answered are pinned in the lock, and stderr says so.
func (f *specFlags) loadProject(cmd *cobra.Command, path string, targets []string) (*project, error) {
	lf, err := readLock(path, f.lockFile)
	if err != nil {
		return nil, err
	}
	mode := resolve.Pinned
	if f.locked {
		mode = resolve.Locked
	}
	res, err := resolve.New(newRegistry(path), lf.file.Resolved, resolve.Options{Mode: mode, LockFile: filepath.Base(lf.path)})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", lf.path, err)
	}
	file, cells, err := f.evaluate(cmd, path, targets, res, cmd.ErrOrStderr())
	if err != nil {
		return nil, err
	}
	if err := lf.pin(res.Fetched(), cmd.ErrOrStderr()); err != nil {
		return nil, err
	}
	return &project{file: file, cells: cells, lock: lf}, nil
}

// evaluate plans the file with spec.LoadPlan, which reports the problems of every
// target at once (a missing or unreadable file is its "Cannot read the matrix file"
// diagnostic), its registry calls answered by res. Diagnostics are rendered to diagOut
// (nil: not at all); the returned error is then a reportedError.
func (f *specFlags) evaluate(cmd *cobra.Command, path string, targets []string, res spec.Resolver, diagOut io.Writer) (*spec.File, []plan.Cell, error) {
	opts := spec.Options{Vars: f.vars, VarFiles: f.varFiles, Environ: os.Environ(), Resolver: res}
	file, cells, diags, err := loadPlan(cmd.Context(), path, opts, targets)
	if err != nil {
		return nil, nil, err
	}
	if len(diags) > 0 && diagOut != nil {
		if err := file.WriteDiagnostics(diagOut, escapeDiagnostics(diags), isTerminal(diagOut)); err != nil {
			return nil, nil, err
		}
		if inGitHubActions() {
			if err := annotateDiagnostics(diagOut, diags); err != nil {
				return nil, nil, err
			}
		}
	}
	if diags.HasErrors() {
		return nil, nil, reportedError{diagnosticsError{path: path, errors: countErrors(diags)}}
	}
	return file, cells, nil
}

// escapeDiagnostics returns copies of diags whose summary and detail are escaped for
// the terminal (internal/terminal): they quote values from --var, MATRIX_VAR_* and
// axes ("In cell ..."), where a control or a bidi override must not reach the
// terminal raw.
func escapeDiagnostics(diags hcl.Diagnostics) hcl.Diagnostics {
	out := make(hcl.Diagnostics, len(diags))
	for i, d := range diags {
		c := *d
		c.Summary, c.Detail = terminal.Escape(c.Summary), terminal.EscapeLines(c.Detail)
		out[i] = &c
	}
	return out
}

// loadPlan is spec.LoadPlan, which stops between its steps once ctx is done (SIGINT,
// SIGTERM); then its error is ctx's cause, and its diagnostics, of a load cut short,
// are not worth showing. A step that is one long HCL expression cannot stop halfway,
// so loadPlan does not wait for it: the command returns, and the process exits with
// the signal's code while the load is left to die with it.
func loadPlan(ctx context.Context, path string, opts spec.Options, targets []string) (*spec.File, []plan.Cell, hcl.Diagnostics, error) {
	type loaded struct {
		file  *spec.File
		cells []plan.Cell
		diags hcl.Diagnostics
	}
	done := make(chan loaded, 1)
	go func() {
		file, cells, diags := spec.LoadPlan(ctx, path, opts, targets...)
		done <- loaded{file, cells, diags}
	}()
	select {
	case l := <-done:
		if ctx.Err() != nil {
			return nil, nil, nil, context.Cause(ctx)
		}
		return l.file, l.cells, l.diags, nil
	case <-ctx.Done():
		return nil, nil, nil, context.Cause(ctx)
	}
}

// diagnosticsError is a matrix file with errors, whose diagnostics were rendered.
type diagnosticsError struct {
	path   string
	errors int
}

func (e diagnosticsError) Error() string { return fmt.Sprintf("%s: %d error(s)", e.path, e.errors) }

func countErrors(diags hcl.Diagnostics) int {
	n := 0
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			n++
		}
	}
	return n
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
