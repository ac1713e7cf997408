package registry

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fixtures maps package names to the trimmed real packuments in testdata/.
var fixtures = map[string]string{
	"sharp":                "sharp.json",
	"@img/sharp-linux-x64": "img-sharp-linux-x64.json",
	"uuid":                 "uuid.json",
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", fixtures[name]))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// abbreviate makes the abbreviated document of a full one, as the registry does: no
// publish times, no libc.
func abbreviate(t testing.TB, full []byte) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(full, &doc); err != nil {
		t.Fatal(err)
	}
	delete(doc, "time")
	for _, v := range doc["versions"].(map[string]any) {
		delete(v.(map[string]any), "libc")
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// fakeRegistry serves the fixtures and records what it was asked.
type fakeRegistry struct {
	*httptest.Server
	t testing.TB

	mu       sync.Mutex
	requests []*http.Request
	// fail, when set, answers a request first; it returns false to let the fixture answer.
	fail func(w http.ResponseWriter, r *http.Request, n int) bool
	// ignoreAccept serves the full document whatever is asked, as some mirrors do.
	ignoreAccept bool
}

func newFakeRegistry(t testing.TB) *fakeRegistry {
	f := &fakeRegistry{t: t}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeRegistry) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r)
	n := len(f.requests)
	fail := f.fail
	f.mu.Unlock()
	if fail != nil && fail(w, r, n) {
		return
	}
	f.serveFixture(w, r)
}

func (f *fakeRegistry) serveFixture(w http.ResponseWriter, r *http.Request) {
	name := strings.Replace(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "%2f", "/", 1)
	if _, ok := fixtures[name]; !ok {
		http.Error(w, `{"error":"Not found"}`, http.StatusNotFound)
		return
	}
	doc := fixture(f.t, name)
	if strings.HasPrefix(r.Header.Get("Accept"), "application/vnd.npm.install-v1+json") && !f.ignoreAccept {
		w.Header().Set("Content-Type", "application/vnd.npm.install-v1+json")
		doc = abbreviate(f.t, doc)
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	_, _ = w.Write(doc)
}

func (f *fakeRegistry) url() string { return f.URL + "/" }

// seen returns the request URIs, in order.
func (f *fakeRegistry) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		out = append(out, r.RequestURI)
	}
	return out
}

func (f *fakeRegistry) headers(key string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		out = append(out, r.Header.Get(key))
	}
	return out
}

func newTestClient(t testing.TB, cfg Config, opts ClientOptions) *Client {
	t.Helper()
	if opts.Backoff == 0 {
		opts.Backoff = time.Millisecond
	}
	c, err := NewClient(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// accepts returns the Accept header of each request, by request URI.
func (f *fakeRegistry) accepts() map[string][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]string{}
	for _, r := range f.requests {
		out[r.RequestURI] = append(out[r.RequestURI], r.Header.Get("Accept"))
	}
	return out
}

// TestOneRequestPerPackage: concurrent calls share one request per package, of the
// document the first call asks for; a full document answers abbreviated calls too.
func TestOneRequestPerPackage(t *testing.T) {
	reg := newFakeRegistry(t)
	c := newTestClient(t, Config{Registry: reg.url()}, ClientOptions{})
	full := map[string]bool{"sharp": false, "uuid": true, "@img/sharp-linux-x64": true}

	var wg sync.WaitGroup
	errs := make(chan error, 60)
	for range 20 {
		for name := range fixtures {
			wg.Go(func() {
				if _, err := c.Packument(t.Context(), name, full[name]); err != nil {
					errs <- err
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Abbreviated calls of the packages fetched in full ask nothing more.
	for _, name := range []string{"uuid", "@img/sharp-linux-x64"} {
		if p, err := c.Packument(t.Context(), name, false); err != nil || !p.Full {
			t.Errorf("%s abbreviated after full: full=%v, %v", name, p != nil && p.Full, err)
		}
	}
	want := map[string][]string{"/sharp": {abbreviatedAccept}, "/uuid": {fullAccept}, "/@img%2fsharp-linux-x64": {fullAccept}}
	if got := reg.accepts(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Accept headers by request = %v, want %v", got, want)
	}

	sharp, _ := c.Packument(t.Context(), "sharp", false)
	uuid, _ := c.Packument(t.Context(), "uuid", true)
	if sharp.Full || !uuid.Full || len(sharp.Time) != 0 || len(uuid.Time) == 0 {
		t.Errorf("sharp full=%v (%d times), uuid full=%v (%d times)", sharp.Full, len(sharp.Time), uuid.Full, len(uuid.Time))
	}
	if _, err := Select(sharp, "*", Options{MinAge: time.Hour}, time.Now()); !errors.Is(err, ErrNotFull) {
		t.Errorf("min_age on an abbreviated document: %v, want ErrNotFull", err)
	}
	if _, err := Package(sharp, "0.33.5"); !errors.Is(err, ErrNotFull) {
		t.Errorf("Package of an abbreviated document: %v, want ErrNotFull", err)
	}
	if len(reg.seen()) != 3 {
		t.Errorf("requests = %v, want one per package", reg.seen())
	}
}

// TestFullAfterAbbreviated is the one exception to one request per package: a call
// that needs the full document after the abbreviated one came fetches it, once, and
// later calls of either kind share it; the abbreviated calls waiting meanwhile keep
// the abbreviated document.
func TestFullAfterAbbreviated(t *testing.T) {
	reg := newFakeRegistry(t)
	c := newTestClient(t, Config{Registry: reg.url()}, ClientOptions{})
	abbreviated, err := c.Packument(t.Context(), "sharp", false)
	if err != nil || abbreviated.Full {
		t.Fatalf("abbreviated: full=%v, %v", abbreviated != nil && abbreviated.Full, err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for range 20 {
		wg.Go(func() {
			p, err := c.Packument(t.Context(), "sharp", true)
			if err == nil && !p.Full {
				err = errors.New("a full call got the abbreviated document")
			}
			if err == nil {
				_, err = Package(p, "0.33.5")
			}
			if err != nil {
				errs <- err
			}
		})
		wg.Go(func() {
			if p, err := c.Packument(t.Context(), "sharp", false); err != nil || p != abbreviated {
				errs <- fmt.Errorf("an abbreviated call: %v", err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	want := map[string][]string{"/sharp": {abbreviatedAccept, fullAccept}}
	if got := reg.accepts(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Accept headers by request = %v, want %v", got, want)
	}
}

// TestFullAnswerToAbbreviatedRequest: a registry that ignores Accept (as some mirrors
// do) sends the full document to an abbreviated request; it counts as full, and a call
// that needs the full document asks nothing more.
func TestFullAnswerToAbbreviatedRequest(t *testing.T) {
	reg := newFakeRegistry(t)
	reg.ignoreAccept = true
	c := newTestClient(t, Config{Registry: reg.URL}, ClientOptions{}) // no final "/"
	p, err := c.Packument(t.Context(), "sharp", false)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Full || len(p.Time) == 0 {
		t.Error("a full document sent for an abbreviated request should count as full")
	}
	if q, err := c.Packument(t.Context(), "sharp", true); err != nil || q != p {
		t.Errorf("a full call after a full answer: %v", err)
	}
	want := map[string][]string{"/sharp": {abbreviatedAccept}}
	if got := reg.accepts(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Accept headers by request = %v, want %v", got, want)
	}
}

// TestAbbreviatedFailureIsShared: a call that needs the full document gets the error
// of the abbreviated fetch that came first rather than asking again.
func TestAbbreviatedFailureIsShared(t *testing.T) {
	reg := newFakeRegistry(t)
	reg.fail = func(w http.ResponseWriter, _ *http.Request, _ int) bool {
		http.Error(w, "no", http.StatusBadRequest)
		return true
	}
	c := newTestClient(t, Config{Registry: reg.url()}, ClientOptions{})
	_, err1 := c.Packument(t.Context(), "sharp", false)
	_, err2 := c.Packument(t.Context(), "sharp", true)
	if err1 == nil || err2 != err1 || len(reg.seen()) != 1 {
		t.Errorf("errors %v, %v; requests %v", err1, err2, reg.seen())
	}
}

func TestScopedPackageToken(t *testing.T) {
	const token = "npm_TESTTOKEN_d3adb33f"
	scoped, public := newFakeRegistry(t), newFakeRegistry(t)
	project := t.TempDir()
	writeFile(t, filepath.Join(project, ".npmrc"), strings.Join([]string{
		"registry=${PUBLIC}",
		"@img:registry=${SCOPED}",
		"${SCOPED_NERF}:_authToken=${TEST_TOKEN}",
		"",
	}, "\n"))
	cfg, err := loadConfig(project, "", envOf(map[string]string{
		"PUBLIC":      public.url(),
		"SCOPED":      scoped.url(),
		"SCOPED_NERF": strings.TrimPrefix(scoped.url(), "http:"),
		"TEST_TOKEN":  token,
	}))
	if err != nil {
		t.Fatal(err)
	}
	// The scoped registry redirects one package to the public one.
	scoped.fail = func(w http.ResponseWriter, r *http.Request, _ int) bool {
		if r.URL.EscapedPath() == "/@img%2fmoved" {
			http.Redirect(w, r, public.URL+"/@img%2fmoved", http.StatusFound)
			return true
		}
		if r.URL.EscapedPath() == "/@img%2frefused" {
			http.Error(w, "refused", http.StatusUnauthorized)
			return true
		}
		return false
	}
	c := newTestClient(t, cfg, ClientOptions{})
	if _, err := c.Packument(t.Context(), "@img/sharp-linux-x64", true); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Packument(t.Context(), "sharp", true); err != nil {
		t.Fatal(err)
	}
	var errs []error
	for _, name := range []string{"@img/nope", "@img/moved", "@img/refused"} {
		_, err := c.Packument(t.Context(), name, true)
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		errs = append(errs, err)
	}

	if got := scoped.headers("Authorization"); fmt.Sprint(got) != fmt.Sprint(slices.Repeat([]string{"Bearer " + token}, 4)) {
		t.Errorf("the scoped registry got Authorization %q, want the token on each of 4 requests", got)
	}
	if got := public.seen(); fmt.Sprint(got) != "[/sharp /@img%2fmoved]" {
		t.Errorf("the public registry got %v", got)
	}
	for _, h := range public.headers("Authorization") {
		if h != "" {
			t.Errorf("the token went to the public registry: %q", h)
		}
	}
	for _, err := range errs {
		if strings.Contains(err.Error(), token) {
			t.Errorf("an error shows the token: %v", err)
		}
	}
	for _, printed := range []string{fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%+v", c.hc), fmt.Sprintf("%+v", cfg)} {
		if strings.Contains(printed, token) {
			t.Errorf("printing shows the token: %s", printed)
		}
	}
	if want := fmt.Sprintf("no package %q on %s", "@img/nope", scoped.url()); errs[0].Error() != want {
		t.Errorf("error = %q, want %q", errs[0], want)
	}
	if !errors.Is(errs[0], ErrNotFound) {
		t.Errorf("%v is not ErrNotFound", errs[0])
	}
	if want := filepath.Join(project, ".npmrc") + ":3"; !strings.Contains(errs[2].Error(), "401 Unauthorized") || !strings.Contains(errs[2].Error(), want) {
		t.Errorf("error %q should say 401 and where the credential came from (%s)", errs[2], want)
	}
}

func TestUnsetTokenVariableHint(t *testing.T) {
	reg := newFakeRegistry(t)
	reg.fail = func(w http.ResponseWriter, _ *http.Request, _ int) bool {
		http.Error(w, "", http.StatusUnauthorized)
		return true
	}
	project := t.TempDir()
	writeFile(t, filepath.Join(project, ".npmrc"), strings.TrimPrefix(reg.url(), "http:")+":_authToken=${NPM_TOKEN}\n")
	cfg, err := loadConfig(project, "", envOf(map[string]string{"npm_config_registry": reg.url()}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = newTestClient(t, cfg, ClientOptions{}).Packument(t.Context(), "sharp", true)
	if err == nil || !strings.Contains(err.Error(), "${NPM_TOKEN}, which is not set") {
		t.Errorf("error %v should say NPM_TOKEN is not set", err)
	}
	if len(reg.seen()) != 1 {
		t.Errorf("a refusal was retried: %v", reg.seen())
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		failures int
		wantErr  string // "" for success
		requests int
	}{
		{"500 then success", 500, 2, "", 3},
		{"429 then success", 429, 1, "", 2},
		{"503 every time", 503, 100, "(4 attempts): 503 Service Unavailable", 4},
		{"404 is not retried", 404, 100, `no package "sharp" on`, 1},
		{"400 is not retried", 400, 100, "(1 attempt): 400 Bad Request", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := newFakeRegistry(t)
			reg.fail = func(w http.ResponseWriter, _ *http.Request, n int) bool {
				if n > tt.failures {
					return false
				}
				w.Header().Set("Retry-After", "0")
				http.Error(w, "no", tt.status)
				return true
			}
			_, err := newTestClient(t, Config{Registry: reg.url()}, ClientOptions{}).Packument(t.Context(), "sharp", true)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error = %v, want %q", err, tt.wantErr)
			}
			if got := len(reg.seen()); got != tt.requests {
				t.Errorf("%d requests, want %d", got, tt.requests)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	for _, stall := range []string{"before the headers", "in the body"} {
		t.Run(stall, func(t *testing.T) {
			reg := newFakeRegistry(t)
			reg.fail = func(w http.ResponseWriter, r *http.Request, _ int) bool {
				if stall == "in the body" {
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write([]byte(`{"name":"sharp","versions":{`))
					w.(http.Flusher).Flush()
				}
				select {
				case <-r.Context().Done():
				case <-time.After(10 * time.Second):
				}
				return true
			}
			c := newTestClient(t, Config{Registry: reg.url()}, ClientOptions{Timeout: 100 * time.Millisecond, Attempts: 2})
			_, err := c.Packument(t.Context(), "sharp", true)
			var fe *FetchError
			if !errors.As(err, &fe) || fe.Attempts != 2 || !strings.Contains(err.Error(), "no complete answer within 100ms") {
				t.Errorf("error = %v, want a timeout after 2 attempts", err)
			}
			if !strings.Contains(err.Error(), reg.url()+"sharp") {
				t.Errorf("error %v should name the URL", err)
			}
			if got := len(reg.seen()); got != 2 {
				t.Errorf("%d requests, want 2", got)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = newTestClient(t, Config{Registry: "http://" + addr + "/"}, ClientOptions{Attempts: 3}).Packument(t.Context(), "sharp", true)
	var fe *FetchError
	if !errors.As(err, &fe) || fe.Attempts != 3 || fe.URL != "http://"+addr+"/sharp" {
		t.Fatalf("error = %#v", err)
	}
	if !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "3 attempts") {
		t.Errorf("error %q should say what failed and how often", err)
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	reg := newFakeRegistry(t)
	ctx, cancel := context.WithCancel(t.Context())
	reg.fail = func(w http.ResponseWriter, _ *http.Request, _ int) bool {
		cancel()
		http.Error(w, "", http.StatusServiceUnavailable)
		return true
	}
	start := time.Now()
	_, err := newTestClient(t, Config{Registry: reg.url()}, ClientOptions{Backoff: time.Hour}).Packument(ctx, "sharp", true)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 10*time.Second {
		t.Errorf("error = %v after %v, want context.Canceled at once", err, time.Since(start))
	}
	if len(reg.seen()) != 1 {
		t.Errorf("requests %v after cancel", reg.seen())
	}
}

func TestMaxInFlight(t *testing.T) {
	reg := newFakeRegistry(t)
	var now, most atomic.Int32
	reg.fail = func(w http.ResponseWriter, r *http.Request, _ int) bool {
		n := now.Add(1)
		defer now.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		http.Error(w, "", http.StatusNotFound)
		return true
	}
	c := newTestClient(t, Config{Registry: reg.url()}, ClientOptions{MaxInFlight: 2})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() { _, _ = c.Packument(t.Context(), fmt.Sprintf("p%d", i), true) })
	}
	wg.Wait()
	if most.Load() > 2 || len(reg.seen()) != 8 {
		t.Errorf("%d requests at once (limit 2), %d in all", most.Load(), len(reg.seen()))
	}
}

func TestByteLimit(t *testing.T) {
	size := len(fixture(t, "sharp"))
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			reg := newFakeRegistry(t)
			reg.fail = func(w http.ResponseWriter, r *http.Request, _ int) bool {
				if chunked {
					w.(http.Flusher).Flush()
				} else {
					w.Header().Set("Content-Length", fmt.Sprint(size))
				}
				reg.serveFixture(w, r)
				return true
			}
			c := newTestClient(t, Config{Registry: reg.url()}, ClientOptions{MaxBytes: int64(size) - 1})
			_, err := c.Packument(t.Context(), "sharp", true)
			if !errors.Is(err, ErrTooLarge) {
				t.Errorf("error = %v, want ErrTooLarge", err)
			}
			if len(reg.seen()) != 1 {
				t.Errorf("a document over the limit was retried: %v", reg.seen())
			}
			exact := newTestClient(t, Config{Registry: reg.url()}, ClientOptions{MaxBytes: int64(size)})
			if _, err := exact.Packument(t.Context(), "sharp", true); err != nil {
				t.Errorf("a document of exactly the limit: %v", err)
			}
		})
	}
}

func TestMalformedDocumentNotRetried(t *testing.T) {
	reg := newFakeRegistry(t)
	reg.fail = func(w http.ResponseWriter, _ *http.Request, _ int) bool {
		_, _ = w.Write([]byte(`{"name":"sharp","versions":{"1.0.0":{}},}`))
		return true
	}
	_, err := newTestClient(t, Config{Registry: reg.url()}, ClientOptions{}).Packument(t.Context(), "sharp", true)
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "offset") {
		t.Errorf("error = %v, want ErrMalformed with an offset", err)
	}
	if len(reg.seen()) != 1 {
		t.Errorf("%d requests, want 1", len(reg.seen()))
	}
}

func TestInvalidNames(t *testing.T) {
	reg := newFakeRegistry(t)
	c := newTestClient(t, Config{Registry: reg.url()}, ClientOptions{})
	for _, name := range []string{"", "../etc/passwd", "a/b", "@scope", "@/x", "@s/", "sp ace", ".hidden", "a?b=c", "a%2fb", strings.Repeat("x", 215)} {
		if _, err := c.Packument(t.Context(), name, true); !errors.Is(err, ErrInvalidName) {
			t.Errorf("%q: error = %v, want ErrInvalidName", name, err)
		}
	}
	if len(reg.seen()) != 0 {
		t.Errorf("invalid names reached the registry: %v", reg.seen())
	}
	for _, name := range []string{"sharp", "@img/sharp-linux-x64", "JSONStream", "lodash.get", "a~b"} {
		if err := ValidName(name); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
}

func TestExtraCACerts(t *testing.T) {
	reg := newFakeRegistry(t)
	tlsReg := httptest.NewUnstartedServer(reg.Config.Handler)
	tlsReg.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	tlsReg.StartTLS()
	t.Cleanup(tlsReg.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	writeFile(t, caFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsReg.Certificate().Raw})))

	c := newTestClient(t, Config{Registry: tlsReg.URL + "/", ExtraCAFile: caFile}, ClientOptions{})
	if _, err := c.Packument(t.Context(), "sharp", true); err != nil {
		t.Fatalf("with NODE_EXTRA_CA_CERTS: %v", err)
	}
	_, err := newTestClient(t, Config{Registry: tlsReg.URL + "/"}, ClientOptions{}).Packument(t.Context(), "sharp", true)
	var fe *FetchError
	if !errors.As(err, &fe) || fe.Attempts != 1 || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without the CA: %v, want one failed attempt for the certificate", err)
	}

	// As Node.js, a CA file that cannot be read or holds no certificate is ignored; the
	// error of a registry whose certificate then fails says why.
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	writeFile(t, notPEM, "not a certificate")
	for file, why := range map[string]string{
		filepath.Join(t.TempDir(), "missing.pem"): "no such file",
		notPEM: "no PEM certificate",
	} {
		c, err := NewClient(Config{Registry: reg.url(), ExtraCAFile: file}, ClientOptions{})
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if _, err := c.Packument(t.Context(), "sharp", true); err != nil {
			t.Errorf("%s, a registry without TLS: %v", file, err)
		}
		c, err = NewClient(Config{Registry: tlsReg.URL + "/", ExtraCAFile: file}, ClientOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Packument(t.Context(), "sharp", true)
		if err == nil || !strings.Contains(err.Error(), "certificate") || !strings.Contains(err.Error(), "NODE_EXTRA_CA_CERTS="+file+" was ignored") ||
			!strings.Contains(err.Error(), why) {
			t.Errorf("%s, a registry whose certificate fails: %v", file, err)
		}
	}
}

// TestDeadline: a registry that never answers fails the package within
// ClientOptions.Deadline, whatever the attempts and the time limit of one.
func TestDeadline(t *testing.T) {
	reg := newFakeRegistry(t)
	reg.fail = func(w http.ResponseWriter, r *http.Request, _ int) bool {
		<-r.Context().Done()
		return true
	}
	c := newTestClient(t, Config{Registry: reg.url()}, ClientOptions{Attempts: 1000, Timeout: 300 * time.Millisecond, Deadline: time.Second})
	start := time.Now()
	_, err := c.Packument(t.Context(), "sharp", true)
	took := time.Since(start)
	var fe *FetchError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "no answer within 1s, the limit for one package") || took > 5*time.Second {
		t.Errorf("after %v: %v", took, err)
	}
	if n := len(reg.seen()); n < 2 || n > 5 {
		t.Errorf("%d attempts in the deadline", n)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("%v does not match context.DeadlineExceeded", err)
	}
}

// TestProxyFromEnvironment runs itself again in a child process, because
// http.ProxyFromEnvironment reads the environment once per process.
func TestProxyFromEnvironment(t *testing.T) {
	if os.Getenv("REGISTRY_TEST_PROXY_CHILD") == "1" {
		proxyChild(t)
		return
	}
	reg := newFakeRegistry(t) // the proxy: it gets the absolute URL of each request
	cmd := exec.Command(os.Args[0], "-test.run=^TestProxyFromEnvironment$", "-test.v")
	cmd.Env = append(os.Environ(),
		"REGISTRY_TEST_PROXY_CHILD=1",
		"HTTP_PROXY="+reg.URL, "http_proxy="+reg.URL,
		"NO_PROXY=direct.example", "no_proxy=direct.example",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if got := reg.seen(); fmt.Sprint(got) != "[http://registry.example/sharp]" {
		t.Errorf("the proxy got %v", got)
	}
}

func proxyChild(t *testing.T) {
	c := newTestClient(t, Config{Registry: "http://registry.example/"}, ClientOptions{Attempts: 1})
	if _, err := c.Packument(t.Context(), "sharp", true); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	proxy := c.hc.Transport.(authTransport).base.(*http.Transport).Proxy
	req, _ := http.NewRequest(http.MethodGet, "http://direct.example/sharp", nil)
	if u, err := proxy(req); u != nil || err != nil {
		t.Errorf("NO_PROXY host goes through %v, %v", u, err)
	}
}
