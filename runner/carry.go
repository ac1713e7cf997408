package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"slices"

	"github.com/matrixbuild/matrix/internal/ctxio"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/internal/filename"
	"github.com/matrixbuild/matrix/internal/terminal"
	"github.com/matrixbuild/matrix/manifest"
)

// retest runs the cell's changed test on its earlier artifact prev, which the cell
// reuses (reusable), and returns prev's record with the new test's result. The file
// is opened once, checked against its record through that descriptor, and tested
// from it. The cell's log continues the build's log, and takes its place as the
// log of a rebuilt artifact would (placeLog): the run settles or takes it back.
func (b *cellBuild) retest(ctx context.Context, imgs images, prev *manifest.Artifact) (*manifest.Artifact, error) {
	fmt.Fprintf(b.lines, "matrix: reused %s, built by run %s from the same inputs (input hash %.12s); its test changed: testing it again\n",
		prev.File, prev.RunID, imgs.inputHash)
	if earlier, err := atomicfile.OpenRegular(b.logs, path.Base(logName(b.cell)), os.O_RDONLY); err == nil {
		err = b.log.prepend(earlier)
		earlier.Close()
		if err != nil {
			return nil, err
		}
	}
	f, err := atomicfile.OpenRegular(b.out, prev.File, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := checkOpen(ctx, f, *prev); err != nil {
		return nil, fmt.Errorf("%s: %w", prev.File, err)
	}
	art := *prev
	art.Test, art.Tests = nil, nil
	if err := b.runTests(ctx, imgs, f, &art); err != nil {
		return nil, err
	}
	b.lines.Flush()
	if err := b.placeLog(); err != nil {
		return nil, err
	}
	b.addReplacement(replacement{file: prev.File, logEntry: b.logEntry})
	b.logEntry = ""
	return &art, nil
}

// checkOpen hashes the open file f, which must hold what a records.
func checkOpen(ctx context.Context, f *os.File, a manifest.Artifact) error {
	h := sha256.New()
	n, err := io.Copy(h, ctxio.Reader(ctx, io.LimitReader(f, a.Size+1)))
	if err != nil {
		return err
	}
	if sum := hex.EncodeToString(h.Sum(nil)); n != a.Size || sum != a.SHA256 {
		return fmt.Errorf("%w since it was checked: %d bytes of sha256 %s, recorded %d of %s", manifest.ErrChanged, n, sum, a.Size, a.SHA256)
	}
	return nil
}

// carriedOver returns the previous manifest's records of artifacts that this run did
// not build and whose files are still in the output directory, unchanged, as regular
// files (never through a link); they keep the run_id of the run that built them.
// Without them, a run of other cells, or one whose cells fail (a full disk), would
// leave earlier artifacts on disk that manifest.json and SHA256SUMS no longer list. A
// failed cell never touches its earlier artifact. A record that no longer holds is
// dropped, saying why.
//
// The record of a cell that this run skipped (skipped: by cellKey) is not carried
// over: the run decided that the cell has no artifact, and a manifest listing it in
// both skipped[] and artifacts[] would contradict itself. Its file stays where it is,
// unrecorded, and the run says so: like cargo, which leaves stale outputs in target/,
// the tool does not delete a file that its records no longer vouch for.
//
// An artifact that --prune removes (gone) is not carried over either.
//
// When ctx has ended (the run was interrupted), a file not hashed yet keeps its
// record if it is still a regular file of the recorded size: the run stops promptly
// without forgetting what the previous run recorded, and the next run hashes it.
func (r *run) carriedOver(ctx context.Context, built map[string]manifest.Artifact, skipped map[string]string, gone map[string]bool) []manifest.Artifact {
	var kept []manifest.Artifact
	for _, file := range slices.Sorted(maps.Keys(r.previous)) {
		a := r.previous[file]
		if _, ok := built[file]; ok || gone[file] {
			continue
		}
		// The manifest is OUT's, so hostile: what it says is escaped (a name that
		// fails the rule is quoted by it, escaped).
		if err := filename.Check(file); err != nil {
			fmt.Fprintf(r.progress, "matrix: no longer records an artifact the previous manifest lists (built by run %s): %s\n",
				terminal.Escape(a.RunID), terminal.Escape(err.Error()))
			continue
		}
		if cell, ok := skipped[cellKey(a.Target, a.Axes)]; ok {
			fmt.Fprintf(r.progress, "matrix: %s stays in %s but is no longer recorded: its cell %s is skipped now (remove it if it is not wanted)\n",
				file, r.opts.OutDir, terminal.Escape(cell))
			continue
		}
		err := manifest.CheckFile(ctx, r.out, a)
		if err != nil && ctx.Err() != nil {
			err = sameSize(r, a)
		}
		if err != nil {
			fmt.Fprintf(r.progress, "matrix: no longer records %s (built by run %s): %s\n", file, terminal.Escape(a.RunID), terminal.Escape(err.Error()))
			continue
		}
		kept = append(kept, a)
	}
	return kept
}

// sameSize checks, without reading it, that an artifact's file is still a regular
// file of its recorded size.
func sameSize(r *run, a manifest.Artifact) error {
	f, err := atomicfile.OpenRegular(r.out, a.File, os.O_RDONLY)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err == nil && info.Size() != a.Size {
		err = fmt.Errorf("%w: %d bytes, recorded %d", manifest.ErrChanged, info.Size(), a.Size)
	}
	return err
}

// cellKey identifies a cell by its target and matrix values, as a manifest records
// them.
func cellKey(target string, axes []manifest.Axis) string {
	data, err := json.Marshal(axes)
	if err != nil {
		panic(err) // strings, numbers and bools always marshal
	}
	return target + "\x00" + string(data)
}
