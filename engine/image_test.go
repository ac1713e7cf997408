package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
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
	arm64b := executor.Image{Ref: "node:20", ID: "sha256:arm-b", OS: "linux", Architecture: "arm64"}
	s390x := executor.Image{Ref: "node:22", ID: "sha256:s390x", OS: "linux", Architecture: "s390x"}
	const program, shell = "program", "sh"
	tests := []struct {
		name      string
		arch      string
		imgs      []executor.Image
		emulation bool // whether the fake runs foreign programs
		shFails   bool // whether `sh -c true` fails in the images
		probes    []string
		err       []string // what the refusal says, for every image
	}{
		{name: "own CPU", arch: "amd64", imgs: []executor.Image{{ID: "x", OS: "linux", Architecture: "amd64"}}},
		{name: "unknown engine CPU", arch: "", imgs: []executor.Image{arm64}},
		{name: "unknown image CPU", arch: "amd64", imgs: []executor.Image{{ID: "x"}}},
		{name: "emulated", arch: "amd64", imgs: []executor.Image{arm64}, emulation: true, probes: []string{program, shell}},
		{name: "emulation probed once per platform", arch: "amd64", imgs: []executor.Image{arm64, arm64b}, emulation: true,
			probes: []string{program, shell, shell}},
		{name: "not emulated", arch: "amd64", imgs: []executor.Image{arm64, arm64b}, probes: []string{program},
			err: []string{"is linux/arm64 and this engine runs amd64: it cannot run it without emulation: a linux/arm64 program does not run on it",
				"scripts/setup.sh", "docker/setup-qemu-action", "an arm64 engine (--engine)", "cross_built = true"}},
		{name: "emulated, the image's shell fails", arch: "amd64", imgs: []executor.Image{arm64}, emulation: true, shFails: true,
			probes: []string{program, shell}, err: []string{"image node:22 is linux/arm64; this engine (amd64) emulates that CPU, but `sh -c true` fails in the image"}},
		{name: "a CPU without a probe program, emulated", arch: "amd64", imgs: []executor.Image{s390x}, emulation: true, probes: []string{shell}},
		{name: "a CPU without a probe program, not emulated", arch: "amd64", imgs: []executor.Image{s390x}, probes: []string{shell},
			err: []string{"image node:22 is linux/s390x and this engine runs amd64: it cannot run it without emulation", "scripts/setup.sh"}},
		{name: "an arm64 engine probes amd64", arch: "arm64", imgs: []executor.Image{{Ref: "node:22", ID: "y", OS: "linux", Architecture: "amd64"}},
			emulation: true, probes: []string{program, shell}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake()
			fake.statusOf = func(cfg *container.Config) int64 {
				switch {
				case cfg.Entrypoint[0] == probePath && !tc.emulation, cfg.Entrypoint[0] == "sh" && (tc.shFails || !tc.emulation):
					return 1
				}
				return 0
			}
			e := newEngine(fake, PullNever, tc.arch)
			for _, img := range tc.imgs {
				first := e.Runnable(context.Background(), img)
				again := e.Runnable(context.Background(), img) // from the cache
				for _, err := range []error{first, again} {
					if (err == nil) != (len(tc.err) == 0) {
						t.Fatalf("%s: err = %v, want %q", img.Ref, err, tc.err)
					}
					for _, want := range tc.err {
						if !strings.Contains(err.Error(), want) {
							t.Errorf("%s: err = %v, want %q in it", img.Ref, err, want)
						}
					}
				}
			}
			var probes []string
			for i, c := range fake.created {
				kind := shell
				if c.cfg.Entrypoint[0] == probePath {
					kind = program
					id := fmt.Sprintf("container%d:/", i+1)
					f, err := elf.NewFile(bytes.NewReader(untar(t, fake.copiedIn[id], probePath[1:])))
					if err != nil || f.Machine != map[string]elf.Machine{"arm64": elf.EM_AARCH64, "amd64": elf.EM_X86_64}[tc.imgs[0].Architecture] {
						t.Errorf("program copied into %s: %v, %v", id, f, err)
					}
				}
				probes = append(probes, kind)
				if c.hc.NetworkMode != "none" || c.platform.OS+"/"+c.platform.Architecture != tc.imgs[0].Platform() {
					t.Errorf("probe %d = %+v %+v %+v, want no network, %s", i, c.cfg, c.hc, c.platform, tc.imgs[0].Platform())
				}
			}
			if !slices.Equal(probes, tc.probes) || len(fake.removed) != len(tc.probes) {
				t.Errorf("probes %q, %d removed; want %q, all removed", probes, len(fake.removed), tc.probes)
			}
		})
	}
}

// untar is the content of the file name in the tar stream data.
func untar(t *testing.T, data []byte, name string) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s not in the copied stream: %v", name, err)
		}
		if h.Name == name {
			if h.Mode&0o111 == 0 {
				t.Errorf("%s has mode %o: not executable", name, h.Mode)
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
}

// The probe programs are valid ELF executables of their CPU; the one of this
// machine's CPU runs here and exits 0 (the other runs under emulation in
// TestRunnableForeignImage and the arm64 integration test).
func TestEmulationProbe(t *testing.T) {
	for arch, machine := range map[string]elf.Machine{"arm64": elf.EM_AARCH64, "amd64": elf.EM_X86_64} {
		prog, ok := emulationProbe(arch)
		if !ok {
			t.Fatalf("no program for %s", arch)
		}
		f, err := elf.NewFile(bytes.NewReader(prog))
		if err != nil {
			t.Fatalf("%s: %v", arch, err)
		}
		if f.Machine != machine || f.Type != elf.ET_EXEC || len(f.Progs) != 1 || f.Entry < f.Progs[0].Vaddr || f.Entry >= f.Progs[0].Vaddr+f.Progs[0].Filesz {
			t.Errorf("%s: machine %v, type %v, entry %#x, segments %d", arch, f.Machine, f.Type, f.Entry, len(f.Progs))
		}
		if arch != runtime.GOARCH {
			continue
		}
		path := filepath.Join(t.TempDir(), "probe")
		if err := os.WriteFile(path, prog, 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(path).CombinedOutput(); err != nil || len(out) != 0 {
			t.Errorf("running the %s program: %v, output %q", arch, err, out)
		}
	}
	if _, ok := emulationProbe("s390x"); ok {
		t.Error("a program for s390x")
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
