package runner

import (
	"path/filepath"

	"github.com/matrixbuild/matrix/internal/filename"
	"github.com/matrixbuild/matrix/manifest"
)

// carriedOver returns the previous manifest's records of artifacts that this run did
// not build and whose files are still in dir, unchanged; they keep the run_id of the
// run that built them. Without them, a run of other cells, or one whose cells fail
// (a full disk), would leave earlier artifacts on disk that manifest.json and
// SHA256SUMS no longer list. A failed cell never touches its earlier artifact.
func carriedOver(dir string, built map[string]bool) []manifest.Artifact {
	prev, err := manifest.Read(dir)
	if err != nil {
		return nil
	}
	var kept []manifest.Artifact
	for _, a := range prev.Artifacts {
		if built[a.File] || filename.Check(a.File) != nil {
			continue
		}
		if sum, size, err := manifest.HashFile(filepath.Join(dir, a.File)); err == nil && sum == a.SHA256 && size == a.Size {
			kept = append(kept, a)
		}
	}
	return kept
}
