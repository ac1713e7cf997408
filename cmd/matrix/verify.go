package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/spf13/cobra"

	"github.com/matrixbuild/matrix/internal/terminal"
	"github.com/matrixbuild/matrix/manifest"
)

// untidyError is a verify whose recorded artifacts all verify, in a directory that
// holds files no record lists or whose last run failed cells, already reported: exit 3.
type untidyError struct{ err error }

func (e untidyError) Error() string { return e.err.Error() }
func (e untidyError) Unwrap() error { return e.err }

func newVerifyCmd() *cobra.Command {
	var vf verifyFlags
	cmd := &cobra.Command{
		Use:   "verify [DIR]",
		Short: "Re-hash every artifact in DIR (default ./out) against manifest.json and SHA256SUMS",
		Long: `Re-hash every artifact that DIR's records (manifest.json and SHA256SUMS) list, and
report each missing or changed one, the entries of DIR that no record lists (the
tool's own files, logs/ and temporaries aside) and the cells the last recorded run
failed to build. It changes nothing.

Exit status: 0 every recorded artifact verifies and there is nothing else to report;
1 a recorded artifact does not verify, or DIR has no records; 2 wrong usage;
3 every recorded artifact verifies, but DIR holds entries no record lists or the
last run has failed cells (matrix run --prune removes the artifacts a file no longer
produces; it never removes what no record lists).

--key PUB also checks DIR's signed statement (matrix sign) with the SSH public key
PUB: the signature over provenance.intoto.jsonl, every subject against its artifact
byte for byte, SHA256SUMS against the subjects, and that no entry was added or
removed; any difference is a problem (exit 1).

--rebuild --file FILE rebuilds every recorded artifact (or those named by --cell)
from FILE, which must be the matrix file the records name (same sha256), and its lock
file with --locked, into a fresh temporary directory, and reports each artifact as
reproduced (same sha256) or not, with the first entries where the two archives
differ; any artifact not reproduced exits 1.`,
		Args: wrapArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "out"
			if len(args) == 1 {
				dir = args[0]
			}
			if err := vf.check(); err != nil {
				return err
			}
			rep, err := manifest.Verify(cmd.Context(), dir)
			if err != nil && vf.key != "" && !vf.rebuild && errors.Is(err, fs.ErrNotExist) {
				// A published copy may hold the artifacts, SHA256SUMS and the signed
				// statement alone: the signature vouches for them without the manifest.
				return verifySignedOnly(cmd, dir, vf.key)
			}
			if err != nil {
				return fmt.Errorf("verify %s: %w", dir, err)
			}
			stderr := cmd.ErrOrStderr()
			// Every name and text from the directory (its manifest, SHA256SUMS, its
			// entries, the errors of the cells it records) is escaped: OUT is hostile.
			shownDir := terminal.Escape(dir)
			records := manifest.FileName
			if rep.Pending != "" {
				records = rep.Pending
				fmt.Fprintf(stderr, "%s: a run stopped between writing %s and %s: checking against the manifest it left complete, %s; the next matrix run into %s puts it in place\n",
					shownDir, manifest.SumsName, manifest.FileName, terminal.Escape(rep.Pending), shownDir)
			}
			for _, n := range rep.Notes {
				fmt.Fprintf(stderr, "%s: note: %s\n", shownDir, terminal.Escape(n.String()))
			}
			for _, name := range rep.Unlisted {
				fmt.Fprintf(stderr, "%s: %s: not recorded (no record lists it; matrix never removes it)\n", shownDir, terminal.Escape(name))
			}
			for _, f := range rep.Failed {
				line := fmt.Sprintf("%s: %s: failed in run %s: %s", dir, f.Artifact, rep.RunID, firstLine(f.Error))
				if f.Log != "" {
					line += " (" + f.Log + ")"
				}
				fmt.Fprintln(stderr, terminal.Escape(line))
			}
			for _, p := range rep.Problems {
				fmt.Fprintf(stderr, "%s: %s\n", shownDir, terminal.Escape(p.String()))
			}
			problems := len(rep.Problems)
			if vf.key != "" {
				n, err := verifySigned(cmd, dir, vf.key)
				if err != nil {
					return err
				}
				problems += n
			}
			if problems > 0 {
				return reportedError{fmt.Errorf("%d problem(s)", problems)}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %d artifacts in %s match %s and %s\n", rep.Checked, shownDir, terminal.Escape(records), manifest.SumsName)
			if vf.rebuild {
				if err := rebuild(cmd, dir, vf); err != nil {
					return err
				}
			}
			var untidy []string
			if n := len(rep.Unlisted); n > 0 {
				untidy = append(untidy, entries(n)+" no record lists")
			}
			if n := len(rep.Failed); n > 0 {
				untidy = append(untidy, plural(n, "failed cell")+" in the last run")
			}
			if len(untidy) > 0 {
				err := fmt.Errorf("%s: %s", dir, strings.Join(untidy, ", "))
				fmt.Fprintf(stderr, "matrix: %s\n", terminal.EscapeLines(err.Error()))
				return untidyError{err}
			}
			return nil
		},
	}
	vf.register(cmd)
	return cmd
}

func entries(n int) string {
	if n == 1 {
		return "1 entry"
	}
	return fmt.Sprintf("%d entries", n)
}
