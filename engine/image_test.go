package engine

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/image"
	"github.com/matrixbuild/matrix/executor"
)

func TestPullNeeded(t *testing.T) {
	tests := []struct {
		policy                         PullPolicy
		missing, wrongPlatform, pulled bool
		want                           bool
		err                            error
	}{
		{PullMissing, false, false, false, false, nil},
		{PullMissing, true, false, false, true, nil},
		{PullMissing, false, true, false, true, nil},
		{PullMissing, false, true, true, true, nil}, // another platform was pulled over it since
		{PullAlways, false, false, false, true, nil},
		{PullAlways, false, false, true, false, nil}, // once per run
		{PullAlways, true, false, true, true, nil},
		{PullAlways, false, true, true, true, nil},
		{PullNever, false, false, false, false, nil},
		{PullNever, false, true, false, false, nil}, // Runnable says whether it runs
		{PullNever, true, false, false, false, errNeverPull},
	}
	for _, tc := range tests {
		got, err := pullNeeded(tc.policy, tc.missing, tc.wrongPlatform, tc.pulled)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("pullNeeded(%s, missing=%v, wrongPlatform=%v, pulled=%v) = %v, %v; want %v, %v",
				tc.policy, tc.missing, tc.wrongPlatform, tc.pulled, got, err, tc.want, tc.err)
		}
	}
}

func TestResolve(t *testing.T) {
	const ref = "node:22"
	streamErr := `{"status":"Pulling from library/node"}` + "\n" + `{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}`
	tests := []struct {
		name       string
		policy     PullPolicy
		local      string   // the local image's platform; "" for none
		platforms  []string // one Resolve each, in order
		pullErr    error
		pullStream string
		wantPulls  []string
		want       string // the last image's platform
		err        string
		transient  bool
	}{
		{name: "missing is pulled", policy: PullMissing, platforms: []string{""},
			wantPulls: []string{ref + "|"}, want: "linux/amd64"},
		{name: "present is not pulled", policy: PullMissing, local: "linux/amd64", platforms: []string{"", "linux/amd64"},
			want: "linux/amd64"},
		{name: "a variant matches its architecture", policy: PullMissing, local: "linux/arm64/v8", platforms: []string{"linux/arm64"},
			want: "linux/arm64/v8"},
		{name: "wrong platform is pulled", policy: PullMissing, local: "linux/amd64", platforms: []string{"linux/arm64"},
			wantPulls: []string{ref + "|linux/arm64"}, want: "linux/arm64"},
		{name: "always pulls once per ref and platform", policy: PullAlways, local: "linux/amd64", platforms: []string{"linux/amd64", "linux/amd64"},
			wantPulls: []string{ref + "|linux/amd64"}, want: "linux/amd64"},
		{name: "always pulls each platform", policy: PullAlways, local: "linux/amd64", platforms: []string{"linux/amd64", "linux/arm64", "linux/arm64"},
			wantPulls: []string{ref + "|linux/amd64", ref + "|linux/arm64"}, want: "linux/arm64"},
		{name: "never keeps a wrong platform", policy: PullNever, local: "linux/amd64", platforms: []string{"linux/arm64"},
			want: "linux/amd64"},
		{name: "never refuses a missing image", policy: PullNever, platforms: []string{""},
			err: "image node:22 is not on the engine and --pull=never"},
		{name: "pull error in the stream", policy: PullMissing, platforms: []string{""}, pullStream: streamErr,
			wantPulls: []string{ref + "|"}, err: "pulling image node:22: manifest unknown"},
		{name: "engine unreachable while pulling", policy: PullMissing, platforms: []string{""}, pullErr: connectionFailed(t),
			wantPulls: []string{ref + "|"}, err: "pulling image node:22", transient: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake()
			if tc.local != "" {
				fake.images[ref] = fakeImage(tc.local)
			}
			fake.pullErr, fake.pullStream = tc.pullErr, tc.pullStream
			e := fakeEngine(fake, tc.policy)
			var img executor.Image
			var err error
			for _, p := range tc.platforms {
				if img, err = e.Resolve(context.Background(), ref, p); err != nil {
					break
				}
			}
			if !slices.Equal(fake.pulls, tc.wantPulls) {
				t.Errorf("pulls = %q, want %q", fake.pulls, tc.wantPulls)
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || executor.IsTransient(err) != tc.transient {
					t.Fatalf("err = %v (transient %v), want %q (transient %v)", err, executor.IsTransient(err), tc.err, tc.transient)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if img.Platform() != tc.want || img.Ref != ref || img.ID != "sha256:"+tc.want {
				t.Errorf("image = %+v, want %s", img, tc.want)
			}
		})
	}
}

func TestRunnable(t *testing.T) {
	arm64 := executor.Image{Ref: "node:22", ID: "sha256:arm", OS: "linux", Architecture: "arm64"}
	tests := []struct {
		name     string
		arch     string
		img      executor.Image
		status   int64 // of the probe
		probes   int
		err      string
		platform string // of the probe container
	}{
		{name: "own CPU", arch: "amd64", img: executor.Image{ID: "x", OS: "linux", Architecture: "amd64"}},
		{name: "unknown engine CPU", arch: "", img: arm64},
		{name: "unknown image CPU", arch: "amd64", img: executor.Image{ID: "x"}},
		{name: "emulated", arch: "amd64", img: arm64, probes: 1, platform: "linux/arm64"},
		{name: "not emulated", arch: "amd64", img: arm64, status: 1, probes: 1, platform: "linux/arm64",
			err: "image node:22 is linux/arm64 and this engine runs amd64: it cannot run it without emulation"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake()
			fake.wait.StatusCode = tc.status
			e := newEngine(fake, PullNever, tc.arch)
			first := e.Runnable(context.Background(), tc.img)
			again := e.Runnable(context.Background(), tc.img) // from the cache
			for _, err := range []error{first, again} {
				if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
					t.Errorf("err = %v, want %q", err, tc.err)
				}
			}
			if len(fake.created) != tc.probes || len(fake.removed) != tc.probes {
				t.Fatalf("%d probe containers created, %d removed; want %d", len(fake.created), len(fake.removed), tc.probes)
			}
			if tc.probes > 0 {
				c := fake.created[0]
				if c.cfg.Image != tc.img.ID || c.hc.NetworkMode != "none" || c.platform.OS+"/"+c.platform.Architecture != tc.platform {
					t.Errorf("probe = %+v %+v %+v, want image %s, no network, %s", c.cfg, c.hc, c.platform, tc.img.ID, tc.platform)
				}
			}
		})
	}
}

// A probe cut short by the run's end says nothing about the image: it is not cached.
func TestRunnableCancelled(t *testing.T) {
	fake := newFake()
	ctx, cancel := context.WithCancel(context.Background())
	fake.onCreate = cancel
	e := fakeEngine(fake, PullNever)
	img := executor.Image{Ref: "node:22", ID: "sha256:arm", OS: "linux", Architecture: "arm64"}
	if err := e.Runnable(ctx, img); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want the cancellation", err)
	}
	if _, cached := e.runnable[img.ID]; cached {
		t.Error("a cancelled probe was cached")
	}
	if len(fake.removed) != 1 {
		t.Errorf("removed %q, want the container created as the run was cancelled", fake.removed)
	}
}

func TestInspect(t *testing.T) {
	fake := newFake()
	fake.images["node:22"] = image.InspectResponse{ID: "sha256:1", RepoDigests: []string{"node@sha256:2"}, Os: "linux", Architecture: "arm", Variant: "v7"}
	img, err := fakeEngine(fake, PullNever).inspect(context.Background(), "node:22")
	want := executor.Image{Ref: "node:22", ID: "sha256:1", RepoDigests: []string{"node@sha256:2"}, OS: "linux", Architecture: "arm", Variant: "v7"}
	if err != nil || img.Platform() != "linux/arm/v7" || img.ID != want.ID || !slices.Equal(img.RepoDigests, want.RepoDigests) {
		t.Errorf("inspect = %+v, %v; want %+v", img, err, want)
	}
}
