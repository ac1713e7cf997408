package registry

// Fetching one document: retries with backoff, bounded reads, errors that say what
// was tried.

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
	"strconv"
	"strings"
	"time"
)

// escapeName is how the registry wants a name in its path: the scope's "/" escaped.
func escapeName(name string) string {
	return strings.Replace(name, "/", "%2f", 1)
}

func (c *Client) fetch(ctx context.Context, name string, full bool) (*Packument, error) {
	reg := c.cfg.RegistryFor(name)
	u := reg + escapeName(name)
	ctx, cancel := context.WithTimeoutCause(ctx, c.opts.Deadline, &deadlineError{c.opts.Deadline})
	defer cancel()
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
	if err := context.Cause(ctx); err != nil && !errors.Is(last, err) {
		if last == nil || errors.Is(last, ctx.Err()) {
			last = err
		} else {
			last = fmt.Errorf("%w, after: %v", err, last)
		}
	}
	return nil, &FetchError{Package: name, URL: u, Attempts: attempts, Err: last}
}

// deadlineError is a fetch stopped by ClientOptions.Deadline.
type deadlineError struct{ d time.Duration }

func (e *deadlineError) Error() string {
	return fmt.Sprintf("no answer within %v, the limit for one package", e.d)
}

// Is makes errors.Is(err, context.DeadlineExceeded) true.
func (e *deadlineError) Is(target error) bool { return target == context.DeadlineExceeded }

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
			if c.caNote != nil {
				err = fmt.Errorf("%w (%v)", err, c.caNote)
			}
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
