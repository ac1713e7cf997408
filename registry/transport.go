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

func environmentHTTPClient(extraCAFile string) (*http.Client, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if extraCAFile != "" {
		pem, err := os.ReadFile(extraCAFile)
		if err != nil {
			return nil, fmt.Errorf("NODE_EXTRA_CA_CERTS: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("NODE_EXTRA_CA_CERTS: no PEM certificate in %s", extraCAFile)
		}
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = http.ProxyFromEnvironment
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: t}, nil
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
