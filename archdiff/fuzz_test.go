package archdiff_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/matrixbuild/matrix/archdiff"
)

// FuzzDiff: whatever bytes a recorded archive holds (OUT is hostile), Diff returns
// differences or an error, never a panic, and stops within its bound.
func FuzzDiff(f *testing.F) {
	dir := f.TempDir()
	good := map[bool]string{}
	for _, format := range []string{"tar.gz", "zip"} {
		path := buildF(f, dir, "seed."+format, format)
		good[format == "zip"] = path
		data, _ := os.ReadFile(path)
		f.Add(data, format == "zip")
		f.Add(data[:len(data)/2], format == "zip")
	}
	f.Fuzz(func(t *testing.T, data []byte, isZip bool) {
		format := "tar.gz"
		if isZip {
			format = "zip"
		}
		dir := t.TempDir()
		bad := filepath.Join(dir, "bad."+format)
		os.WriteFile(bad, data, 0o644)
		res, err := archdiff.Diff(context.Background(), bad, good[isZip], format, 3)
		if err == nil && len(res.Differences) > 3 {
			t.Fatalf("%d differences, bound 3", len(res.Differences))
		}
	})
}

func buildF(f *testing.F, dir, name, format string) string {
	return buildWith(f, dir, name, format, map[string]string{"a.txt": "alpha", "b/c": "gamma"})
}
