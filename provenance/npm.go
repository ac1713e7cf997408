package provenance

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Tarball is one npm package a cell installed, as its package-lock.json records it.
type Tarball struct {
	Name, Version string
	// PURL is its package URL, pkg:npm/NAME@VERSION: never the URL it was fetched
	// from, which names a registry (and could carry more).
	PURL string
	// Integrity is the lock's integrity string as written (e.g. "sha512-..."), and
	// Digest the same as hex digests by algorithm; both empty for a package without
	// one (a link, a git dependency).
	Integrity string
	Digest    map[string]string
}

// maxLockSize bounds the package-lock.json read: as a lock file's files are bounded.
const maxLockSize = 16 << 20

// NpmTarballs lists the packages of a package-lock.json (lockfileVersion 2 or 3: its
// "packages" map), sorted by path, without the root and links. The lock comes from
// a container or the lock file: hostile, so bounded, and nothing of it but names,
// versions and integrity goes on.
func NpmTarballs(data []byte) ([]Tarball, error) {
	if len(data) > maxLockSize {
		return nil, fmt.Errorf("%d bytes, more than %d", len(data), maxLockSize)
	}
	var lock struct {
		LockfileVersion int `json:"lockfileVersion"`
		Packages        map[string]struct {
			Name      string `json:"name"`
			Version   string `json:"version"`
			Integrity string `json:"integrity"`
			Link      bool   `json:"link"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(data, &lock); err != nil {
		return nil, fmt.Errorf("not a package-lock.json: %w", err)
	}
	if lock.Packages == nil && lock.LockfileVersion < 2 {
		return nil, fmt.Errorf("lockfileVersion %d has no \"packages\": record the lock with npm 7 or later", lock.LockfileVersion)
	}
	paths := make([]string, 0, len(lock.Packages))
	for p := range lock.Packages {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	var out []Tarball
	for _, p := range paths {
		pkg := lock.Packages[p]
		i := strings.LastIndex(p, "node_modules/")
		if p == "" || pkg.Link || i < 0 {
			continue // the project itself, a link to a folder, a workspace
		}
		name := p[i+len("node_modules/"):]
		if pkg.Name != "" {
			name = pkg.Name
		}
		version, ok := plainVersion(pkg.Version)
		if !validName(name) || !ok {
			return nil, fmt.Errorf("packages[%q]: not a package name and version", p)
		}
		t := Tarball{Name: name, Version: version, PURL: purl(name, version)}
		if pkg.Integrity != "" {
			digest, err := integrityDigest(pkg.Integrity)
			if err != nil {
				return nil, fmt.Errorf("packages[%q]: %w", p, err)
			}
			t.Integrity, t.Digest = pkg.Integrity, digest
		}
		out = append(out, t)
	}
	return out, nil
}

// plainVersion is a package's "version" as a statement may hold it. For a package
// installed from git or a URL, npm writes that URL there, with whatever credentials
// it carries (a token as user info, or in the query): those are left out; the host,
// path and fragment (the commit) stay. A URL that does not parse is refused.
func plainVersion(v string) (string, bool) {
	if v == "" {
		return "", false
	}
	if !strings.Contains(v, "://") {
		return v, true
	}
	u, err := url.Parse(v)
	if err != nil {
		return "", false
	}
	u.User, u.RawQuery, u.ForceQuery = nil, "", false
	return u.String(), true
}

// validName accepts npm's package names: "name" or "@scope/name", no path tricks.
func validName(name string) bool {
	if len(name) == 0 || len(name) > 214 {
		return false
	}
	parts := strings.Split(name, "/")
	if len(parts) > 2 || (len(parts) == 2 && !strings.HasPrefix(parts[0], "@")) || (len(parts) == 1 && strings.HasPrefix(name, "@")) {
		return false
	}
	for _, p := range parts {
		if p == "" || p == "." || p == ".." || p == "@" || strings.ContainsAny(p, " \\\x00") {
			return false
		}
	}
	return true
}

// purl is the package URL of an npm package: the scope's "@" escaped.
func purl(name, version string) string {
	// The purl spec: the namespace's "@" is percent-encoded, the "/" after it kept.
	escaped := strings.ReplaceAll(url.PathEscape(name), "%2F", "/")
	if rest, ok := strings.CutPrefix(escaped, "@"); ok {
		escaped = "%40" + rest
	}
	return "pkg:npm/" + escaped + "@" + url.PathEscape(version)
}

// integrityDigest turns a Subresource Integrity string ("sha512-BASE64", several
// separated by spaces) into hex digests by algorithm.
func integrityDigest(sri string) (map[string]string, error) {
	out := map[string]string{}
	for _, field := range strings.Fields(sri) {
		alg, b64, ok := strings.Cut(field, "-")
		if !ok {
			return nil, fmt.Errorf("integrity %q: want ALGORITHM-BASE64", sri)
		}
		b64, _, _ = strings.Cut(b64, "?") // SRI options
		sum, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("integrity %q: %w", sri, err)
		}
		switch alg {
		case "sha512", "sha384", "sha256", "sha1":
			out[alg] = hex.EncodeToString(sum)
		default:
			return nil, fmt.Errorf("integrity %q: unknown algorithm %q", sri, alg)
		}
	}
	return out, nil
}
