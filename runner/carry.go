package runner

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/spec"
)

// carriedOver returns the previous manifest's records of artifacts that no cell of
// this run names and whose files are still in dir, unchanged. Without them, a run of
// other cells, or one whose cells all fail (a full disk), would leave earlier
// artifacts on disk that manifest.json and SHA256SUMS no longer list.
func carriedOver(dir string, cells []spec.Cell) []manifest.Artifact {
	prev, err := manifest.Read(dir)
	if err != nil {
		return nil
	}
	ours := make(map[string]bool, len(cells))
	for _, c := range cells {
		ours[c.Artifact] = true
	}
	var kept []manifest.Artifact
	for _, a := range prev.Artifacts {
		if ours[a.File] || a.File == "" || strings.ContainsAny(a.File, `/\`) || strings.HasPrefix(a.File, ".") {
			continue
		}
		if sum, size, err := hashFile(filepath.Join(dir, a.File)); err == nil && sum == a.SHA256 && size == a.Size {
			kept = append(kept, a)
		}
	}
	return kept
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
