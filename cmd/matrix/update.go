package main

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/lock"
	"github.com/spf13/cobra"
)

func newUpdateCmd() *cobra.Command {
	var flags specFlags
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "update [FILE]",
		Short: "Resolve every registry call afresh and pin the answers in matrix.lock.json",
		Long: `update resolves every npm_versions and npm_package call of FILE (default
./matrix.hcl) on the npm registry, whatever matrix.lock.json pins, and rewrites the
lock's resolved section with the answers: exactly the calls the file makes (pins of
calls it no longer makes are dropped), each keeping its resolved_at while its answer
is unchanged, so that an update that changes nothing leaves the file byte for byte as
it was. It prints what changed, calls and cells, as matrix outdated does; a following
matrix run then builds only the new cells. --dry-run writes nothing.`,
		Args: wrapArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, _ := fileAndTargets(args)
			return update(cmd, &flags, path, dryRun)
		},
	}
	flags.registerVars(cmd)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would change and write nothing")
	return cmd
}

func update(cmd *cobra.Command, flags *specFlags, path string, dryRun bool) error {
	c, err := flags.compareToday(cmd, path)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if err := writeComparison(out, c); err != nil {
		return err
	}
	used := c.today
	lf := c.lock
	counts := pinChanges(lf.file.Resolved, used)
	lf.file.SetResolved(used)
	data, err := lf.file.Marshal()
	if err != nil {
		return err
	}
	old, err := atomicfile.ReadFile(lf.path, lock.MaxSize)
	unchanged := (err == nil && bytes.Equal(old, data)) || (!lf.exists && len(used) == 0)
	pins := plural(len(used), "registry call") + counts
	switch {
	case unchanged:
		_, err = fmt.Fprintf(out, "%s is up to date: %s pinned\n", lf.path, pins)
	case dryRun:
		_, err = fmt.Fprintf(out, "%s would pin %s (--dry-run: not written)\n", lf.path, pins)
	default:
		if err = lf.save(); err == nil {
			_, err = fmt.Fprintf(out, "%s: pinned %s\n", lf.path, pins)
		}
	}
	return err
}

// pinChanges says how the pins of an update differ from the old ones: ": N changed, N
// new, N dropped", or "" when they do not.
func pinChanges(old, pins []lock.Resolution) string {
	before := map[string]lock.Resolution{}
	for _, r := range old {
		before[r.Call] = r
	}
	changed, added := 0, 0
	for _, r := range pins {
		o, ok := before[r.Call]
		switch {
		case !ok:
			added++
		case !lock.SameAnswer(o, r):
			changed++
		}
		delete(before, r.Call)
	}
	var parts []string
	for _, p := range []struct {
		n    int
		word string
	}{{changed, "changed"}, {added, "new"}, {len(before), "dropped"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.word))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
