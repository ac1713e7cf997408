package registry

// The HTTP side of a Client: proxies and CAs from the environment, credentials
// sent only to the registry they belong to.

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"strings"
)

func withSlash(u string) string {
	if strings.HasSuffix(u, "/") {
		return u
	}
	return u + "/"
}

// environmentHTTPClient is an HTTP client with the environment's proxies and the
// system's certificates plus those of extraCAFile. As Node.js, which only warns, a CA
// file that cannot be read or holds no certificate is left out: the returned note says
// why, for the error of a registry whose certificate then fails.
func environmentHTTPClient(extraCAFile string) (*http.Client, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	var note error
	if extraCAFile != "" {
		pem, err := os.ReadFile(extraCAFile)
		switch {
		case err != nil:
			note = fmt.Errorf("NODE_EXTRA_CA_CERTS=%s was ignored: %w", extraCAFile, err)
		case !pool.AppendCertsFromPEM(pem):
			note = fmt.Errorf("NODE_EXTRA_CA_CERTS=%s was ignored: no PEM certificate in it", extraCAFile)
		}
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = http.ProxyFromEnvironment
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: t}, note
}

// authTransport gives each request, redirects included, the credential of its own URL
// and no other.
type authTransport struct {
	base  http.RoundTripper
	creds *credentials
}

func (t authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	cr, ok := t.creds.forURL(req.URL)
	if !ok && req.Header.Get("Authorization") == "" {
		return t.base.RoundTrip(req)
	}
	req = req.Clone(req.Context())
	req.Header.Del("Authorization")
	if ok {
		req.Header.Set("Authorization", cr.header)
	}
	return t.base.RoundTrip(req)
}
