package runner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/internal/filename"
	"github.com/matrixbuild/matrix/internal/terminal"
	"github.com/matrixbuild/matrix/manifest"
)

// With Prune, a run removes the artifacts that the records list and its cells do not
// produce (a dropped axis value, a removed target, a cell skipped now, another matrix
// file's cells), with their logs, once its own records, which no longer list them,
// are written: a run whose records cannot be written removes nothing, and one killed
// in between leaves files that no record lists, which verify reports. Only what the
// records list is removed, and only while it is still the recorded file; what no
// record lists is never removed, only named.

// toPrune returns, by file name, the recorded artifacts that results do not produce;
// nil without Prune, and when the run was interrupted (ctx ended): it records and
// removes nothing of what it did not build.
func (r *run) toPrune(ctx context.Context, results []Result) map[string]bool {
	if !r.opts.Prune || ctx.Err() != nil {
		return nil
	}
	produced := map[string]bool{}
	for _, res := range results {
		if !res.Skipped() {
			produced[res.Cell.Artifact] = true
		}
	}
	gone := map[string]bool{}
	for file := range r.previous {
		if !produced[file] {
			gone[file] = true
		}
	}
	for _, f := range r.previousFailed {
		if !produced[f.Artifact] {
			gone[f.Artifact] = true
		}
	}
	return gone
}

// prune removes the artifacts of gone (toPrune) that are still as recorded, and the
// logs of every name in gone, after the records m that no longer list them were
// written; then it names what no record lists.
func (r *run) prune(ctx context.Context, gone map[string]bool, m *manifest.Manifest) {
	for _, file := range slices.Sorted(maps.Keys(gone)) {
		if filename.Check(file) != nil {
			continue // never a name to remove: the records cannot have made it
		}
		var removed []string
		if a, ok := r.previous[file]; ok {
			if err := manifest.CheckFile(ctx, r.out, a); err != nil && !errors.Is(err, fs.ErrNotExist) {
				fmt.Fprintf(r.progress, "matrix: --prune: %s not removed: it is no longer the artifact the records listed (%v)\n", file, err)
				continue
			}
			if err := r.out.Remove(file); err == nil {
				removed = append(removed, file)
			} else if !errors.Is(err, fs.ErrNotExist) {
				fmt.Fprintf(r.progress, "matrix: --prune: %s not removed: %v\n", file, err)
				continue
			}
		}
		for _, log := range []string{file + ".log", file + ".log" + failedSuffix} {
			if err := r.logs.Remove(log); err == nil {
				removed = append(removed, logDir+"/"+log)
			} else if !errors.Is(err, fs.ErrNotExist) {
				fmt.Fprintf(r.progress, "matrix: --prune: %s/%s not removed: %v\n", logDir, log, err)
			}
		}
		if len(removed) > 0 {
			fmt.Fprintf(r.progress, "matrix: --prune: removed %s: the plan no longer produces %s\n", strings.Join(removed, ", "), file)
		}
	}
	for _, dir := range []*os.Root{r.out, r.logs} {
		if err := atomicfile.SyncDir(dir); err != nil {
			fmt.Fprintf(r.progress, "matrix: warning: --prune: %v\n", err)
		}
	}
	unlisted, err := manifest.Unlisted(r.out, m)
	if err != nil {
		fmt.Fprintf(r.progress, "matrix: --prune: %v\n", err)
		return
	}
	if len(unlisted) > 0 {
		fmt.Fprintf(r.progress, "matrix: --prune: left in %s what no record lists, which matrix never removes: %s\n",
			r.opts.OutDir, terminal.Escape(strings.Join(unlisted, ", ")))
	}
}
