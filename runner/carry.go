package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/internal/filename"
	"github.com/matrixbuild/matrix/manifest"
)

// reusable returns the earlier record of an artifact that this run would build from
// the same inputs, if Reuse is on and its file is still as recorded (a regular file,
// never a link); nil otherwise. Hashing stops when ctx ends.
func (r *run) reusable(ctx context.Context, file, inputHash, testDef string) *manifest.Artifact {
	if !r.opts.Reuse {
		return nil
	}
	prev, ok := r.previous[file]
	if !ok || prev.InputHash != inputHash {
		return nil
	}
	if testDef != "" && (prev.Test == nil || !prev.Test.Passed || prev.Test.Definition != testDef) {
		return nil
	}
	if manifest.CheckFile(ctx, r.out, prev) != nil {
		return nil
	}
	return &prev
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
// When ctx has ended (the run was interrupted), a file not hashed yet keeps its
// record if it is still a regular file of the recorded size: the run stops promptly
// without forgetting what the previous run recorded, and the next run hashes it.
func (r *run) carriedOver(ctx context.Context, built map[string]manifest.Artifact, skipped map[string]string) []manifest.Artifact {
	var kept []manifest.Artifact
	for _, file := range slices.Sorted(maps.Keys(r.previous)) {
		a := r.previous[file]
		if _, ok := built[file]; ok || filename.Check(file) != nil {
			continue
		}
		if cell, ok := skipped[cellKey(a.Target, a.Axes)]; ok {
			fmt.Fprintf(r.progress, "matrix: %s stays in %s but is no longer recorded: its cell %s is skipped now (remove it if it is not wanted)\n",
				file, r.opts.OutDir, cell)
			continue
		}
		err := manifest.CheckFile(ctx, r.out, a)
		if err != nil && ctx.Err() != nil {
			err = sameSize(r, a)
		}
		if err != nil {
			fmt.Fprintf(r.progress, "matrix: no longer records %s (built by run %s): %v\n", file, a.RunID, err)
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
