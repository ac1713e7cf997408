package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/internal/diff"
	"github.com/matrixbuild/matrix/internal/terminal"
	"github.com/matrixbuild/matrix/spec"
)

// fmtFlag: terraform fmt's single-dash spellings of fmt's flags.
func fmtFlag(a string) bool {
	for _, f := range []string{"-check", "-diff"} {
		if a == f || strings.HasPrefix(a, f+"=") {
			return true
		}
	}
	return false
}

type fmtOptions struct {
	check, diff bool
}

func newFmtCmd() *cobra.Command {
	var opts fmtOptions
	cmd := &cobra.Command{
		Use:   "fmt [FILE|DIR|-]...",
		Short: "Rewrite matrix files in HCL's canonical layout (as terraform fmt)",
		Long: `Rewrite HCL files in the canonical layout that terraform fmt writes (hclwrite):
two-space indents, aligned equals signs, one space around operators. A DIR stands
for its *.hcl files (not its subdirectories, nor links); no argument for the current
directory's; - reads standard input and writes the result to standard output. Each
file rewritten is named on standard output. A file that does not parse is left as it
is, with its diagnostics.

Rewrites are atomic (a temporary file renamed over the file, with its mode) and never
go through a link: a FILE that is a symbolic link is refused where it would be
rewritten (name its target instead).

With -check, nothing is written: the files that are not formatted are named, and
the exit status is 1 if there is any (CI runs it). With -diff, the change of each
file is shown as a unified diff (and written, unless -check).

Exit status: 0 done (with -check: every file is formatted); 1 a file does not parse
or cannot be read or written, or with -check is not formatted; 2 wrong usage.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runFmt(cmd, args, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.check, "check", false, "write nothing; name the files that are not formatted and exit 1 if there is any (-check works too)")
	cmd.Flags().BoolVar(&opts.diff, "diff", false, "show each change as a unified diff (-diff works too)")
	return cmd
}

func runFmt(cmd *cobra.Command, args []string, opts fmtOptions) error {
	if len(args) == 0 {
		args = []string{"."}
	}
	var files []string
	for _, a := range args {
		if a == "-" {
			files = append(files, a)
			continue
		}
		info, err := os.Stat(a)
		if err != nil {
			return err
		}
		if !info.IsDir() {
			files = append(files, a)
			continue
		}
		entries, err := os.ReadDir(a)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".hcl") && !strings.HasPrefix(e.Name(), ".") {
				files = append(files, filepath.Join(a, e.Name()))
			}
		}
	}
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	var failed, unformatted int
	for _, path := range files {
		if err := cmd.Context().Err(); err != nil {
			return err
		}
		changed, err := fmtFile(cmd, path, opts)
		if err != nil {
			failed++
			var re reportedError
			if !errors.As(err, &re) {
				fmt.Fprintf(stderr, "matrix: %s\n", terminal.EscapeLines(err.Error()))
			}
			continue
		}
		if changed {
			unformatted++
			if path != "-" {
				fmt.Fprintln(stdout, terminal.Escape(path))
			}
		}
	}
	if failed > 0 {
		return reportedError{fmt.Errorf("%d file(s) not formatted", failed)}
	}
	if opts.check && unformatted > 0 {
		fmt.Fprintf(stderr, "matrix: %s not in canonical form: matrix fmt rewrites %s\n", plural(unformatted, "file"), map[bool]string{true: "it", false: "them"}[unformatted == 1])
		return reportedError{fmt.Errorf("%d file(s) not formatted", unformatted)}
	}
	return nil
}

// fmtFile formats one file ("-": standard input to standard output) and reports
// whether it was not in canonical form.
func fmtFile(cmd *cobra.Command, path string, opts fmtOptions) (bool, error) {
	var src []byte
	var err error
	name := path
	if path == "-" {
		name = "<stdin>"
		src, err = readStdin(cmd.InOrStdin())
	} else {
		src, err = atomicfile.ReadFile(path, spec.MaxFileSize)
	}
	if err != nil {
		return false, err
	}
	out, file, diags := spec.Format(src, name)
	if diags.HasErrors() {
		stderr := cmd.ErrOrStderr()
		if err := file.WriteDiagnostics(stderr, escapeDiagnostics(diags), isTerminal(stderr)); err != nil {
			return false, err
		}
		return false, reportedError{diagnosticsError{path: name, errors: countErrors(diags)}}
	}
	changed := !bytes.Equal(src, out)
	if opts.diff && changed {
		d := diff.Diff(name+".orig", src, name, out)
		// The file's own bytes, shown on a terminal: its controls are escaped.
		if _, err := io.WriteString(cmd.OutOrStdout(), terminal.EscapeLines(string(d))); err != nil {
			return changed, err
		}
	}
	switch {
	case path == "-" && !opts.check && !opts.diff:
		_, err := cmd.OutOrStdout().Write(out)
		return changed, err
	case path == "-" || opts.check || !changed:
		return changed, nil
	}
	info, err := os.Lstat(path)
	if err != nil {
		return changed, err
	}
	if info.Mode()&os.ModeSymlink != 0 {
		return changed, fmt.Errorf("%s: not formatted, and it is a symbolic link: matrix fmt does not write through links; format its target", path)
	}
	return changed, writeKeepingMode(path, out, info.Mode())
}

// writeKeepingMode replaces path with data atomically, with the permissions mode: a
// variable file of mode 0600 (it may hold a token) stays unreadable to others.
func writeKeepingMode(path string, data []byte, mode os.FileMode) error {
	dir, name := filepath.Split(path)
	f, err := atomicfile.Create(dir, name)
	if err != nil {
		return err
	}
	defer f.Abort()
	f.SetMode(mode)
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Commit()
}

// readStdin reads standard input, at most spec.MaxFileSize bytes.
func readStdin(r io.Reader) ([]byte, error) {
	src, err := io.ReadAll(io.LimitReader(r, spec.MaxFileSize+1))
	if err == nil && len(src) > spec.MaxFileSize {
		err = fmt.Errorf("standard input: more than the %d bytes a matrix file may have", spec.MaxFileSize)
	}
	return src, err
}
