package registry

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestRealRegistry resolves sharp on the registry npm on this machine uses. Where it
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
	c, err := NewClient(cfg, ClientOptions{Attempts: 2, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	c.Need("sharp", true)
	p, err := c.Packument(t.Context(), "sharp")
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
	info, err := Package(p, "0.33.5")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(info.Integrity, "sha512-") || info.Published.IsZero() || info.Engines["node"] == "" {
		t.Errorf("sharp 0.33.5 = %+v", info)
	}
}
