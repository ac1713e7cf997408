package provenance_test

import (
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/provenance"
)

// TestNpmTarballs: a package-lock's packages become package URLs with hex digests;
// the root and links are not tarballs; a hostile name or integrity is refused.
func TestNpmTarballs(t *testing.T) {
	got, err := provenance.NpmTarballs([]byte(packageLock))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].PURL != "pkg:npm/%40img/sharp-linux-x64@0.34.5" || got[1].PURL != "pkg:npm/sharp@0.34.5" {
		t.Fatalf("got %+v", got)
	}
	// sha512-Ou9I5F... is the base64 of these bytes.
	if d := got[1].Digest["sha512"]; !strings.HasPrefix(d, "3aef48e45b7d58d7026d7ad4f5") || len(d) != 128 {
		t.Errorf("sha512 %s", d)
	}
	for name, lock := range map[string]string{
		"not json":          `{`,
		"version 1":         `{"lockfileVersion": 1, "dependencies": {}}`,
		"path in name":      `{"lockfileVersion": 3, "packages": {"node_modules/x": {"name": "../../x", "version": "1.0.0"}}}`,
		"bad integrity":     `{"lockfileVersion": 3, "packages": {"node_modules/x": {"version": "1.0.0", "integrity": "sha512-!!"}}}`,
		"unknown algorithm": `{"lockfileVersion": 3, "packages": {"node_modules/x": {"version": "1.0.0", "integrity": "md4-AAAA"}}}`,
		"no version":        `{"lockfileVersion": 3, "packages": {"node_modules/x": {}}}`,
	} {
		if _, err := provenance.NpmTarballs([]byte(lock)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
