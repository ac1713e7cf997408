// Package registry is the npm registry client behind the npm_versions and npm_package
// functions of a matrix file: it reads npm's configuration (.npmrc, environment),
// fetches package documents (packuments) once per command, and selects versions by
// node-semver ranges.
//
// One Client serves one command, and sends at most one request per package (retries
// of a failed request aside). The abbreviated document lacks publish times and libc,
// so what a package needs is declared before resolution: Need(name, true) for a
// package that npm_package or min_age will read, Need(name, false) for one that only
// npm_versions without min_age will. A package fetched without any declaration is
// fetched in full, which serves every use; a package fetched abbreviated is never
// fetched again, and Select or Package report ErrNotFull for what it cannot answer.
package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ClientOptions are the limits of a Client; the zero value is the default.
type ClientOptions struct {
	// HTTPClient sends the requests. nil builds one from the environment: proxies from
	// HTTPS_PROXY, HTTP_PROXY and NO_PROXY, the system's certificates plus
	// Config.ExtraCAFile. Credentials are added to its requests in either case.
	HTTPClient  *http.Client
	MaxInFlight int           // requests under way at once; 0 means 8
	Attempts    int           // tries of one document; 0 means 4
	Timeout     time.Duration // one try, reading the document included; 0 means 2 minutes
	Backoff     time.Duration // the wait before the second try, doubled after each; 0 means 500ms
	MaxBytes    int64         // the size of one document; 0 means 256 MiB
}

const (
	abbreviatedAccept = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8"
	fullAccept        = "application/json"
	maxBackoff        = 30 * time.Second
	maxRedirects      = 10
)

// Client fetches packuments for one command and keeps each for the command's length.
type Client struct {
	cfg   Config
	hc    *http.Client
	opts  ClientOptions
	slots chan struct{}

	mu    sync.Mutex
	needs map[string]bool
	docs  map[string]*pending
}

// pending is one package's fetch: the first caller makes it, the others wait on done.
type pending struct {
	done chan struct{}
	p    *Packument
	err  error
}

// NewClient returns a Client for the configuration.
func NewClient(cfg Config, opts ClientOptions) (*Client, error) {
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 8
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 4
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Minute
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 500 * time.Millisecond
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 256 << 20
	}
	if cfg.Registry == "" {
		cfg.Registry = DefaultRegistry
	}
	// A Config built by hand may lack the final "/" that LoadConfig ensures.
	cfg.Registry = withSlash(cfg.Registry)
	scopes := make(map[string]string, len(cfg.Scopes))
	for s, r := range cfg.Scopes {
		scopes[s] = withSlash(r)
	}
	cfg.Scopes = scopes
	base := opts.HTTPClient
	if base == nil {
		var err error
		if base, err = environmentHTTPClient(cfg.ExtraCAFile); err != nil {
			return nil, err
		}
	}
	hc := *base
	rt := hc.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	hc.Transport = authTransport{base: rt, creds: cfg.creds}
	hc.CheckRedirect = func(_ *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		return nil
	}
	return &Client{
		cfg:   cfg,
		hc:    &hc,
		opts:  opts,
		slots: make(chan struct{}, opts.MaxInFlight),
		needs: map[string]bool{},
		docs:  map[string]*pending{},
	}, nil
}

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

// Need declares, before the package is fetched, whether the command needs its full
// document (publish times for min_age, libc and publish time for npm_package). A
// declaration after the fetch has begun changes nothing.
func (c *Client) Need(name string, full bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.needs[name] = c.needs[name] || full
}

// Packument returns the package's document, fetching it on the first call for the
// name; concurrent callers share that one request, later ones its result, a failure
// (cancellation included) as well: a Client lives for one command. The document is
// shared, so callers only read it.
func (c *Client) Packument(ctx context.Context, name string) (*Packument, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	c.mu.Lock()
	f, ok := c.docs[name]
	if !ok {
		f = &pending{done: make(chan struct{})}
		c.docs[name] = f
		full, declared := c.needs[name]
		c.mu.Unlock()
		f.p, f.err = c.fetch(ctx, name, full || !declared)
		close(f.done)
	} else {
		c.mu.Unlock()
	}
	select {
	case <-f.done:
		return f.p, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// ErrInvalidName is the error for a string that is not an npm package name.
var ErrInvalidName = errors.New("not an npm package name")

// ValidName checks that name is an npm package name, "name" or "@scope/name", made of
// the characters npm allows, so that it goes into a URL as it is.
func ValidName(name string) error {
	fail := func(why string) error { return fmt.Errorf("%w: %q %s", ErrInvalidName, clip(name), why) }
	if name == "" || len(name) > 214 {
		return fail("is empty or longer than 214 characters")
	}
	parts := []string{name}
	if strings.HasPrefix(name, "@") {
		scope, rest, ok := strings.Cut(name[1:], "/")
		if !ok {
			return fail("has a scope but no name after it")
		}
		parts = []string{scope, rest}
	}
	for _, p := range parts {
		if p == "" || p[0] == '.' {
			return fail("has an empty part or one that starts with '.'")
		}
		for _, r := range p {
			if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("-._~!'()*", r)) {
				return fail(fmt.Sprintf("has %q, which npm does not allow", r))
			}
		}
	}
	return nil
}

// escapeName is how the registry wants a name in its path: the scope's "/" escaped.
func escapeName(name string) string {
	return strings.Replace(name, "/", "%2f", 1)
}

func (c *Client) fetch(ctx context.Context, name string, full bool) (*Packument, error) {
	reg := c.cfg.RegistryFor(name)
	u := reg + escapeName(name)
	var last error
	attempts := 0
	var wait time.Duration
	for attempts < c.opts.Attempts {
		if attempts > 0 && sleep(ctx, wait) != nil {
			break
		}
		attempts++
		p, err := c.try(ctx, u, name, full)
		if err == nil {
			p.Registry = reg
			return p, nil
		}
		var nf *NotFoundError
		if errors.As(err, &nf) {
			nf.Registry = reg
			return nil, nf
		}
		var r *retryable
		if !errors.As(err, &r) {
			last = err
			break
		}
		last = r.err
		if ctx.Err() != nil {
			break
		}
		wait = c.opts.Backoff << (attempts - 1)
		wait = wait/2 + rand.N(wait/2+1)
		wait = max(wait, r.after)
		wait = min(wait, maxBackoff)
	}
	if err := ctx.Err(); err != nil && !errors.Is(last, err) {
		last = fmt.Errorf("%w, after: %v", err, last)
	}
	return nil, &FetchError{Package: name, URL: u, Attempts: attempts, Err: last}
}

// retryable is the error of a try that may succeed when made again.
type retryable struct {
	err   error
	after time.Duration // the server's Retry-After
}

func (r *retryable) Error() string { return r.err.Error() }
func (r *retryable) Unwrap() error { return r.err }

func (c *Client) try(ctx context.Context, u, name string, full bool) (*Packument, error) {
	select {
	case c.slots <- struct{}{}:
		defer func() { <-c.slots }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	tctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	// A document that fails for the time limit fails for it, not for what reading was
	// cut short by it.
	timedOut := func(err error) error {
		if ctx.Err() == nil && tctx.Err() != nil {
			return &retryable{err: fmt.Errorf("no complete answer within %v", c.opts.Timeout)}
		}
		return err
	}
	req, err := http.NewRequestWithContext(tctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", abbreviatedAccept)
	if full {
		req.Header.Set("Accept", fullAccept)
	}
	req.Header.Set("User-Agent", "matrix")
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // it repeats the URL, which the caller's error gives once
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if isCertificateError(err) {
			return nil, err
		}
		return nil, timedOut(&retryable{err: err})
	}
	defer resp.Body.Close()
	status := fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusNotFound:
		return nil, &NotFoundError{Package: name}
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		drain(resp.Body)
		return nil, &retryable{err: errors.New(status), after: retryAfter(resp.Header.Get("Retry-After"))}
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		drain(resp.Body)
		return nil, fmt.Errorf("%s: %s", status, c.authHint(resp.Request.URL))
	default:
		drain(resp.Body)
		return nil, errors.New(status)
	}
	if resp.ContentLength > c.opts.MaxBytes {
		return nil, fmt.Errorf("%w: the document has %d bytes, the limit is %d", ErrTooLarge, resp.ContentLength, c.opts.MaxBytes)
	}
	p, err := decodePackument(&limitedReader{r: resp.Body, left: c.opts.MaxBytes, limit: c.opts.MaxBytes}, name)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var re *readError
		if errors.As(err, &re) {
			return nil, timedOut(&retryable{err: re.err})
		}
		return nil, err
	}
	corgi := strings.HasPrefix(resp.Header.Get("Content-Type"), "application/vnd.npm.install-v1+json")
	// A registry may answer the abbreviated request with the full document.
	p.Full = !corgi && (full || p.Full)
	if !p.Full {
		p.Time = map[string]time.Time{}
	}
	return p, nil
}

// authHint says which credential, if any, went with a refused request; never its value.
func (c *Client) authHint(u *url.URL) string {
	cr, ok := c.cfg.creds.forURL(u)
	if !ok {
		return "no credential in the npm configuration is for this registry (//host/path/:_authToken in .npmrc)"
	}
	hint := "the registry refused the credential from " + cr.from
	if len(cr.unset) > 0 {
		hint += fmt.Sprintf(" (it names ${%s}, which is not set)", strings.Join(cr.unset, "}, ${"))
	}
	return hint
}

func isCertificateError(err error) bool {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var host x509.HostnameError
	var verify *tls.CertificateVerificationError
	return errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &host) || errors.As(err, &verify)
}

// retryAfter reads a Retry-After header in seconds or as an HTTP date; 0 if neither.
func retryAfter(h string) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return time.Duration(min(s, int(maxBackoff/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return min(max(time.Until(t), 0), maxBackoff)
	}
	return 0
}

func drain(r io.Reader) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r, 64<<10))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ErrTooLarge is the error for a document over ClientOptions.MaxBytes.
var ErrTooLarge = errors.New("registry document too large")

// readError is a failure to read the response, as opposed to a fault in what was read.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// limitedReader reads at most limit bytes and fails past them, telling read errors of
// the connection apart from the document's.
type limitedReader struct {
	r           io.Reader
	left, limit int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One byte more tells a document of exactly the limit from a larger one.
		var one [1]byte
		if n, _ := io.ReadFull(l.r, one[:]); n > 0 {
			return 0, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, l.limit)
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if err != nil && err != io.EOF {
		err = &readError{err: err}
	}
	return n, err
}
