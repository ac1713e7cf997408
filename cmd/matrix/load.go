package main

import (
	"fmt"
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/matrixbuild/matrix/spec"
)

// specFlags are the flags every command that reads a matrix file shares.
type specFlags struct {
	vars     []string
	varFiles []string
}

func (f *specFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.vars, "var", nil, "set a variable: NAME=VALUE (repeatable; later wins)")
	cmd.Flags().StringArrayVar(&f.varFiles, "var-file", nil, "read variable values from an HCL file (repeatable)")
}

// fileAndTargets splits positional arguments into the matrix file (default
// ./matrix.hcl) and target names.
func fileAndTargets(args []string) (string, []string) {
	if len(args) == 0 {
		return defaultFile, nil
	}
	return args[0], args[1:]
}

// load reads and validates the file and expands the selected targets. Diagnostics are
// rendered to stderr; the returned error is then a reportedError.
func (f *specFlags) load(cmd *cobra.Command, path string, targets []string) (*spec.File, []spec.Cell, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, nil, fmt.Errorf("matrix file: %w", err)
	}
	file, diags := spec.Load(path, spec.Options{Vars: f.vars, VarFiles: f.varFiles, Environ: os.Environ()})
	var cells []spec.Cell
	if !diags.HasErrors() {
		var more hcl.Diagnostics
		cells, more = file.Plan(targets...)
		diags = append(diags, more...)
	}
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
