// Package registry is the npm registry client behind the npm_versions and npm_package
// functions of a matrix file: it reads npm's configuration (.npmrc, environment),
// fetches package documents (packuments) once per command, and selects versions by
// node-semver ranges.
//
// The registry serves two documents of a package: the abbreviated one, which is what
// npm install reads and all that npm_versions without min_age needs, and the full one,
// which alone has publish times (min_age, npm_package's published) and libc
// (npm_package). Each Packument call says which it needs.
//
// One Client serves one command, and sends at most one request per package (retries
// of a failed request aside), with one exception: a package fetched abbreviated for
// one call is fetched again, in full, for a later call that needs the full document.
// A caller that knows what a package will need asks for the full document first; a
// full document, asked for or sent by a registry that ignores the abbreviated
// request's Accept header, answers every later call.
package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// ClientOptions are the limits of a Client; the zero value is the default.
type ClientOptions struct {
	// HTTPClient sends the requests. nil builds one from the environment: proxies from
	// HTTPS_PROXY, HTTP_PROXY and NO_PROXY, the system's certificates plus
	// Config.ExtraCAFile (left out, as Node.js does, when it cannot be read or holds no
	// certificate; a certificate error then says so). Credentials are added to its
	// requests in either case.
	HTTPClient  *http.Client
	MaxInFlight int           // requests under way at once; 0 means 8
	Attempts    int           // tries of one document; 0 means 4
	Timeout     time.Duration // one try, reading the document included; 0 means 2 minutes
	Backoff     time.Duration // the wait before the second try, doubled after each; 0 means 500ms
	MaxBytes    int64         // the size of one document; 0 means 256 MiB
	// Deadline bounds all tries of one document, the waits between them included, so
	// that an unresponsive registry fails a command in bounded time rather than after
	// Attempts times Timeout; 0 means 3 minutes.
	Deadline time.Duration
}

const (
	abbreviatedAccept = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8"
	fullAccept        = "application/json"
	maxBackoff        = 30 * time.Second
	maxRedirects      = 10
)

// Client fetches packuments for one command and keeps each for the command's length.
type Client struct {
	cfg  Config
	hc   *http.Client
	opts ClientOptions
	// caNote is why NODE_EXTRA_CA_CERTS was ignored, for the error of a registry whose
	// certificate then fails; nil when it was not.
	caNote error
	slots  chan struct{}

	mu   sync.Mutex
	docs map[string]*fetches
}

// fetches are the fetches of one package's documents, nil until made.
type fetches struct {
	abbreviated, full *pending
}

// pending is one fetch: the first caller makes it, the others wait on done.
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
	if opts.Deadline <= 0 {
		opts.Deadline = 3 * time.Minute
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
	var caNote error
	if base == nil {
		base, caNote = environmentHTTPClient(cfg.ExtraCAFile)
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
		cfg:    cfg,
		hc:     &hc,
		opts:   opts,
		caNote: caNote,
		slots:  make(chan struct{}, opts.MaxInFlight),
		docs:   map[string]*fetches{},
	}, nil
}

// Packument returns the package's document: the full one when full, or else the
// abbreviated one (or the full one, when the Client has it). The first call for a
// document fetches it; concurrent callers share that one request, later ones its
// result, a failure (cancellation included) as well: a Client lives for one command.
// A call that needs the full document waits for an abbreviated fetch under way and
// fetches again only when what came is not full. The document is shared, so callers
// only read it.
func (c *Client) Packument(ctx context.Context, name string, full bool) (*Packument, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	p, err := c.document(ctx, name, full, false)
	if err != nil || !full || p.Full {
		return p, err
	}
	// The one exception to one request per package: the abbreviated document came
	// first and this call needs what only the full one has.
	return c.document(ctx, name, true, true)
}

// document waits for the package's fetch that answers the call, or makes it (in full
// when full): for an abbreviated call the abbreviated fetch, else the full one; for a
// full call the full fetch, else the abbreviated one, unless onlyFull.
func (c *Client) document(ctx context.Context, name string, full, onlyFull bool) (*Packument, error) {
	c.mu.Lock()
	fs := c.docs[name]
	if fs == nil {
		fs = &fetches{}
		c.docs[name] = fs
	}
	var f *pending
	switch {
	case !full && fs.abbreviated != nil:
		f = fs.abbreviated
	case fs.full != nil:
		f = fs.full
	case !onlyFull:
		f = fs.abbreviated
	}
	if f == nil {
		f = &pending{done: make(chan struct{})}
		if full {
			fs.full = f
		} else {
			fs.abbreviated = f
		}
		c.mu.Unlock()
		f.p, f.err = c.fetch(ctx, name, full)
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
