package integration

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/engine"
	"github.com/matrixbuild/matrix/manifest"
)

// slowTarget is a cell that says it started and then sleeps.
func slowTarget() string {
	return target("slow", `echo sleeping-now; sleep 120; mkdir -p out`, "")
}

// TestSignalStopsRun interrupts a run while a cell's script sleeps, after another cell
// was built: exit 130 or 143 within seconds, the sleeping cell's container removed,
// the built artifact recorded and verifiable.
func TestSignalStopsRun(t *testing.T) {
	e := needDocker(t)
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			t.Parallel()
			w := newWorkspace(t)
			specPath := w.spec(t, goodTarget()+slowTarget())
			p := w.start(t, nil, "run", "--out", w.out, "--keep-going", specPath)
			p.waitFor(t, time.Minute, "ok   good.tar.gz", "[slow.tar.gz] sleeping-now")
			sent := time.Now()
			p.cmd.Process.Signal(tc.sig)
			if code := p.wait(t, time.Minute); code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, p.stderr.String())
			}
			if d := time.Since(sent); d > 20*time.Second {
				t.Errorf("took %v to stop", d)
			}
			checkRun(t, e, w, p.stderr.String(), want{ok: []string{"good.tar.gz"}, failed: map[string][]string{"slow.tar.gz": nil}})
			if !strings.Contains(p.stderr.String(), "stopping, removing this run's containers") {
				t.Errorf("stderr does not say it stops:\n%s", p.stderr.String())
			}
		})
	}
}

// TestKilledRunLeftovers kills a run with SIGKILL while its container runs: the next
// run into the same directory is not blocked by the dead run's lock, removes the
// killed run's container (by label) and partial files, and says so.
//
// Every run sweeps the killed containers of the whole host, so another process's sweep
// (engine.TestRemoveLeftovers in a `go test ./...`, another test run) may remove the
// container first, and the next run then rightly says nothing about it. The next run
// talks to the engine through an engineProxy, which tells whether its own request
// removed the container: the line is required exactly then. The test does not run in
// parallel with the others of this package, whose runs would be first most often.
func TestKilledRunLeftovers(t *testing.T) {
	e := needDocker(t)
	w := newWorkspace(t)
	specPath := w.spec(t, slowTarget())
	p := w.start(t, nil, "run", "--out", w.out, specPath)
	p.waitFor(t, time.Minute, "[slow.tar.gz] sleeping-now")
	killed := runID(p.stderr.String())
	ids, err := e.RunContainers(context.Background(), killed)
	if err != nil || len(ids) != 1 {
		t.Fatalf("containers of the run: %v, %v", ids, err)
	}
	p.cmd.Process.Kill()
	p.wait(t, 10*time.Second)
	// What a run killed while packing or testing leaves: its staged artifact.
	writeFile(t, filepath.Join(w.out, ".slow.tar.gz.tmp-1234567890"), "partial")

	w.spec(t, goodTarget())
	proxy := startEngineProxy(t)
	start := time.Now()
	res := w.matrix(t, []string{"DOCKER_HOST=" + proxy.host}, "run", "--out", w.out, specPath)
	if res.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", res.code, res.stderr)
	}
	if d := time.Since(start); d > time.Minute {
		t.Errorf("the next run took %v", d)
	}
	// The killed run's staged artifact, and the log it was writing.
	if s := "removed 2 partial file(s) left by an interrupted run: .slow.tar.gz.tmp-1234567890, logs/.slow.tar.gz.log.tmp-"; !strings.Contains(res.stderr, s) {
		t.Errorf("stderr lacks %q:\n%s", s, res.stderr)
	}
	assertNoContainers(t, e, killed)
	line := fmt.Sprintf("removed container %.12s of an earlier run (%s) that was killed: slow", ids[0], killed)
	switch said, removed := strings.Contains(res.stderr, line), proxy.removed(ids[0]); {
	case removed && !said:
		t.Errorf("the next run removed the killed run's container %.12s, and stderr lacks %q:\n%s", ids[0], line, res.stderr)
	case !removed && said:
		t.Errorf("stderr says %q, but the next run's request did not remove it:\n%s", line, res.stderr)
	case !removed:
		t.Logf("another process on this host removed the killed run's container %.12s first", ids[0])
	}
	checkRun(t, e, w, res.stderr, want{ok: []string{"good.tar.gz"}})
}

// engineProxy passes a matrix process's requests to the engine (a unix socket) and
// notes the containers that its DELETE requests removed, so that a test tells this
// process's removals from those of any other client of the engine.
type engineProxy struct {
	host string // DOCKER_HOST for the process
	mu   sync.Mutex
	gone map[string]bool // container IDs whose removal the engine confirmed
}

func startEngineProxy(t *testing.T) *engineProxy {
	t.Helper()
	sock := "/var/run/docker.sock"
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		var ok bool
		if sock, ok = strings.CutPrefix(h, "unix://"); !ok {
			if os.Getenv("CI") != "" || os.Getenv("MATRIX_REQUIRE_DOCKER") != "" {
				t.Fatalf("DOCKER_HOST=%s: the engine proxy needs an engine on a unix socket", h)
			}
			t.Skipf("DOCKER_HOST=%s: the engine proxy needs an engine on a unix socket", h)
		}
	}
	l, err := net.Listen("unix", filepath.Join(t.TempDir(), "engine.sock"))
	if err != nil {
		t.Fatal(err)
	}
	p := &engineProxy{host: "unix://" + l.Addr().String(), gone: map[string]bool{}}
	srv := &http.Server{Handler: &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(&url.URL{Scheme: "http", Host: "engine"}) },
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}},
		FlushInterval: -1, // logs and events stream
		ModifyResponse: func(res *http.Response) error {
			if _, id, ok := strings.Cut(res.Request.URL.Path, "/containers/"); ok && res.Request.Method == http.MethodDelete && res.StatusCode/100 == 2 {
				p.mu.Lock()
				p.gone[id] = true
				p.mu.Unlock()
			}
			return nil
		},
	}}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return p
}

// removed reports whether a DELETE through the proxy removed the container id.
func (p *engineProxy) removed(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gone[id]
}

// TestConcurrentRunsRefused starts a second run into the directory a first one is
// writing to: it refuses at once with the lock message and changes nothing.
func TestConcurrentRunsRefused(t *testing.T) {
	e := needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	specPath := w.spec(t, goodTarget()+slowTarget())
	p := w.start(t, nil, "run", "--out", w.out, "--keep-going", specPath)
	p.waitFor(t, time.Minute, "ok   good.tar.gz", "[slow.tar.gz] sleeping-now")
	before := snapshot(t, w.out, "logs")

	second := w.matrix(t, nil, "run", "--out", w.out, specPath)
	if second.code != 1 {
		t.Errorf("second run: exit %d, want 1", second.code)
	}
	if want := fmt.Sprintf("another matrix run (pid %d) is writing to %s; wait for it or use another --out", p.cmd.Process.Pid, w.out); !strings.Contains(second.stderr, want) {
		t.Errorf("second run's stderr lacks %q:\n%s", want, second.stderr)
	}
	if second.elapsed > 10*time.Second {
		t.Errorf("the second run took %v to refuse", second.elapsed)
	}
	if id := runID(second.stderr); id != "" {
		assertNoContainers(t, e, id)
	}
	assertSameSnapshot(t, before, snapshot(t, w.out, "logs"))

	p.cmd.Process.Signal(syscall.SIGTERM)
	p.wait(t, time.Minute)
	checkRun(t, e, w, p.stderr.String(), want{ok: []string{"good.tar.gz"}, failed: map[string][]string{"slow.tar.gz": nil}})
}

// TestScriptFaults: a failing script, one over its timeout, one that never exits and
// ignores SIGTERM, and one that prints megabytes, next to a good cell.
func TestScriptFaults(t *testing.T) {
	e := needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	specPath := w.spec(t,
		target("fails", `echo diagnostic-before-failure; exit 3`, "")+
			target("slow", `sleep 60; mkdir -p out`, `  timeout = "2s"`)+
			target("stuck", `trap '' TERM INT; echo stuck; while :; do sleep 1; done`, `  timeout = "3s"`)+
			// 1,000,000 numbered lines (6.9 MB), then 3 MiB without a newline.
			target("loud", `seq 1 1000000; head -c 3145728 /dev/zero | tr '\0' a; mkdir -p out; echo x > out/f`, "")+
			goodTarget())
	res := w.matrix(t, nil, "run", "-q", "--out", w.out, "--keep-going", specPath)
	if res.code != 1 {
		t.Errorf("exit %d, want 1", res.code)
	}
	if res.elapsed > 90*time.Second {
		t.Errorf("took %v", res.elapsed)
	}
	checkRun(t, e, w, res.stderr, want{ok: []string{"good.tar.gz", "loud.tar.gz"}, failed: map[string][]string{
		"fails.tar.gz": {"script exited with status 3; last lines of logs/fails.tar.gz.log:", "diagnostic-before-failure"},
		"slow.tar.gz":  {"timed out after 2s (the cell's timeout)"},
		"stuck.tar.gz": {"timed out after 3s (the cell's timeout)"},
	}})
	log, err := os.ReadFile(filepath.Join(w.out, "logs", "fails.tar.gz.log"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(log, []byte("retry")) {
		t.Errorf("a script's own failure was retried:\n%s", log)
	}

	// The loud cell's log holds every line, in order, and the long line in pieces.
	f, err := os.Open(filepath.Join(w.out, "logs", "loud.tar.gz.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	next, as := 1, 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "matrix: ") {
			continue
		}
		if n, err := strconv.Atoi(line); err == nil && next <= 1000000 {
			if n != next {
				t.Fatalf("log line %d where %d was due", n, next)
			}
			next++
			continue
		}
		if strings.Trim(line, "a") == "" {
			if len(line) > 64<<10 {
				t.Errorf("a log line of %d bytes, want them cut at 64 KiB", len(line))
			}
			as += len(line)
		}
	}
	if next != 1000001 || as != 3<<20 {
		t.Errorf("log of the loud cell: lines up to %d, %d bytes of the long line; want 1000000 and %d", next-1, as, 3<<20)
	}
	if res.maxRSSKiB > 150<<10 {
		t.Errorf("max RSS %d MiB while a cell printed 10 MB", res.maxRSSKiB>>10)
	}
}

// TestMissingImage runs a cell whose image does not exist under each --pull policy.
// Under always, the good cell fails too: its local image is in no registry.
func TestMissingImage(t *testing.T) {
	e := needDocker(t)
	const missing = "local/does-not-exist:1"
	for _, tc := range []struct {
		pull    string
		wantErr string
		goodOK  bool
	}{
		{"never", "image " + missing + " is not on the engine and --pull=never", true},
		{"missing", "pulling image " + missing + ":", true},
		{"always", "pulling image " + missing + ":", false},
	} {
		t.Run(tc.pull, func(t *testing.T) {
			t.Parallel()
			w := newWorkspace(t)
			specPath := w.spec(t, strings.Replace(target("noimage", "true", ""), testImage, missing, 1)+goodTarget())
			res := w.matrix(t, nil, "run", "--pull", tc.pull, "--out", w.out, "--keep-going", specPath)
			if res.code != 1 {
				t.Errorf("exit %d, want 1", res.code)
			}
			wt := want{failed: map[string][]string{"noimage.tar.gz": {tc.wantErr}}}
			if tc.goodOK {
				wt.ok = []string{"good.tar.gz"}
			} else {
				wt.failed["good.tar.gz"] = []string{"pulling image " + testImage}
			}
			checkRun(t, e, w, res.stderr, wt)
			if res.elapsed > time.Minute {
				t.Errorf("took %v", res.elapsed)
			}
		})
	}
}

// TestDiskFull builds into a 1 MiB tmpfs that already holds a run's artifact and
// manifest: an artifact that does not fit fails with a clear error, leaves no partial
// file, and the earlier artifact stays as the earlier run recorded it.
func TestDiskFull(t *testing.T) {
	e := needDocker(t)
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	t.Parallel()
	w := newWorkspace(t)
	os.MkdirAll(w.out, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", w.out).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", w.out).Run() })

	specPath := w.spec(t, goodTarget())
	first := w.matrix(t, nil, "run", "--out", w.out, specPath)
	if first.code != 0 {
		t.Fatalf("first run: exit %d\n%s", first.code, first.stderr)
	}
	good, err := os.ReadFile(filepath.Join(w.out, "good.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}

	// 3 MiB of random bytes do not compress: the artifact cannot fit.
	w.spec(t, target("big", `mkdir -p out; head -c 3145728 /dev/urandom > out/big`, ""))
	res := w.matrix(t, nil, "run", "--out", w.out, specPath)
	if res.code != 1 {
		t.Errorf("exit %d, want 1", res.code)
	}
	if !strings.Contains(res.stderr, "no space left on device") {
		t.Errorf("stderr does not say the disk is full:\n%s", res.stderr)
	}
	assertNoPartialFiles(t, w.out)
	assertVerifies(t, w)
	if now, err := os.ReadFile(filepath.Join(w.out, "good.tar.gz")); err != nil || !bytes.Equal(now, good) {
		t.Errorf("the earlier artifact changed or went: %v", err)
	}
	if id := runID(res.stderr); id != "" {
		assertNoContainers(t, e, id)
	}
	m, err := manifest.Read(w.out)
	if err != nil {
		t.Fatalf("manifest after the failed run: %v", err)
	}
	recorded := false
	for _, a := range m.Artifacts {
		recorded = recorded || a.File == "good.tar.gz"
	}
	if !recorded {
		t.Errorf("manifest.json no longer records good.tar.gz, which is still in %s (run %s, artifacts %v, failed %v)", w.out, m.RunID, m.Artifacts, m.Failed)
	}
}

// TestEngineRestart kills and restarts a second engine of the test's own while a cell
// runs on it: the cell fails with a clear error or is retried per its retries, and
// the invariants hold. It needs root and dockerd, and stops an engine, so it runs
// only with MATRIX_TEST_ENGINE_RESTART=1.
func TestEngineRestart(t *testing.T) {
	if os.Getenv("MATRIX_TEST_ENGINE_RESTART") != "1" {
		t.Skip("set MATRIX_TEST_ENGINE_RESTART=1 to stop and restart a second engine of the test's own")
	}
	needDocker(t)
	d2 := startSecondEngine(t)
	host := d2.host

	w := newWorkspace(t)
	specPath := w.spec(t, target("restart", `echo started; sleep 30; mkdir -p out; echo x > out/f`, `  retries = 2`))
	p := w.start(t, []string{"DOCKER_HOST=" + host}, "run", "--out", w.out, specPath)
	p.waitFor(t, time.Minute, "[restart.tar.gz] started")
	// Stopped as a service manager stops it: dockerd stops its containers and exits.
	d2.stop()
	time.Sleep(time.Second)
	d2.start(t)
	code := p.wait(t, 2*time.Minute)
	stderr := p.stderr.String()
	t.Logf("exit %d; stderr:\n%s", code, stderr)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	t.Setenv("DOCKER_HOST", host)
	e2, err := engine.Connect(ctx, engine.PullNever)
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	switch code {
	case 0:
		if !strings.Contains(stderr, "engine error, retry 1 of 2") {
			t.Errorf("built without a retry across an engine restart")
		}
		checkRun(t, e2, w, stderr, want{ok: []string{"restart.tar.gz"}})
	case 1:
		m := checkRun(t, e2, w, stderr, want{failed: map[string][]string{"restart.tar.gz": nil}})
		if len(m.Failed) == 1 && !containsAny(m.Failed[0].Error, "engine", "container", "daemon", "connect") {
			t.Errorf("unclear error: %s", m.Failed[0].Error)
		}
	default:
		t.Errorf("exit %d", code)
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// TestUnreadableManifestStopsRun: a manifest.json that a newer matrix wrote (or that
// is corrupt) stops the next run before it starts (no run id, no engine swept, no
// cell), naming the file and how to start over, and changes nothing in the output
// directory, its lock file included; once moved away, the run starts the records over.
func TestUnreadableManifestStopsRun(t *testing.T) {
	e := needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	specPath := w.spec(t, goodTarget())
	if first := w.matrix(t, nil, "run", "--out", w.out, specPath); first.code != 0 {
		t.Fatalf("first run: exit %d\n%s", first.code, first.stderr)
	}
	path := filepath.Join(w.out, manifest.FileName)
	writeFile(t, path, `{"schema_version": 2, "artifacts": []}`)
	before := snapshot(t, w.out)

	res := w.matrix(t, nil, "run", "--reuse", "--out", w.out, specPath)
	refusal := path + ": schema_version 2, this tool reads 1 (a newer matrix wrote it); nothing was built: " +
		"move it away (or remove it) to start the records over"
	if res.code != 1 || !strings.Contains(res.stderr, refusal) {
		t.Errorf("exit %d, want 1 and %q; stderr:\n%s", res.code, refusal, res.stderr)
	}
	if runID(res.stderr) != "" || strings.Contains(res.stderr, "[good.tar.gz]") {
		t.Errorf("a run started before the refusal:\n%s", res.stderr)
	}
	assertSameSnapshot(t, before, snapshot(t, w.out))

	if err := os.Rename(path, path+".newer"); err != nil {
		t.Fatal(err)
	}
	again := w.matrix(t, nil, "run", "--out", w.out, specPath)
	if again.code != 0 {
		t.Fatalf("after moving the manifest away: exit %d\n%s", again.code, again.stderr)
	}
	checkRun(t, e, w, again.stderr, want{ok: []string{"good.tar.gz"}})
}

// changingTarget is a cell whose every build differs (random bytes): a rebuild
// replaces its earlier artifact with another.
func changingTarget() string {
	return target("changing", `mkdir -p out; head -c 64 /dev/urandom > out/random`, "")
}

// skippedTarget is a target of n cells that are all skipped, with long reasons: they
// take no time, and make the records some pages long.
func skippedTarget(n int) string {
	values := make([]string, n)
	for i := range values {
		values[i] = strconv.Itoa(i)
	}
	return fmt.Sprintf(`
target "skipped" {
  image    = %q
  workdir  = "/build"
  script   = "true"
  collect  = "/build/out"
  artifact = "skipped-${matrix.i}.tar.gz"
  matrix   = { i = [%s] }
  skip {
    condition = true
    reason    = "skipped so that the records of a run take pages: %s"
  }
}
`, testImage, strings.Join(values, ", "), strings.Repeat("x", 200))
}

// TestDiskFullWhileReplacing is TestOutdirDiskFullWhileRecording with an artifact
// that each run rebuilds with other bytes, and records of some 6 pages (skipped
// cells): a 1 MiB tmpfs holding an earlier run's artifacts is filled so that each run
// gets one page (4 KiB) more than the one before, from none, until a run gets
// through, so that the disk fills at each step of a run, and in several runs after
// the artifacts are published and before the records are. After each, the artifacts on disk are those the records
// list (verify passes), an artifact a run could not record is not left (the new
// cells' artifacts are on disk only when recorded), and no temporary is left. Before
// undo entries, a run whose recording failed left the new changing.tar.gz beside
// records of the earlier one.
func TestDiskFullWhileReplacing(t *testing.T) {
	needDocker(t)
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	t.Parallel()
	w := newWorkspace(t)
	os.MkdirAll(w.out, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", w.out).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", w.out).Run() })

	specPath := w.spec(t, changingTarget()+skippedTarget(50))
	if res := w.matrixWithin(t, 2*time.Minute, "run", "--out", w.out, specPath); res.code != 0 {
		t.Fatalf("first run: exit %d\n%s", res.code, res.stderr)
	}
	filler := filepath.Join(w.out, "filler") // an unlisted file, which verify leaves alone
	recordingFailed := 0
	for pages := 0; ; pages++ {
		if pages > 80 {
			t.Fatalf("no run got through with %d free pages", pages)
		}
		cell := fmt.Sprintf("cell%d", pages)
		w.spec(t, changingTarget()+target(cell, `mkdir -p out; echo `+cell+` > out/f`, "")+skippedTarget(50))
		fill(t, filler, pages)
		res := w.matrixWithin(t, 2*time.Minute, "run", "--out", w.out, specPath)
		os.Remove(filler)
		t.Logf("%d free pages: exit %d; %s", pages, res.code, lastLine(res.stderr))
		if res.code != 0 && strings.Contains(res.stderr, "recording the run") {
			recordingFailed++
			if !strings.Contains(res.stderr, "no space left on device") {
				t.Errorf("recording failed for another reason than the full disk:\n%s", res.stderr)
			}
		}
		assertNoPartialFiles(t, w.out)
		assertVerifies(t, w)
		m := assertPair(t, w.out)
		recorded := map[string]bool{}
		for _, a := range m.Artifacts {
			recorded[a.File] = true
		}
		if !recorded["changing.tar.gz"] {
			t.Errorf("%d free pages: changing.tar.gz is no longer recorded", pages)
		}
		if _, err := os.Lstat(filepath.Join(w.out, cell+".tar.gz")); (err == nil) != recorded[cell+".tar.gz"] {
			t.Errorf("%d free pages: %s.tar.gz recorded %v, on disk: %v", pages, cell, recorded[cell+".tar.gz"], err)
		}
		if res.code == 0 {
			if m.RunID != runID(res.stderr) {
				t.Errorf("the run got through, and the manifest is run %s's", m.RunID)
			}
			break
		}
	}
	if recordingFailed < 2 {
		t.Errorf("%d runs failed while recording, want several", recordingFailed)
	}
}

// TestKilledRunBetweenPublishingAndRecording kills a run with SIGKILL after it
// replaced changing.tar.gz and while another cell still runs, so before it recorded
// anything: verify then reports the replacement, saying that the next run puts the
// earlier file back, and the next run (which does not build changing.tar.gz) does so
// and says so; the artifact is then the earlier build, recorded, and verify passes.
func TestKilledRunBetweenPublishingAndRecording(t *testing.T) {
	e := needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	specPath := w.spec(t, changingTarget())
	if res := w.matrix(t, nil, "run", "--out", w.out, specPath); res.code != 0 {
		t.Fatalf("first run: exit %d\n%s", res.code, res.stderr)
	}
	earlier, err := os.ReadFile(filepath.Join(w.out, "changing.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}

	w.spec(t, changingTarget()+slowTarget())
	p := w.start(t, nil, "run", "--out", w.out, specPath)
	p.waitFor(t, time.Minute, "ok   changing.tar.gz", "[slow.tar.gz] sleeping-now")
	killed := runID(p.stderr.String())
	p.cmd.Process.Kill()
	p.wait(t, 10*time.Second)
	if now, _ := os.ReadFile(filepath.Join(w.out, "changing.tar.gz")); bytes.Equal(now, earlier) {
		t.Fatal("the killed run did not replace changing.tar.gz")
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := w.command(ctx, nil, "verify", w.out).CombinedOutput()
	if want := "changing.tar.gz: replaced by a run that stopped before recording it; the earlier file is .changing.tar.gz.tmp-was-"; err == nil || !strings.Contains(string(out), want) ||
		!strings.Contains(string(out), "the next matrix run puts it back") {
		t.Errorf("verify after the kill: %v, output lacks %q and how to finish:\n%s", err, want, out)
	}

	w.spec(t, goodTarget())
	res := w.matrix(t, nil, "run", "--out", w.out, specPath)
	if res.code != 0 {
		t.Fatalf("the next run: exit %d\n%s", res.code, res.stderr)
	}
	if want := "matrix: put back the earlier changing.tar.gz: its replacement was never recorded"; !strings.Contains(res.stderr, want) {
		t.Errorf("the next run's stderr lacks %q:\n%s", want, res.stderr)
	}
	if now, _ := os.ReadFile(filepath.Join(w.out, "changing.tar.gz")); !bytes.Equal(now, earlier) {
		t.Error("changing.tar.gz is not the earlier build")
	}
	assertNoContainers(t, e, killed)
	checkRun(t, e, w, res.stderr, want{ok: []string{"changing.tar.gz", "good.tar.gz"}})
}
