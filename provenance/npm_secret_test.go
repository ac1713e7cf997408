package provenance_test

import (
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/provenance"
)

// TestNpmTarballsHoldNoCredential: npm records a dependency installed from git or a
// URL with that URL as its "version", credentials included
// ("git+https://TOKEN:x-oauth-basic@github.com/..."); the statement, which is
// published with the artifacts, must not carry them, as the README promises.
func TestNpmTarballsHoldNoCredential(t *testing.T) {
	const token = "ghp_SECRETTOKEN0123456789"
	for name, tc := range map[string]struct{ version, want string }{
		"git https with a token": {"git+https://" + token + ":x-oauth-basic@github.com/org/private.git#0123456789abcdef0123456789abcdef01234567",
			"git+https://github.com/org/private.git#0123456789abcdef0123456789abcdef01234567"},
		"git https with a user token":      {"git+https://" + token + "@github.com/org/private.git#abc", "git+https://github.com/org/private.git#abc"},
		"a tarball URL with a query token": {"https://example.org/x.tgz?token=" + token, "https://example.org/x.tgz"},
		"git ssh":                          {"git+ssh://git@github.com/org/repo.git#abc", "git+ssh://github.com/org/repo.git#abc"},
	} {
		lock := `{"lockfileVersion": 3, "packages": {"": {"name": "root"}, "node_modules/private": {"version": "` + tc.version + `"}}}`
		got, err := provenance.NpmTarballs([]byte(lock))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(got) != 1 {
			t.Errorf("%s: %+v", name, got)
			continue
		}
		if s := got[0].PURL + " " + got[0].Version; strings.Contains(s, token) || strings.Contains(s, "git@") {
			t.Errorf("%s: the statement would hold the credential: %s", name, s)
		}
		if got[0].Version != tc.want {
			t.Errorf("%s: version %q, want %q", name, got[0].Version, tc.want)
		}
	}
}
