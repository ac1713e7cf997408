package runner

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/plan"
)

// fakeExec is an Executor whose builds are scripted per artifact name.
type fakeExec struct {
	name, arch string
	mu         sync.Mutex
	builds     map[string]int // Build calls per artifact
	// behave decides a build's outcome; nil: success with a one-file tree.
	behave func(ctx context.Context, job executor.Job, attempt int) error
	test   func(ctx context.Context, job executor.TestJob) error
}

func (f *fakeExec) Resolve(ctx context.Context, ref, platform string) (executor.Image, error) {
	arch := "amd64"
	for _, a := range []string{"arm64", "s390x"} {
		if strings.HasSuffix(ref, "-"+a) {
			arch = a
		}
	}
	return executor.Image{Ref: ref, ID: "sha256:" + strings.Repeat("ab", 32), OS: "linux", Architecture: arch}, nil
}

func (f *fakeExec) Name() string {
	if f.name == "" {
		return "fake"
	}
	return f.name
}

func (f *fakeExec) Arch() string {
	if f.arch == "" {
		return "amd64"
	}
	return f.arch
}

// Runnable: the fake engine is amd64 and has no emulation for s390x.
func (f *fakeExec) Runnable(ctx context.Context, img executor.Image) error {
	if img.Architecture == "s390x" {
		return errors.New("image " + img.Ref + " is linux/s390x and this engine cannot run it")
	}
	return nil
}

func (f *fakeExec) Build(ctx context.Context, job executor.Job, collect func(io.Reader) error) (executor.Files, error) {
	f.mu.Lock()
	if f.builds == nil {
		f.builds = map[string]int{}
	}
	f.builds[job.Cell.Artifact]++
	attempt := f.builds[job.Cell.Artifact]
	f.mu.Unlock()
	fmt.Fprintf(job.Log, "building %s\n", job.Cell.Artifact)
	if f.behave != nil {
		if err := f.behave(ctx, job, attempt); err != nil {
			return nil, err
		}
	}
	if err := collect(bytes.NewReader(treeTar(job.Cell.Artifact))); err != nil {
		return nil, err
	}
	files := executor.Files{}
	for _, name := range job.Cell.LockFiles {
		files[name] = append([]byte("lock of "+job.Cell.Artifact+": "), job.Inputs[name]...)
	}
	return files, nil
}

func (f *fakeExec) Test(ctx context.Context, job executor.TestJob) error {
	if f.test != nil {
		return f.test(ctx, job)
	}
	return nil
}

func (f *fakeExec) calls(artifact string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.builds[artifact]
}

// treeTar is a collected tree as the engine streams it: node_modules/ with one file.
func treeTar(content string) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "node_modules/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "node_modules/x.js", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(content))})
	tw.Write([]byte(content))
	tw.Close()
	return buf.Bytes()
}

func cells(names ...string) []plan.Cell {
	out := make([]plan.Cell, len(names))
	for i, n := range names {
		out[i] = plan.Cell{
			Target: "t", Axes: []plan.Axis{{Name: "i", Value: float64(i)}},
			// Each its own script: cells of the same inputs would be built once (twins.go).
			Image: "img", Workdir: "/build", Script: "true # " + n, Collect: "/build/node_modules",
			Artifact: n, Format: "tar.gz", Timeout: time.Minute, MaxSize: 1 << 20, Retries: 2,
		}
	}
	return out
}

func options(t *testing.T) Options {
	return Options{OutDir: t.TempDir(), Jobs: 4, RunID: "test"}
}

// readAndRun reads the output directory's records and runs, as the command does.
func readAndRun(ctx context.Context, engines []executor.Executor, cells []plan.Cell, opts Options) ([]Result, error) {
	recs, err := ReadRecords(opts.OutDir)
	if err != nil {
		return nil, err
	}
	return Run(ctx, engines, cells, recs, opts)
}

// assertClean checks that no temporary or untested file is left in dir.
func assertClean(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if atomicfile.IsTemp(e.Name()) {
			t.Errorf("left behind in %s: %s", dir, e.Name())
		}
	}
}

func artifactsOnDisk(t *testing.T, dir string) []string {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(dir, "*.tar.gz"))
	for i := range matches {
		matches[i] = filepath.Base(matches[i])
	}
	return matches
}

func TestRunKeepsPlanOrderAndRecords(t *testing.T) {
	// Later cells finish first; results and manifest keep the plan's order.
	names := []string{"a.tar.gz", "b.tar.gz", "c.tar.gz", "d.tar.gz"}
	exec := &fakeExec{behave: func(ctx context.Context, job executor.Job, _ int) error {
		time.Sleep(time.Duration(3-job.Cell.Axes[0].Value.(float64)) * 20 * time.Millisecond)
		return nil
	}}
	opts := options(t)
	results, err := readAndRun(context.Background(), []executor.Executor{exec}, cells(names...), opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if r.Cell.Artifact != names[i] || r.Err != nil || r.Artifact == nil {
			t.Errorf("result %d = %s, %v", i, r.Cell.Artifact, r.Err)
		}
	}
	rep, err := manifest.Verify(context.Background(), opts.OutDir)
	checked, problems := rep.Checked, rep.Problems
	if err != nil || len(problems) > 0 || checked != 4 {
		t.Fatalf("verify: %d checked, %v, %v", checked, problems, err)
	}
	m, _ := manifest.Read(opts.OutDir)
	if len(m.Artifacts) != 4 || len(m.Failed) != 0 || m.RunID != "test" {
		t.Errorf("manifest: %+v", m)
	}
	log, _ := os.ReadFile(filepath.Join(opts.OutDir, "logs", "a.tar.gz.log"))
	if !strings.Contains(string(log), "building a.tar.gz") {
		t.Errorf("log of a: %q", log)
	}
	assertClean(t, opts.OutDir)
}

func TestRunFailFastAndKeepGoing(t *testing.T) {
	names := []string{"ok1.tar.gz", "bad.tar.gz", "slow.tar.gz", "ok2.tar.gz"}
	behave := func(ctx context.Context, job executor.Job, _ int) error {
		switch job.Cell.Artifact {
		case "bad.tar.gz":
			fmt.Fprintln(job.Log, "npm ERR! something broke")
			return &executor.ExitError{Code: 1}
		case "slow.tar.gz":
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(300 * time.Millisecond):
			}
		}
		return nil
	}
	tests := []struct {
		name       string
		keepGoing  bool
		wantFailed []string
		wantBuilt  []string
	}{
		{"fail-fast", false, []string{"bad.tar.gz", "slow.tar.gz"}, nil},
		{"keep-going", true, []string{"bad.tar.gz"}, []string{"ok1.tar.gz", "ok2.tar.gz", "slow.tar.gz"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := options(t)
			opts.Jobs = 2
			opts.KeepGoing = tc.keepGoing
			results, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{behave: behave}}, cells(names...), opts)
			var runErr *RunError
			if !errors.As(err, &runErr) {
				t.Fatalf("err = %v, want a RunError", err)
			}
			var exit *executor.ExitError
			if !errors.As(results[1].Err, &exit) || !strings.Contains(results[1].Err.Error(), "npm ERR! something broke") {
				t.Errorf("bad cell: %v, want its exit status and last log lines", results[1].Err)
			}
			m, err := manifest.Read(opts.OutDir)
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, f := range m.Failed {
				failed = append(failed, f.Artifact)
			}
			for _, want := range tc.wantFailed {
				if !contains(failed, want) {
					t.Errorf("manifest failed = %v, want %s in it", failed, want)
				}
			}
			if tc.keepGoing && len(failed) != 1 {
				t.Errorf("keep-going: failed = %v", failed)
			}
			for _, want := range tc.wantBuilt {
				if !contains(artifactsOnDisk(t, opts.OutDir), want) {
					t.Errorf("%s not built", want)
				}
			}
			// Whatever is on disk is exactly what the manifest lists.
			if got, listed := len(artifactsOnDisk(t, opts.OutDir)), len(m.Artifacts); got != listed {
				t.Errorf("%d artifacts on disk, %d in manifest", got, listed)
			}
			if contains(artifactsOnDisk(t, opts.OutDir), "bad.tar.gz") {
				t.Error("failed cell left an artifact")
			}
			assertClean(t, opts.OutDir)
		})
	}
}

func TestRunCancelLeavesNoPartialFiles(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var started atomic.Int32
	exec := &fakeExec{behave: func(bctx context.Context, job executor.Job, _ int) error {
		if started.Add(1) == 2 {
			cancel()
		}
		<-bctx.Done()
		return bctx.Err()
	}}
	opts := options(t)
	opts.Jobs = 2
	results, err := readAndRun(ctx, []executor.Executor{exec}, cells("a.tar.gz", "b.tar.gz", "c.tar.gz"), opts)
	if err == nil {
		t.Fatal("cancelled run succeeded")
	}
	for _, r := range results {
		if r.Err == nil {
			t.Errorf("%s: built after cancel", r.Cell.Artifact)
		}
	}
	if got := artifactsOnDisk(t, opts.OutDir); len(got) != 0 {
		t.Errorf("artifacts after cancel: %v", got)
	}
	assertClean(t, opts.OutDir)
}

func TestRunCancelDuringPack(t *testing.T) {
	// The collect stream stalls mid-file; cancelling must remove the packer's temp file.
	ctx, cancel := context.WithCancel(context.Background())
	exec := &stallExec{cancel: cancel}
	opts := options(t)
	_, err := readAndRun(ctx, []executor.Executor{exec}, cells("a.tar.gz"), opts)
	if err == nil {
		t.Fatal("cancelled run succeeded")
	}
	assertClean(t, opts.OutDir)
	if got := artifactsOnDisk(t, opts.OutDir); len(got) != 0 {
		t.Errorf("artifacts after cancel: %v", got)
	}
}

type stallExec struct {
	fakeExec
	cancel func()
}

func (s *stallExec) Build(ctx context.Context, job executor.Job, collect func(io.Reader) error) (executor.Files, error) {
	data := treeTar(strings.Repeat("x", 100000))
	pr, pw := io.Pipe()
	go func() {
		pw.Write(data[:2048])
		s.cancel()
		<-ctx.Done()
		pw.CloseWithError(ctx.Err())
	}()
	return nil, collect(pr)
}

func TestRunRetriesOnlyTransientErrors(t *testing.T) {
	exec := &fakeExec{behave: func(ctx context.Context, job executor.Job, attempt int) error {
		switch job.Cell.Artifact {
		case "flaky.tar.gz":
			if attempt == 1 {
				return &executor.TransientError{Err: errors.New("engine restarting")}
			}
		case "exit.tar.gz":
			return &executor.ExitError{Code: 2}
		case "down.tar.gz":
			return &executor.TransientError{Err: errors.New("connection refused")}
		}
		return nil
	}}
	opts := options(t)
	opts.KeepGoing = true
	cs := cells("flaky.tar.gz", "exit.tar.gz", "down.tar.gz")
	cs[2].Retries = 1
	results, _ := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts)
	if results[0].Err != nil || exec.calls("flaky.tar.gz") != 2 {
		t.Errorf("flaky: %v after %d calls, want success after 2", results[0].Err, exec.calls("flaky.tar.gz"))
	}
	if results[1].Err == nil || exec.calls("exit.tar.gz") != 1 {
		t.Errorf("exit: %v after %d calls, want failure after 1 (never retried)", results[1].Err, exec.calls("exit.tar.gz"))
	}
	if results[2].Err == nil || exec.calls("down.tar.gz") != 2 {
		t.Errorf("down: %v after %d calls, want failure after 1 retry", results[2].Err, exec.calls("down.tar.gz"))
	}
}

func TestRunTimeout(t *testing.T) {
	exec := &fakeExec{behave: func(ctx context.Context, job executor.Job, _ int) error {
		<-ctx.Done()
		return ctx.Err()
	}}
	opts := options(t)
	cs := cells("hang.tar.gz")
	cs[0].Timeout = 50 * time.Millisecond
	results, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts)
	if err == nil || !errors.Is(results[0].Err, errTimeout) || !strings.Contains(results[0].Err.Error(), "50ms") {
		t.Fatalf("err = %v, want a timeout naming 50ms", results[0].Err)
	}
	assertClean(t, opts.OutDir)
}

func TestRunFailedTestPublishesNothing(t *testing.T) {
	exec := &fakeExec{test: func(ctx context.Context, job executor.TestJob) error {
		rc, err := job.Tree()
		if err != nil {
			return err
		}
		defer rc.Close()
		tr := tar.NewReader(rc)
		var names []string
		for {
			h, err := tr.Next()
			if err != nil {
				break
			}
			names = append(names, h.Name)
		}
		fmt.Fprintf(job.Log, "Error: Could not load the \"sharp\" module using the linux-x64 runtime (%v)\n", names)
		return &executor.ExitError{Code: 1}
	}}
	opts := options(t)
	cs := cells("a.tar.gz")
	cs[0].Test = &plan.Test{Image: "rt", Workdir: "/test", Script: "node -e ...", Timeout: time.Minute}
	results, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts)
	if err == nil {
		t.Fatal("run with a failing test succeeded")
	}
	if !strings.Contains(results[0].Err.Error(), "Could not load") || !strings.Contains(results[0].Err.Error(), "node_modules/x.js") {
		t.Errorf("error = %v, want the loader's message and the tree's names", results[0].Err)
	}
	if got := artifactsOnDisk(t, opts.OutDir); len(got) != 0 {
		t.Errorf("untested artifact published: %v", got)
	}
	assertClean(t, opts.OutDir)
	m, _ := manifest.Read(opts.OutDir)
	if f := m.Failed[0]; f.Test == nil || f.Test.Passed || !strings.Contains(f.Test.Output, "Could not load") {
		t.Errorf("manifest does not record the failed test's output: %+v", f.Test)
	}

	opts.SkipTests = true
	if _, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts); err != nil {
		t.Fatalf("--skip-tests: %v", err)
	}
	if m, _ := manifest.Read(opts.OutDir); !m.SkipTests || m.Artifacts[0].Test != nil {
		t.Errorf("manifest does not record skipped tests: %+v", m)
	}
}

func TestRunRedactsPassedSecrets(t *testing.T) {
	const secret = "npm_s3cr3t-token"
	exec := &fakeExec{behave: func(ctx context.Context, job executor.Job, _ int) error {
		if !contains(job.Env, "NPM_TOKEN="+secret) {
			return fmt.Errorf("env %v lacks the pass-through variable", job.Env)
		}
		fmt.Fprintf(job.Log, "token is %s\n", secret)
		return nil
	}}
	opts := options(t)
	var progress bytes.Buffer
	opts.Progress = &progress
	opts.Environ = []string{"NPM_TOKEN=" + secret, "OTHER=x"}
	cs := cells("a.tar.gz")
	cs[0].PassEnv = []string{"NPM_TOKEN", "UNSET_ONE"}
	if _, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"logs/a.tar.gz.log", "manifest.json"} {
		data, _ := os.ReadFile(filepath.Join(opts.OutDir, name))
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("%s holds the secret", name)
		}
	}
	if strings.Contains(progress.String(), secret) || !strings.Contains(progress.String(), "token is ***") {
		t.Errorf("progress output: %q", progress.String())
	}
}

func TestRunRefusesClaimedOutDir(t *testing.T) {
	opts := options(t)
	root, err := os.OpenRoot(opts.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	release, err := claimOutDir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	_, err = readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cells("a.tar.gz"), opts)
	if err == nil || !strings.Contains(err.Error(), "is writing to") {
		t.Fatalf("err = %v, want a lock message", err)
	}
}

func TestRunRemovesPartialFilesOfKilledRun(t *testing.T) {
	opts := options(t)
	for _, name := range []string{".a.tar.gz.tmp-123", ".pack-spool.tmp-456"} {
		os.WriteFile(filepath.Join(opts.OutDir, name), []byte("partial"), 0o644)
	}
	var progress bytes.Buffer
	opts.Progress = &progress
	if _, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cells("a.tar.gz"), opts); err != nil {
		t.Fatal(err)
	}
	assertClean(t, opts.OutDir)
	if !strings.Contains(progress.String(), "removed 2 partial file(s)") {
		t.Errorf("progress does not say what it removed: %q", progress.String())
	}
}

func TestInputHash(t *testing.T) {
	c := cells("a.tar.gz")[0]
	img := executor.Image{ID: "sha256:1"}
	base := InputHash(c, img, time.Unix(0, 0), nil)
	if base != InputHash(c, img, time.Unix(0, 0), nil) {
		t.Fatal("input hash is not stable")
	}
	changes := map[string]func(*plan.Cell, *executor.Image){
		"script":  func(c *plan.Cell, _ *executor.Image) { c.Script = "false" },
		"image":   func(_ *plan.Cell, i *executor.Image) { i.ID = "sha256:2" },
		"env":     func(c *plan.Cell, _ *executor.Image) { c.Env = []plan.EnvVar{{Name: "A", Value: "1"}} },
		"mounts":  func(c *plan.Cell, _ *executor.Image) { c.Mounts = []plan.Mount{{Source: "/a", Target: "/b"}} },
		"collect": func(c *plan.Cell, _ *executor.Image) { c.Collect = "/other" },
		"name":    func(c *plan.Cell, _ *executor.Image) { c.Artifact = "b.tar.gz" },
		"format":  func(c *plan.Cell, _ *executor.Image) { c.Format = "zip" },
	}
	for name, change := range changes {
		c2, img2 := c, img
		change(&c2, &img2)
		if InputHash(c2, img2, time.Unix(0, 0), nil) == base {
			t.Errorf("changing %s does not change the input hash", name)
		}
	}
	if InputHash(c, img, time.Unix(0, 0), executor.Files{"package-lock.json": []byte("{}")}) == base {
		t.Error("locked files do not change the input hash")
	}
	c2 := c
	c2.Timeout = time.Hour // does not change the bytes
	c2.Mounts = []plan.Mount{{Type: plan.MountCache, Source: "npm", Target: "/root/.npm"}}
	if InputHash(c2, img, time.Unix(0, 0), nil) != base {
		t.Error("the timeout or a cache mount changes the input hash")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestRunLockedGivesInputsAndReturnsLockFiles(t *testing.T) {
	exec := &fakeExec{behave: func(ctx context.Context, job executor.Job, _ int) error {
		if !contains(job.Env, "MATRIX_LOCKED=1") || string(job.Inputs["package-lock.json"]) != "v1" {
			return fmt.Errorf("locked build got env %v and inputs %q", job.Env, job.Inputs)
		}
		return nil
	}}
	opts := options(t)
	opts.Locked = map[string]executor.Files{"a.tar.gz": {"package-lock.json": []byte("v1")}}
	cs := cells("a.tar.gz")
	cs[0].LockFiles = []string{"package-lock.json"}
	results, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(results[0].LockFiles["package-lock.json"]); got != "lock of a.tar.gz: v1" {
		t.Errorf("lock files = %q", got)
	}
}

func TestRunPlatformOfTestImage(t *testing.T) {
	testRan := false
	exec := &fakeExec{test: func(ctx context.Context, job executor.TestJob) error { testRan = true; return nil }}
	cs := cells("arm.tar.gz")
	cs[0].Image, cs[0].Platform = "build-arm64", "linux/arm64"
	cs[0].Test = &plan.Test{Image: "runtime", Platform: "linux/arm64", Workdir: "/test", Script: "node -e 1", Timeout: time.Minute}

	opts := options(t)
	results, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts)
	if err == nil || !strings.Contains(results[0].Err.Error(), "would be shipped untested") || testRan {
		t.Fatalf("err = %v (test ran: %v), want a refusal to ship an untestable artifact", results[0].Err, testRan)
	}
	assertClean(t, opts.OutDir)

	cs[0].CrossBuilt = true
	if _, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts); err != nil || testRan {
		t.Fatalf("cross-built cell: %v (test ran: %v)", err, testRan)
	}
	m, _ := manifest.Read(opts.OutDir)
	if a := m.Artifacts[0]; !a.CrossBuilt || a.Test != nil {
		t.Errorf("manifest does not say the artifact is cross-built and untested: %+v", a)
	}

	cs[0].Image = "build-amd64"
	results, _ = readAndRun(context.Background(), []executor.Executor{exec}, cs, opts)
	if results[0].Err == nil || !strings.Contains(results[0].Err.Error(), "is linux/amd64, the cell asks for linux/arm64") {
		t.Errorf("build image of the wrong platform: %v", results[0].Err)
	}
}

func TestRunKeepsRecordsOfEarlierArtifacts(t *testing.T) {
	opts := options(t)
	opts.RunID = "first"
	if _, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cells("a.tar.gz", "b.tar.gz"), opts); err != nil {
		t.Fatal(err)
	}
	// The second run builds c, and a fails: a's earlier artifact stays, listed with
	// the run that built it; b, not in this run, stays listed too.
	opts.RunID, opts.KeepGoing = "second", true
	exec := &fakeExec{behave: func(ctx context.Context, job executor.Job, _ int) error {
		if job.Cell.Artifact == "a.tar.gz" {
			return &executor.ExitError{Code: 1}
		}
		return nil
	}}
	if _, err := readAndRun(context.Background(), []executor.Executor{exec}, cells("a.tar.gz", "c.tar.gz"), opts); err == nil {
		t.Fatal("a failing cell did not fail the run")
	}
	m, err := manifest.Read(opts.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range m.Artifacts {
		got[a.File] = a.RunID
	}
	want := map[string]string{"a.tar.gz": "first", "b.tar.gz": "first", "c.tar.gz": "second"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("artifacts by run = %v, want %v", got, want)
	}
	if len(m.Failed) != 1 || m.Failed[0].Artifact != "a.tar.gz" {
		t.Errorf("failed = %+v", m.Failed)
	}
	if rep, err := manifest.Verify(context.Background(), opts.OutDir); err != nil || len(rep.Problems) > 0 {
		t.Errorf("verify: %v %v", rep.Problems, err)
	}
	// An earlier artifact changed on disk is no longer vouched for.
	os.WriteFile(filepath.Join(opts.OutDir, "b.tar.gz"), []byte("tampered"), 0o644)
	opts.RunID = "third"
	readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cells("c.tar.gz"), opts)
	m, _ = manifest.Read(opts.OutDir)
	for _, a := range m.Artifacts {
		if a.File == "b.tar.gz" {
			t.Error("a changed earlier artifact is still listed")
		}
	}
}

func TestRunChecksTestImageBeforeBuilding(t *testing.T) {
	exec := &fakeExec{}
	cs := cells("s390x.tar.gz")
	cs[0].Test = &plan.Test{Image: "runtime-s390x", Platform: "linux/s390x", Workdir: "/test", Script: "node -e 1", Timeout: time.Minute}
	opts := options(t)
	results, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts)
	if err == nil || !strings.Contains(results[0].Err.Error(), "cannot run it") || !strings.Contains(results[0].Err.Error(), "cross_built") {
		t.Fatalf("err = %v, want the engine's refusal and the cross_built hint", results[0].Err)
	}
	if n := exec.calls("s390x.tar.gz"); n != 0 {
		t.Errorf("built %d times before finding that the artifact cannot be tested", n)
	}
}

func TestRunReuse(t *testing.T) {
	opts := options(t)
	cs := cells("a.tar.gz", "b.tar.gz")
	cs[0].Test = &plan.Test{Image: "rt", Workdir: "/test", Script: "node -e 1", Timeout: time.Minute}
	opts.RunID = "first"
	if _, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cs, opts); err != nil {
		t.Fatal(err)
	}
	opts.Reuse = true
	rerun := func(id string, cs []plan.Cell) (*fakeExec, *manifest.Manifest) {
		t.Helper()
		exec := &fakeExec{}
		opts.RunID = id
		if _, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts); err != nil {
			t.Fatal(err)
		}
		m, err := manifest.Read(opts.OutDir)
		if err != nil {
			t.Fatal(err)
		}
		return exec, m
	}
	runOf := func(m *manifest.Manifest, file string) string {
		for _, a := range m.Artifacts {
			if a.File == file {
				return a.RunID
			}
		}
		return ""
	}

	exec, m := rerun("second", cs)
	if exec.calls("a.tar.gz")+exec.calls("b.tar.gz") != 0 || runOf(m, "a.tar.gz") != "first" || runOf(m, "b.tar.gz") != "first" {
		t.Errorf("unchanged cells were rebuilt: %v", exec.builds)
	}

	changed := append([]plan.Cell{}, cs...)
	changed[1].Script = "true # changed"
	exec, m = rerun("third", changed)
	if exec.calls("a.tar.gz") != 0 || exec.calls("b.tar.gz") != 1 || runOf(m, "b.tar.gz") != "third" {
		t.Errorf("a changed script: builds %v", exec.builds)
	}

	// A changed test runs again on the reused artifact: not built, tested, the new
	// test recorded with the run that ran it, and the log still the build's, followed
	// by the test's.
	test := *changed[0].Test
	test.Script = "node -e 2"
	changed[0].Test = &test
	before, _ := os.ReadFile(filepath.Join(opts.OutDir, "a.tar.gz"))
	exec = &fakeExec{}
	tested := 0
	exec.test = func(ctx context.Context, job executor.TestJob) error {
		tested++
		fmt.Fprintln(job.Log, "the changed test ran")
		return nil
	}
	opts.RunID = "fourth"
	results, err := readAndRun(context.Background(), []executor.Executor{exec}, changed, opts)
	if err != nil {
		t.Fatal(err)
	}
	m, _ = manifest.Read(opts.OutDir)
	var a manifest.Artifact
	for _, x := range m.Artifacts {
		if x.File == "a.tar.gz" {
			a = x
		}
	}
	if exec.calls("a.tar.gz") != 0 || tested != 1 || a.RunID != "first" || a.Test == nil || a.Test.RunID != "fourth" || !a.Test.Passed ||
		a.Test.Definition != results[0].Artifact.Test.Definition || results[0].Artifact.RunID != "first" {
		t.Errorf("a changed test: builds %v, tests %d, record %+v (test %+v)", exec.builds, tested, a, a.Test)
	}
	if now, _ := os.ReadFile(filepath.Join(opts.OutDir, "a.tar.gz")); !bytes.Equal(now, before) {
		t.Error("a retested artifact changed")
	}
	if log, _ := os.ReadFile(filepath.Join(opts.OutDir, "logs", "a.tar.gz.log")); !strings.Contains(string(log), "building a.tar.gz") ||
		!strings.Contains(string(log), "the changed test ran") || strings.Index(string(log), "building") > strings.Index(string(log), "the changed test ran") {
		t.Errorf("the log of a retested artifact:\n%s", log)
	}
	assertClean(t, filepath.Join(opts.OutDir, "logs"))
	exec, _ = rerun("fourth-again", changed)
	if exec.calls("a.tar.gz") != 0 {
		t.Errorf("a retested artifact was rebuilt: %v", exec.builds)
	}
	// A retest that fails fails the cell and leaves the artifact and its record.
	test.Script = "node -e 3"
	exec = &fakeExec{test: func(ctx context.Context, job executor.TestJob) error { return &executor.ExitError{Code: 1} }}
	opts.RunID = "fourth-failing"
	// --keep-going: fail-fast would stop b.tar.gz (reused) when a.tar.gz's retest fails
	// before b.tar.gz has a slot, and record it as not built.
	opts.KeepGoing = true
	if _, err := readAndRun(context.Background(), []executor.Executor{exec}, changed, opts); err == nil || exec.calls("a.tar.gz") != 0 {
		t.Errorf("a failing retest: %v, builds %v", err, exec.builds)
	}
	opts.KeepGoing = false
	if m, _ = manifest.Read(opts.OutDir); len(m.Failed) != 1 || runOf(m, "a.tar.gz") != "first" {
		t.Errorf("after a failing retest: %+v", m)
	}

	os.WriteFile(filepath.Join(opts.OutDir, "b.tar.gz"), []byte("tampered"), 0o644)
	exec, _ = rerun("fifth", changed)
	if exec.calls("b.tar.gz") != 1 {
		t.Errorf("a changed artifact file was reused")
	}
	if rep, err := manifest.Verify(context.Background(), opts.OutDir); err != nil || len(rep.Problems) > 0 {
		t.Errorf("verify: %v %v", rep.Problems, err)
	}
}

// TestRunRecordsTheTestsOwnOutput: a build that logs more lines than the log's tail
// keeps must not push the test's own output out of its manifest record.
func TestRunRecordsTheTestsOwnOutput(t *testing.T) {
	exec := &fakeExec{
		behave: func(ctx context.Context, job executor.Job, _ int) error {
			for i := range 3 * tailLines {
				fmt.Fprintf(job.Log, "npm install line %d\n", i)
			}
			return nil
		},
		test: func(ctx context.Context, job executor.TestJob) error {
			fmt.Fprintf(job.Log, "Error: Could not load the sharp module using the linux-x64 runtime\n")
			return &executor.ExitError{Code: 1}
		},
	}
	cs := cells("a.tar.gz")
	cs[0].Test = &plan.Test{Image: "rt", Workdir: "/test", Script: "node -e ...", Timeout: time.Minute}
	results, _ := readAndRun(context.Background(), []executor.Executor{exec}, cs, options(t))
	var te *TestError
	if !errors.As(results[0].Err, &te) {
		t.Fatalf("err = %v, want a TestError", results[0].Err)
	}
	if !strings.HasPrefix(te.Result.Output, "Error: Could not load") || strings.Contains(te.Result.Output, "npm install line") {
		t.Errorf("test output = %q, want only the test's lines", te.Result.Output)
	}
}

// TestRunReuseKeepsTheBuildLog: a reused artifact's record points at its log, which
// must still be the log of the build that made it.
func TestRunReuseKeepsTheBuildLog(t *testing.T) {
	opts := options(t)
	opts.Reuse = true
	if _, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cells("a.tar.gz"), opts); err != nil {
		t.Fatal(err)
	}
	results, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cells("a.tar.gz"), opts)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(opts.OutDir, results[0].Artifact.Log))
	if !strings.Contains(string(data), "building a.tar.gz") {
		t.Errorf("the reused artifact's log now holds %q", data)
	}
	assertClean(t, filepath.Join(opts.OutDir, "logs"))
}

func TestRunSchedulesAcrossEngines(t *testing.T) {
	var mu sync.Mutex
	running, peak := map[string]int{}, map[string]int{}
	track := func(e *fakeExec) *fakeExec {
		e.behave = func(ctx context.Context, job executor.Job, _ int) error {
			mu.Lock()
			running[e.name]++
			if running[e.name] > peak[e.name] {
				peak[e.name] = running[e.name]
			}
			mu.Unlock()
			time.Sleep(30 * time.Millisecond)
			mu.Lock()
			running[e.name]--
			mu.Unlock()
			return nil
		}
		return e
	}
	amdA := track(&fakeExec{name: "amd-a", arch: "amd64"})
	amdB := track(&fakeExec{name: "amd-b", arch: "amd64"})
	arm := track(&fakeExec{name: "arm", arch: "arm64"})

	cs := cells("x1.tar.gz", "x2.tar.gz", "x3.tar.gz", "x4.tar.gz", "a1.tar.gz", "a2.tar.gz")
	for i := range cs[:4] {
		cs[i].Platform = "linux/amd64"
	}
	for i := range cs[4:] {
		cs[4+i].Image, cs[4+i].Platform = "build-arm64", "linux/arm64"
	}
	opts := options(t)
	opts.Jobs = 1
	if _, err := readAndRun(context.Background(), []executor.Executor{amdA, arm, amdB}, cs, opts); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Read(opts.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]int{}
	for _, a := range m.Artifacts {
		used[a.Engine]++
		if strings.HasPrefix(a.File, "a") != (a.Engine == "arm") {
			t.Errorf("%s built on %s", a.File, a.Engine)
		}
	}
	if used["amd-a"] == 0 || used["amd-b"] == 0 || used["arm"] != 2 {
		t.Errorf("cells per engine = %v, want the amd64 cells spread over both amd64 engines and the arm64 cells on arm", used)
	}
	for name, n := range peak {
		if n > opts.Jobs {
			t.Errorf("%s ran %d cells at once, more than --jobs %d", name, n, opts.Jobs)
		}
	}
}

// TestReadRecordsRefusesUnreadableManifest: a manifest.json that is there but cannot
// be read would turn --reuse off and make the next manifest forget the artifacts
// still on disk, so reading the records refuses it, saying what to do, and changes
// nothing in the output directory (the command reads them before anything else).
func TestReadRecordsRefusesUnreadableManifest(t *testing.T) {
	tests := []struct {
		name  string
		write func(path string) error
		want  string
	}{
		{"corrupt", func(path string) error {
			return os.WriteFile(path, []byte(`{"schema_version": 1, "artifacts": [`), 0o644)
		}, "not a manifest"},
		{"newer schema", func(path string) error {
			return os.WriteFile(path, []byte(`{"schema_version": 2, "artifacts": []}`), 0o644)
		}, "schema_version 2"},
		{"not a regular file", func(path string) error { return os.Mkdir(path, 0o755) }, "not a regular file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, manifest.FileName)
			if err := tc.write(path); err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadFile(path)
			recs, err := ReadRecords(dir)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) ||
				!strings.Contains(err.Error(), "move it away (or remove it) to start the records over") {
				t.Fatalf("err = %v, want %q naming %s and how to start over", err, tc.want, path)
			}
			if recs != nil {
				t.Errorf("records of an unreadable manifest: %+v", recs)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
				t.Errorf("the unreadable manifest was replaced: %q", after)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("the output directory holds %v, want the manifest only", entries)
			}
		})
	}
}

// TestRunRefusesManifestChangedAfterReading: records are read before the run claims
// the output directory; another run that wrote the manifest in between would have its
// records forgotten, so the run stops before building anything.
func TestRunRefusesManifestChangedAfterReading(t *testing.T) {
	for _, first := range []bool{true, false} {
		t.Run(fmt.Sprintf("first run=%v", first), func(t *testing.T) {
			opts := options(t)
			if !first {
				if _, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cells("a.tar.gz"), opts); err != nil {
					t.Fatal(err)
				}
			}
			recs, err := ReadRecords(opts.OutDir)
			if err != nil {
				t.Fatal(err)
			}
			// Another run, which claimed the directory first.
			if _, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cells("b.tar.gz"), opts); err != nil {
				t.Fatal(err)
			}
			written, _ := os.ReadFile(filepath.Join(opts.OutDir, manifest.FileName))
			exec := &fakeExec{}
			results, err := Run(context.Background(), []executor.Executor{exec}, cells("c.tar.gz"), recs, opts)
			path := filepath.Join(opts.OutDir, manifest.FileName)
			if err == nil || !strings.Contains(err.Error(), path+" changed after this run read it") {
				t.Fatalf("err = %v, want the manifest's change named", err)
			}
			if results != nil || exec.calls("c.tar.gz") != 0 {
				t.Errorf("built before refusing: results %v, %d builds", results, exec.calls("c.tar.gz"))
			}
			if now, _ := os.ReadFile(path); !bytes.Equal(now, written) {
				t.Error("the other run's manifest was replaced")
			}
		})
	}
	opts := options(t)
	other := options(t)
	recs, err := ReadRecords(other.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), []executor.Executor{&fakeExec{}}, cells("a.tar.gz"), recs, opts); err == nil {
		t.Error("a run took the records of another directory")
	}
}

// TestRunFailsCellWhoseLogCannotBeWritten: a log that cannot be put in place fails
// its cell before the cell's earlier artifact is replaced.
func TestRunFailsCellWhoseLogCannotBeWritten(t *testing.T) {
	opts := options(t)
	opts.RunID = "first"
	if _, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cells("a.tar.gz"), opts); err != nil {
		t.Fatal(err)
	}
	earlier, _ := os.ReadFile(filepath.Join(opts.OutDir, "a.tar.gz"))
	logPath := filepath.Join(opts.OutDir, "logs", "a.tar.gz.log")
	os.Remove(logPath)
	if err := os.MkdirAll(filepath.Join(logPath, "in-the-way"), 0o755); err != nil {
		t.Fatal(err)
	}
	cs := cells("a.tar.gz")
	cs[0].Script = "true # changed"
	opts.RunID = "second"
	results, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cs, opts)
	var runErr *RunError
	if !errors.As(err, &runErr) || results[0].Err == nil || !strings.Contains(results[0].Err.Error(), "writing "+logPath) {
		t.Fatalf("err = %v, cell: %v; want the cell failed for its log %s", err, results[0].Err, logPath)
	}
	if now, _ := os.ReadFile(filepath.Join(opts.OutDir, "a.tar.gz")); !bytes.Equal(now, earlier) {
		t.Error("the cell whose log failed replaced its earlier artifact")
	}
	m, err := manifest.Read(opts.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Failed) != 1 || len(m.Artifacts) != 1 || m.Artifacts[0].RunID != "first" {
		t.Errorf("manifest: failed %+v, artifacts %+v; want the failure and the earlier artifact", m.Failed, m.Artifacts)
	}
	assertClean(t, opts.OutDir)
	assertClean(t, filepath.Join(opts.OutDir, "logs"))
}

// TestCellLogKeepsTheFirstWriteError: a write that fails is not returned to the line
// writer (the build goes on) but is kept, and fails the commit.
func TestCellLogKeepsTheFirstWriteError(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, logDir), 0o755)
	logs, err := os.OpenRoot(filepath.Join(dir, logDir))
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	log, err := createLog(logs, cells("a.tar.gz")[0], "a.tar.gz.log")
	if err != nil {
		t.Fatal(err)
	}
	log.Write([]byte("first line\n"))
	log.file.File.Close() // what a full disk or an I/O error would do to the next write
	if _, err := log.Write([]byte("second line\n")); err != nil {
		t.Errorf("Write returned %v; the build would stop on it", err)
	}
	path := filepath.Join(dir, logDir, "a.tar.gz.log")
	if err := log.commit(); err == nil || !strings.HasPrefix(err.Error(), "writing "+path+": ") {
		t.Errorf("commit = %v, want the write error naming %s", err, path)
	}
	if err := log.commit(); err == nil {
		t.Error("a second commit forgot the error")
	}
	assertClean(t, filepath.Join(dir, logDir))
}

func TestRunEscapesContainerOutputOnTheTerminal(t *testing.T) {
	const hostile = "\x1b]0;PWNED\x07\x1b[2J\r\x1b[Kfake ok line \u009b \xff \u202eko \u2067"
	exec := &fakeExec{behave: func(ctx context.Context, job executor.Job, _ int) error {
		fmt.Fprintf(job.Log, "%s\n", hostile)
		return nil
	}}
	opts := options(t)
	var progress bytes.Buffer
	opts.Progress = &progress
	if _, err := readAndRun(context.Background(), []executor.Executor{exec}, cells("a.tar.gz"), opts); err != nil {
		t.Fatal(err)
	}
	want := `[a.tar.gz] \x1b]0;PWNED\x07\x1b[2J\x0d\x1b[Kfake ok line \u009b \xff \u202eko \u2067` + "\n"
	if !strings.Contains(progress.String(), want) || strings.ContainsAny(progress.String(), "\x1b\x07\r\u202e\u2067") {
		t.Errorf("progress output: %q", progress.String())
	}
	log, err := os.ReadFile(filepath.Join(opts.OutDir, "logs/a.tar.gz.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(log, []byte(hostile+"\n")) {
		t.Errorf("the log does not keep the raw bytes: %q", log)
	}
}

// TestRunRecordsTheSpecOfEachArtifact: each artifact's record names the matrix file
// its cell came from, also when a later run of another file carries it over.
func TestRunRecordsTheSpecOfEachArtifact(t *testing.T) {
	opts := options(t)
	opts.SpecPath, opts.SpecSHA256 = "one.hcl", "11"
	if _, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cells("a.tar.gz"), opts); err != nil {
		t.Fatal(err)
	}
	opts.SpecPath, opts.SpecSHA256, opts.RunID = "two.hcl", "22", "second"
	if _, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cells("b.tar.gz"), opts); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Read(opts.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range m.Artifacts {
		if a.Spec != nil {
			got[a.File] = a.Spec.Path + " " + a.Spec.SHA256
		}
	}
	if want := map[string]string{"a.tar.gz": "one.hcl 11", "b.tar.gz": "two.hcl 22"}; fmt.Sprint(got) != fmt.Sprint(want) || m.Spec.Path != "two.hcl" {
		t.Errorf("specs %v, want %v; the run's %+v", got, want, m.Spec)
	}
}
