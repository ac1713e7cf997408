package engine

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
)

// TestDescribe: the emulation probe runs in an image of the engine's own CPU already
// on it, and says what it found; without such an image nothing is probed.
func TestDescribe(t *testing.T) {
	for _, tc := range []struct {
		name          string
		images        map[string]string // ref: platform
		status        int64             // of every probe container
		wantEmulates  []string
		wantEmulation string
	}{
		{"emulates arm64", map[string]string{"arm": "linux/arm64", "native": "linux/amd64"}, 0, []string{"linux/arm64"}, "probed linux/arm64 in a container of native"},
		{"no emulation", map[string]string{"native": "linux/amd64"}, 1, nil, "probed linux/arm64"},
		{"no image of its CPU", map[string]string{"arm": "linux/arm64"}, 0, nil, "not probed: no image of its own CPU"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake()
			for ref, p := range tc.images {
				fake.images[ref] = fakeImage(p)
			}
			fake.statusOf = func(*container.Config) int64 { return tc.status }
			d, err := fakeEngine(fake, PullNever).Describe(context.Background())
			if err != nil || !slices.Equal(d.Emulates, tc.wantEmulates) || !strings.HasPrefix(d.Emulation, tc.wantEmulation) || d.Arch != "amd64" {
				t.Errorf("Describe = %+v, %v; want emulates %v, %q", d, err, tc.wantEmulates, tc.wantEmulation)
			}
		})
	}
}
