package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/plan"
)

// testImage is a small local image with a shell (built by scripts/images.sh).
func testImage() string {
	if img := os.Getenv("MATRIX_TEST_IMAGE"); img != "" {
		return img
	}
	return "local/debian:bookworm"
}

// connect returns an engine, or skips the test where none runs. In CI (CI=true) a
// missing engine or image fails the test instead: CI must prove the real thing.
func connect(t *testing.T, pull PullPolicy) *Engine {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e, err := Connect(ctx, pull)
	if err == nil {
		_, err = e.cli.ImageInspect(ctx, testImage())
		if err != nil {
			err = fmt.Errorf("test image %s: %w (run scripts/images.sh)", testImage(), err)
		}
	}
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("MATRIX_REQUIRE_DOCKER") != "" {
			t.Fatalf("Docker engine needed: %v", err)
		}
		t.Skipf("no Docker engine: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func cell(script string) plan.Cell {
	return plan.Cell{
		Target: "t", Image: testImage(), Workdir: "/build", Network: "host",
		Script: script, Collect: "/build/out", Artifact: "a.tar.gz", Timeout: time.Minute,
	}
}

// newRunID is a run ID unique to this test and this moment.
func newRunID(t *testing.T) string {
	var b [6]byte
	rand.Read(b[:])
	return "test-" + strings.ToLower(strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())) + "-" + hex.EncodeToString(b[:])
}

// assertNoContainers fails when a container labelled with runID is left.
func assertNoContainers(t *testing.T, e *Engine, runID string) {
	t.Helper()
	ids, err := e.RunContainers(context.Background(), runID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) > 0 {
		t.Errorf("containers of run %s left: %v", runID, ids)
	}
}

func resolve(t *testing.T, e *Engine, ref string) executor.Image {
	t.Helper()
	img, err := e.Resolve(context.Background(), ref, "")
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestBuildCollectsTree(t *testing.T) {
	e := connect(t, PullNever)
	runID := newRunID(t)
	var log bytes.Buffer
	c := cell(`mkdir -p out/sub && echo hello > out/sub/f.txt && ln -s sub/f.txt out/link && echo "to stdout" && echo "to stderr" >&2 && echo "$GREETING" && sed s/in/out/ lock.in > lock.out`)
	c.LockFiles = []string{"lock.out", "absent.json"}
	job := executor.Job{RunID: runID, Cell: c, Image: resolve(t, e, testImage()), Env: []string{"GREETING=hi there"},
		Inputs: executor.Files{"lock.in": []byte("locked in\n")}, Log: &log}
	var names []string
	files, err := e.Build(context.Background(), job, func(r io.Reader) (err error) {
		names, err = tarLines(r, func(h *tar.Header, _ []byte) string { return fmt.Sprintf("%s %c %s", h.Name, h.Typeflag, h.Linkname) })
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"out/ 5 ", "out/link 2 sub/f.txt", "out/sub/ 5 ", "out/sub/f.txt 0 "}
	if strings.Join(names, "|") != strings.Join(want, "|") {
		t.Errorf("tree = %q, want %q", names, want)
	}
	if len(files) != 1 || string(files["lock.out"]) != "locked out\n" {
		t.Errorf("captured files = %q, want lock.out from the locked input, and no absent.json", files)
	}
	for _, s := range []string{"to stdout", "to stderr", "hi there"} {
		if !strings.Contains(log.String(), s) {
			t.Errorf("log lacks %q: %q", s, log.String())
		}
	}
	assertNoContainers(t, e, runID)
}

func TestBuildFailures(t *testing.T) {
	e := connect(t, PullNever)
	img := resolve(t, e, testImage())
	tests := []struct {
		name    string
		script  string
		collect string
		timeout time.Duration
		check   func(error) bool
		want    string
	}{
		{"non-zero exit", "echo before; exit 3", "/build", 0,
			func(err error) bool { var x *executor.ExitError; return errors.As(err, &x) && x.Code == 3 }, "status 3"},
		{"status 137 of its own", "exit 137", "/build", 0,
			func(err error) bool {
				var x *executor.ExitError
				return errors.As(err, &x) && x.Code == 137 && !executor.IsTransient(err)
			}, "status 137"},
		{"missing collect path", "true", "/nowhere", 0, nil, "collect path /nowhere does not exist"},
		{"cancelled while running", "sleep 60", "/build", 2 * time.Second,
			func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runID := newRunID(t)
			c := cell(tc.script)
			c.Collect = tc.collect
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel func()
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			start := time.Now()
			var log bytes.Buffer
			_, err := e.Build(ctx, executor.Job{RunID: runID, Cell: c, Image: img, Log: &log}, func(io.Reader) error { return nil })
			if err == nil {
				t.Fatal("no error")
			}
			if tc.check != nil && !tc.check(err) {
				t.Errorf("err = %#v (%v)", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q in it", err, tc.want)
			}
			if time.Since(start) > 30*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
			assertNoContainers(t, e, runID)
		})
	}
}

func TestResolveMissingImage(t *testing.T) {
	for _, pull := range []PullPolicy{PullNever, PullMissing, PullAlways} {
		t.Run(string(pull), func(t *testing.T) {
			e := connect(t, pull)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := e.Resolve(ctx, "local/does-not-exist:1", "")
			if err == nil || !strings.Contains(err.Error(), "local/does-not-exist:1") {
				t.Fatalf("err = %v, want an error naming the image", err)
			}
			if IsTransientForTest(err) {
				t.Errorf("a missing image is not transient: %v", err)
			}
		})
	}
}

func IsTransientForTest(err error) bool { return executor.IsTransient(err) }

func TestTestCopiesTreeIn(t *testing.T) {
	e := connect(t, PullNever)
	runID := newRunID(t)
	c := cell("true")
	c.Test = &plan.Test{Image: testImage(), Workdir: "/test", Network: "host", Script: "cat /test/node_modules/x.js", Timeout: time.Minute}
	var tree bytes.Buffer
	tw := tar.NewWriter(&tree)
	tw.WriteHeader(&tar.Header{Name: "node_modules/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "node_modules/x.js", Typeflag: tar.TypeReg, Mode: 0o644, Size: 5})
	tw.Write([]byte("found"))
	tw.Close()
	var log bytes.Buffer
	err := e.Test(context.Background(), executor.TestJob{RunID: runID, Cell: c, Image: resolve(t, e, testImage()),
		Tree: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(tree.Bytes())), nil }, Log: &log})
	if err != nil {
		t.Fatalf("%v; log: %s", err, log.String())
	}
	if !strings.Contains(log.String(), "found") {
		t.Errorf("log = %q", log.String())
	}
	assertNoContainers(t, e, runID)
}

// TestRemoveLeftovers: RemoveLeftovers removes a container of a run whose process is
// gone and returns it with its run and cell, and keeps a live run's. Another process
// may sweep the same leftover first (each `matrix run` of the integration tests, in
// the same `go test ./...`, does): then the leftover must be gone all the same and
// this call must not list it, and the test tries again with a new leftover, until
// this call is the one that removed it.
func TestRemoveLeftovers(t *testing.T) {
	e := connect(t, PullNever)
	ctx := context.Background()
	create := func(lbl map[string]string) string {
		t.Helper()
		resp, err := e.cli.ContainerCreate(ctx, &container.Config{Image: testImage(), Cmd: []string{"true"}, Labels: lbl}, nil, nil, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		return resp.ID
	}
	live := create(labels(newRunID(t)+"-live", "live cell")) // this process: must be kept
	defer e.remove(live)
	const attempts = 5
	for attempt := 1; ; attempt++ {
		runID := newRunID(t)
		lbl := labels(runID, "killed cell")
		lbl[LabelPID] = "999999999" // no such process: the run that made it is gone
		id := create(lbl)
		removed, err := e.RemoveLeftovers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, l := range removed {
			if l.ID == id {
				found = true
				if l.Run != runID || l.Cell != "killed cell" {
					t.Errorf("leftover %+v: run and cell not from its labels", l)
				}
			}
			if l.ID == live {
				t.Fatal("removed a container of a live run")
			}
		}
		// Whoever removed it, it is gone (another client's removal may still be under way).
		waitNoContainers(t, e, runID)
		if found {
			return
		}
		if attempt == attempts {
			t.Fatalf("another process removed the leftover before RemoveLeftovers did, %d times in a row", attempts)
		}
		t.Logf("attempt %d: another process removed the leftover first; RemoveLeftovers rightly did not list it", attempt)
	}
}

// waitNoContainers fails when a container labelled with runID is still there after
// a few seconds.
func waitNoContainers(t *testing.T, e *Engine, runID string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		ids, err := e.RunContainers(context.Background(), runID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("leftover not removed: %v", ids)
		}
	}
}

// foreignImage loads, as ref, an image that claims linux/arm64 and whose /bin/sh is
// sh: an arm64 program that exits 0 whatever its arguments (emulationProbe), or a
// bare arm64 ELF header that no engine runs, with or without emulation.
func foreignImage(t *testing.T, e *Engine, ref string, sh []byte) string {
	t.Helper()
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	tw.WriteHeader(&tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "bin/sh", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(sh))})
	tw.Write(sh)
	tw.Close()
	sum := sha256.Sum256(layer.Bytes())
	config := fmt.Sprintf(`{"architecture":"arm64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%x"]}}`, sum)
	manifest := `[{"Config":"config.json","RepoTags":["` + ref + `"],"Layers":["layer.tar"]}]`
	var image bytes.Buffer
	iw := tar.NewWriter(&image)
	for _, f := range []struct {
		name string
		data []byte
	}{{"manifest.json", []byte(manifest)}, {"config.json", []byte(config)}, {"layer.tar", layer.Bytes()}} {
		iw.WriteHeader(&tar.Header{Name: f.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(f.data))})
		iw.Write(f.data)
	}
	iw.Close()
	cli, ok := e.cli.(*client.Client)
	if !ok {
		t.Fatalf("engine client is a %T", e.cli)
	}
	resp, err := cli.ImageLoad(context.Background(), &image)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return ref
}

// emulatesArm64 reports whether this machine's kernel runs arm64 programs in
// containers: a binfmt_misc handler for them, enabled, with the F flag
// (scripts/emulation.sh registers it). The tests' engine is this machine's.
func emulatesArm64(t *testing.T) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/fs/binfmt_misc/qemu-aarch64")
	return err == nil && strings.HasPrefix(string(b), "enabled\n") && regexp.MustCompile(`(?m)^flags: .*F`).Match(b)
}

// On an amd64 engine, an arm64 image runs exactly when the machine emulates arm64;
// when it does, an image whose shell is no program is refused for that, not for a
// lack of emulation.
func TestRunnableForeignImage(t *testing.T) {
	e := connect(t, PullNever)
	if e.arch != "amd64" {
		t.Skipf("the probe images are arm64; this engine is %s", e.arch)
	}
	if err := e.Runnable(context.Background(), resolve(t, e, testImage())); err != nil {
		t.Errorf("the engine's own platform: %v", err)
	}
	prog, _ := emulationProbe("arm64")
	good := resolve(t, e, foreignImage(t, e, "local/matrix-test-arm64:runs", prog))
	broken := resolve(t, e, foreignImage(t, e, "local/matrix-test-arm64:probe",
		[]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00\x01\x00\x00\x00")))
	if good.Platform() != "linux/arm64" || broken.Platform() != "linux/arm64" {
		t.Fatalf("probe images are %s and %s", good.Platform(), broken.Platform())
	}
	emulated := emulatesArm64(t)
	wantGood, wantBroken := "", "cannot run it without emulation: a linux/arm64 program does not run on it"
	if emulated {
		wantBroken = "this engine (amd64) emulates that CPU, but `sh -c true` fails in the image"
	}
	t.Logf("arm64 emulation on this machine: %v", emulated)
	for _, tc := range []struct {
		img  executor.Image
		want string
	}{{good, wantGood}, {broken, wantBroken}, {good, wantGood}} {
		err := e.Runnable(context.Background(), tc.img)
		if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.img.Ref, err, tc.want)
		}
		if again := e.Runnable(context.Background(), tc.img); fmt.Sprint(again) != fmt.Sprint(err) {
			t.Errorf("%s: second answer differs: %v", tc.img.Ref, again)
		}
	}
	assertNoContainers(t, e, "probe")
}
