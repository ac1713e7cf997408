package runner

import (
	"path/filepath"

	"github.com/matrixbuild/matrix/internal/filename"
	"github.com/matrixbuild/matrix/manifest"
)

// reusable returns the earlier record of an artifact that this run would build from
// the same inputs, if Reuse is on and its file is still as recorded; nil otherwise.
func (r *run) reusable(file, inputHash, testDef string) *manifest.Artifact {
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
	if !r.stillOnDisk(prev) {
		return nil
	}
	return &prev
}

// carriedOver returns the previous manifest's records of artifacts that this run did
// not build and whose files are still in the output directory, unchanged; they keep
// the run_id of the run that built them. Without them, a run of other cells, or one
// whose cells fail (a full disk), would leave earlier artifacts on disk that
// manifest.json and SHA256SUMS no longer list. A failed cell never touches its
// earlier artifact.
func (r *run) carriedOver(built map[string]bool) []manifest.Artifact {
	var kept []manifest.Artifact
	for _, a := range r.previous {
		if !built[a.File] && filename.Check(a.File) == nil && r.stillOnDisk(a) {
			kept = append(kept, a)
		}
	}
	return kept
}

// stillOnDisk reports whether an artifact's file hashes as recorded.
func (r *run) stillOnDisk(a manifest.Artifact) bool {
	sum, size, err := manifest.HashFile(filepath.Join(r.opts.OutDir, a.File))
	return err == nil && sum == a.SHA256 && size == a.Size
}
