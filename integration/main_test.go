// Package integration runs the matrix binary against the real Docker engine: hostile
// build output through the real copy-from-container stream, faults (signals, a killed
// run, timeouts, a full disk, concurrent runs, a restarted engine) and secrets. Each
// test checks the same invariants afterwards: no container of the run is left, no
// temporary or partial file is in the output directory, `matrix verify` passes, and
// the manifest lists exactly the cells that succeeded.
//
// Like the engine tests, a missing engine skips these tests locally and fails them
// in CI (CI or MATRIX_REQUIRE_DOCKER set).
package integration

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/engine"
	"github.com/matrixbuild/matrix/manifest"
)

// testImage is the small local image with a shell and perl that scripts/images.sh builds.
const testImage = "local/debian:bookworm"

// bin is the matrix binary built once by TestMain.
var bin string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || len(bytes.TrimSpace(gomod)) == 0 {
		fmt.Fprintf(os.Stderr, "integration: go env GOMOD: %v\n", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "matrix-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin = filepath.Join(dir, "matrix")
	build := exec.Command("go", "build", "-o", bin, "./cmd/matrix")
	build.Dir = filepath.Dir(string(bytes.TrimSpace(gomod)))
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "integration: building the matrix binary:", err)
		return 1
	}
	return m.Run()
}

var (
	engineOnce sync.Once
	sharedEng  *engine.Engine
	engineErr  error
)

// needDocker returns an engine for checks, or skips the test where none runs with the
// test image. In CI a missing engine or image fails the test instead.
func needDocker(t *testing.T) *engine.Engine {
	t.Helper()
	engineOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		sharedEng, engineErr = engine.Connect(ctx, engine.PullNever)
		if engineErr == nil {
			if _, err := sharedEng.Resolve(ctx, testImage, ""); err != nil {
				engineErr = fmt.Errorf("test image %s: %w (run scripts/images.sh)", testImage, err)
			}
		}
	})
	if engineErr != nil {
		if os.Getenv("CI") != "" || os.Getenv("MATRIX_REQUIRE_DOCKER") != "" {
			t.Fatalf("Docker engine needed: %v", engineErr)
		}
		t.Skipf("no Docker engine: %v", engineErr)
	}
	return sharedEng
}

// workspace is a test's directory: the matrix file, HOME and TMPDIR of the tool, and
// the output directory, so that a snapshot shows anything the run touched outside out/.
type workspace struct {
	dir, out, home, tmp string
}

func newWorkspace(t *testing.T) *workspace {
	t.Helper()
	dir := t.TempDir()
	w := &workspace{dir: dir, out: filepath.Join(dir, "out"), home: filepath.Join(dir, "home"), tmp: filepath.Join(dir, "tmp")}
	for _, d := range []string{w.home, w.tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Something to notice if the tool wrote over or next to it.
	writeFile(t, filepath.Join(w.home, ".profile"), "untouched\n")
	return w
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// spec writes the matrix file and returns its path.
func (w *workspace) spec(t *testing.T, hcl string) string {
	t.Helper()
	path := filepath.Join(w.dir, "matrix.hcl")
	writeFile(t, path, hcl)
	return path
}

// target is the HCL of a target building collect = /build/out in the test image with
// host networking; extra attributes go in the block as given.
func target(name, script, extra string) string {
	defaults := ""
	for _, kv := range [][2]string{{"collect", `"/build/out"`}, {"timeout", `"2m"`}, {"retries", "0"}} {
		if !regexp.MustCompile(`(?m)^\s*` + kv[0] + `\s*=`).MatchString(extra) {
			defaults += fmt.Sprintf("  %s = %s\n", kv[0], kv[1])
		}
	}
	return fmt.Sprintf(`
target %q {
  image    = %q
  network  = "host"
  workdir  = "/build"
  script   = <<-EOT
%s
  EOT
  artifact = "%s.tar.gz"
%s%s
}
`, name, testImage, indentHCL(script), name, defaults, extra)
}

func indentHCL(script string) string {
	lines := strings.Split(strings.TrimSpace(script), "\n")
	for i, l := range lines {
		lines[i] = "    " + strings.TrimSpace(l)
	}
	return strings.Join(lines, "\n")
}

// goodTarget is the cell that must succeed next to a hostile one.
func goodTarget() string {
	return target("good", `
		mkdir -p out/sub
		echo good > out/sub/file.txt
		ln -s sub/file.txt out/link
	`, "")
}

// result is one finished matrix command.
type result struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
	maxRSSKiB      int64
}

var runIDPattern = regexp.MustCompile(`matrix: run ([0-9a-f]+):`)

// runID is the run's id as the tool announced it on stderr ("" before it started one).
func runID(stderr string) string {
	if m := runIDPattern.FindStringSubmatch(stderr); m != nil {
		return m[1]
	}
	return ""
}

// command prepares the matrix binary in w with a minimal environment (HOME and TMPDIR
// inside the workspace) plus extra variables.
func (w *workspace) command(ctx context.Context, extraEnv []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = w.dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + w.home, "TMPDIR=" + w.tmp}
	for _, k := range []string{"DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_API_VERSION"} {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Env = append(cmd.Env, extraEnv...)
	return cmd
}

// matrix runs the binary to its end (at most 3 minutes).
func (w *workspace) matrix(t *testing.T, extraEnv []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := w.command(ctx, extraEnv, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	default:
		t.Fatalf("matrix %v: %v", args, err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.maxRSSKiB = ru.Maxrss
	}
	t.Logf("matrix %s: exit %d in %v, max RSS %d MiB", strings.Join(args, " "), res.code, res.elapsed.Round(time.Millisecond), res.maxRSSKiB>>10)
	return res
}

// started is a matrix process running in the background whose stderr can be waited on.
type started struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	stdout *syncBuffer
	done   chan struct{}
	err    error
}

func (w *workspace) start(t *testing.T, extraEnv []string, args ...string) *started {
	t.Helper()
	cmd := w.command(context.Background(), extraEnv, args...)
	s := &started{cmd: cmd, stderr: &syncBuffer{}, stdout: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = s.stdout, s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.err = cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

// waitFor waits until stderr holds each of the strings, or fails the test.
func (s *started) waitFor(t *testing.T, timeout time.Duration, want ...string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		all := true
		for _, w := range want {
			if !strings.Contains(s.stderr.String(), w) {
				all = false
			}
		}
		if all {
			return
		}
		select {
		case <-s.done:
			t.Fatalf("matrix ended (%v) before printing %q; stderr:\n%s", s.err, want, s.stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q on stderr after %v; stderr:\n%s", want, timeout, s.stderr.String())
		}
	}
}

// wait waits for the process to end and returns its exit code.
func (s *started) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(timeout):
		t.Fatalf("matrix still running after %v; stderr:\n%s", timeout, s.stderr.String())
	}
	return s.cmd.ProcessState.ExitCode()
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// want is what a run must have recorded: the artifacts built and, per failed
// artifact, strings its error must contain.
type want struct {
	ok     []string
	failed map[string][]string
}

// checkRun asserts the invariants every run keeps, whatever happened in it.
func checkRun(t *testing.T, e *engine.Engine, w *workspace, stderr string, wt want) *manifest.Manifest {
	t.Helper()
	id := runID(stderr)
	if id == "" {
		t.Errorf("no run id on stderr:\n%s", stderr)
	} else {
		assertNoContainers(t, e, id)
	}
	assertNoPartialFiles(t, w.out)
	assertVerifies(t, w)
	m, err := manifest.Read(w.out)
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	if id != "" && m.RunID != id {
		t.Errorf("manifest run_id = %s, stderr says run %s", m.RunID, id)
	}
	var built []string
	for _, a := range m.Artifacts {
		built = append(built, a.File)
	}
	wantOK := slices.Clone(wt.ok)
	sort.Strings(wantOK)
	if strings.Join(built, ",") != strings.Join(wantOK, ",") {
		t.Errorf("manifest artifacts = %v, want %v", built, wantOK)
	}
	failed := map[string]string{}
	for _, f := range m.Failed {
		failed[f.Artifact] = f.Error
	}
	if len(failed) != len(wt.failed) {
		t.Errorf("manifest failed = %v, want failures of %d cells", failed, len(wt.failed))
	}
	for art, subs := range wt.failed {
		msg, ok := failed[art]
		if !ok {
			t.Errorf("%s not among the failed cells: %v", art, failed)
			continue
		}
		for _, s := range subs {
			if !strings.Contains(msg, s) {
				t.Errorf("%s: error %q lacks %q", art, msg, s)
			}
		}
		// The CLI says the same on stderr, first line first.
		first, _, _ := strings.Cut(msg, "\n")
		if !strings.Contains(stderr, "FAIL "+art+": "+first) {
			t.Errorf("stderr lacks %q:\n%s", "FAIL "+art+": "+first, stderr)
		}
	}
	for _, a := range wt.ok {
		if _, err := os.Stat(filepath.Join(w.out, a)); err != nil {
			t.Errorf("artifact: %v", err)
		}
	}
	return m
}

func assertNoContainers(t *testing.T, e *engine.Engine, id string) {
	t.Helper()
	ids, err := e.RunContainers(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) > 0 {
		t.Errorf("containers of run %s left: %v", id, ids)
	}
}

// assertNoPartialFiles fails on any hidden file in out/ but the lock: packing
// temporaries and artifacts staged until their test passes (.NAME.tmp-*), logs being
// written, and spools.
func assertNoPartialFiles(t *testing.T, out string) {
	t.Helper()
	filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Errorf("walking %s: %v", out, err)
			return nil
		}
		name := d.Name()
		if path != out && strings.HasPrefix(name, ".") && name != ".matrix.lock" {
			t.Errorf("temporary or partial file left: %s", path)
		}
		return nil
	})
}

func assertVerifies(t *testing.T, w *workspace) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := w.command(ctx, nil, "verify", w.out).CombinedOutput()
	// Exit 3: every recorded artifact verifies, and verify reports failed cells or
	// files no record lists, which a test's run may leave on purpose.
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 3) {
		t.Errorf("matrix verify %s: %v\n%s", w.out, err, out)
	}
}

// snapshot records every file below root (but skip, relative names) with its
// size, mode, modification time and content hash.
func snapshot(t *testing.T, root string, skip ...string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if rel == "." {
			return nil // its mtime changes when out/ is made in it
		}
		if slices.Contains(skip, rel) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		s := fmt.Sprintf("%v %d %d", info.Mode(), info.Size(), info.ModTime().UnixNano())
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			s += " " + hexHash(data)
		}
		snap[rel] = s
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func assertSameSnapshot(t *testing.T, before, after map[string]string) {
	t.Helper()
	for name, s := range after {
		if b, ok := before[name]; !ok {
			t.Errorf("file created outside out/: %s", name)
		} else if b != s {
			t.Errorf("file changed outside out/: %s (%s -> %s)", name, b, s)
		}
	}
	for name := range before {
		if _, ok := after[name]; !ok {
			t.Errorf("file removed outside out/: %s", name)
		}
	}
}

// assertAbsent fails when secret appears in any file below dir, including the
// decompressed content and names of tar.gz artifacts.
func assertAbsent(t *testing.T, dir, secret string) {
	t.Helper()
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Error(err)
			return nil
		}
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("%s holds %q", path, secret)
		}
		if strings.HasSuffix(path, ".tar.gz") {
			for name, content := range untar(t, path) {
				if strings.Contains(name, secret) || strings.Contains(content, secret) {
					t.Errorf("%s: entry %s holds %q", path, name, secret)
				}
			}
		}
		return nil
	})
}

// untar returns the entries of a tar.gz artifact, names mapped to contents (a
// directory's content is "/").
func untar(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	tr := tar.NewReader(zr)
	entries := map[string]string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return entries
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			entries[h.Name] = "/"
		case tar.TypeReg:
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatalf("%s: %s: %v", path, h.Name, err)
			}
			entries[h.Name] = string(data)
		default:
			t.Errorf("%s: entry %s of type %q: an artifact holds only directories and files", path, h.Name, h.Typeflag)
		}
	}
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func hexHash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
