package registry

// Credentials: kept out of every printable value, matched to a registry URL by
// npm's "nerf dart" rule.

import (
	"net/url"
	"strings"
)

// credential is one Authorization header value and the URLs it belongs to.
type credential struct {
	prefix string // a nerf dart: "//host[:port]/path/"
	header string // the whole Authorization value; secret
	from   string // file:line, for messages
	unset  []string
}

type credentials struct {
	byPrefix map[string]credential
}

// add keeps, for a prefix, the first credential added (layers come highest first), but
// a token over any other kind, as npm-registry-fetch does.
func (c *credentials) add(cr credential) {
	if c.byPrefix == nil {
		c.byPrefix = map[string]credential{}
	}
	old, ok := c.byPrefix[cr.prefix]
	if !ok || !isToken(old) && isToken(cr) {
		c.byPrefix[cr.prefix] = cr
	}
}

func isToken(cr credential) bool { return strings.HasPrefix(cr.header, "Bearer ") }

// String keeps credentials out of anything printed.
func (c *credentials) String() string { return "[credentials redacted]" }

// GoString keeps credentials out of %#v.
func (c *credentials) GoString() string { return c.String() }

// forURL finds the credential for a request URL as npm-registry-fetch does: it walks
// up "//host/path" one segment or slash at a time, so a token for //host/ serves the
// whole host and one for //host/npm/ only the paths below /npm/.
func (c *credentials) forURL(u *url.URL) (credential, bool) {
	if c == nil || len(c.byPrefix) == 0 {
		return credential{}, false
	}
	key := "//" + hostKey(u) + u.EscapedPath()
	for len(key) > len("//") {
		if cr, ok := c.byPrefix[key]; ok {
			return cr, true
		}
		if strings.HasSuffix(key, "/") {
			key = key[:len(key)-1]
		} else {
			key = key[:strings.LastIndex(key, "/")+1]
		}
	}
	return credential{}, false
}
