package registry

import (
	"errors"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// acceptRecorder records the Accept header of each request it sends.
type acceptRecorder struct {
	base    http.RoundTripper
	mu      sync.Mutex
	accepts []string
}

func (a *acceptRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	a.mu.Lock()
	a.accepts = append(a.accepts, req.Header.Get("Accept"))
	a.mu.Unlock()
	return a.base.RoundTrip(req)
}

// TestRealRegistry resolves sharp on the registry npm on this machine uses: versions
// from the abbreviated document, npm_package from the full one, which is asked for
// only when the abbreviated request was not answered with it. Where the registry
// cannot be reached the test skips, unless MATRIX_REQUIRE_REGISTRY=1 (CI), where it
// fails.
func TestRealRegistry(t *testing.T) {
	cfg, err := LoadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	// npm's own answer covers its global configuration too, which LoadConfig does not read.
	if out, err := exec.Command("npm", "config", "get", "registry").Output(); err == nil {
		if r := strings.TrimSpace(string(out)); strings.HasPrefix(r, "http") {
			cfg.Registry = strings.TrimSuffix(r, "/") + "/"
		}
	}
	hc, _ := environmentHTTPClient(cfg.ExtraCAFile)
	rec := &acceptRecorder{base: hc.Transport}
	hc.Transport = rec
	c, err := NewClient(cfg, ClientOptions{Attempts: 2, Timeout: time.Minute, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Packument(t.Context(), "sharp", false)
	var fe *FetchError
	if errors.As(err, &fe) && os.Getenv("MATRIX_REQUIRE_REGISTRY") != "1" {
		t.Skipf("the registry cannot be reached (MATRIX_REQUIRE_REGISTRY=1 makes this a failure): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}

	got, err := Select(p, ">=0.33.0 <0.35.0", Options{Per: "minor"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// 0.33 is finished; 0.34 may still get a patch release.
	if len(got) != 2 || got[0] != "0.33.5" || !strings.HasPrefix(got[1], "0.34.") {
		t.Errorf("sharp >=0.33.0 <0.35.0 per minor = %v, want [0.33.5 0.34.x]", got)
	}
	full, err := c.Packument(t.Context(), "sharp", true)
	if err != nil {
		t.Fatal(err)
	}
	info, err := Package(full, "0.33.5")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(info.Integrity, "sha512-") || info.Published.IsZero() || info.Engines["node"] == "" {
		t.Errorf("sharp 0.33.5 = %+v", info)
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	asked := slices.Compact(slices.Clone(rec.accepts)) // a retry asks the same again
	want := []string{abbreviatedAccept, fullAccept}
	if p.Full {
		t.Log("the registry answered the abbreviated request with the full document")
		want = want[:1]
	}
	if !slices.Equal(asked, want) {
		t.Errorf("Accept headers of the requests = %q, want %q", rec.accepts, want)
	}
}
