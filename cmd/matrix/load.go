package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/matrixbuild/matrix/plan"
	"github.com/matrixbuild/matrix/spec"
)

// specFlags are the flags every command that reads a matrix file shares.
type specFlags struct {
	vars     []string
	varFiles []string
}

func (f *specFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.vars, "var", nil, "set a variable: NAME=VALUE (repeatable; later wins; -var works too)")
	cmd.Flags().StringArrayVar(&f.varFiles, "var-file", nil, "read variable values from an HCL file (repeatable; -var-file works too)")
}

// singleDashVarArgs rewrites exactly -var, -var=..., -var-file and -var-file=... to
// their double-dash forms (Terraform's spellings, which pflag would read as the
// shorthands -v -a -r), up to a "--" that ends the flags. The value after --var or
// --var-file is left as it is, even when it starts with a dash.
func singleDashVarArgs(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		if a == "-var" || a == "-var-file" || strings.HasPrefix(a, "-var=") || strings.HasPrefix(a, "-var-file=") {
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
// ./matrix.hcl) and target names.
func fileAndTargets(args []string) (string, []string) {
	if len(args) == 0 {
		return defaultFile, nil
	}
	return args[0], args[1:]
}

// load reads and validates the file and expands the selected targets with
// spec.LoadPlan, which reports the problems of every target at once (a missing or
// unreadable file is its "Cannot read the matrix file" diagnostic). Diagnostics are
// rendered to stderr; the returned error is then a reportedError.
func (f *specFlags) load(cmd *cobra.Command, path string, targets []string) (*spec.File, []plan.Cell, error) {
	file, cells, diags := spec.LoadPlan(cmd.Context(), path, spec.Options{Vars: f.vars, VarFiles: f.varFiles, Environ: os.Environ()}, targets...)
	if len(diags) > 0 {
		if err := file.WriteDiagnostics(cmd.ErrOrStderr(), diags, isTerminal(cmd.ErrOrStderr())); err != nil {
			return nil, nil, err
		}
	}
	if diags.HasErrors() {
		return nil, nil, reportedError{fmt.Errorf("%s: %d error(s)", path, countErrors(diags))}
	}
	return file, cells, nil
}

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
