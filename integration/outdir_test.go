package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/manifest"
)

// The output directory is hostile ground too: it may come from a cache, an upload or
// another user. These tests plant what the tool must not follow or block on, and fill
// the disk while the run records itself.

// matrixWithin runs the binary like w.matrix, but fails the test when it is still
// running after limit: a hang is the failure these tests look for.
func (w *workspace) matrixWithin(t *testing.T, limit time.Duration, args ...string) result {
	t.Helper()
	p := w.start(t, nil, args...)
	code := p.wait(t, limit)
	t.Logf("matrix %s: exit %d", strings.Join(args, " "), code)
	return result{code: code, stdout: p.stdout.String(), stderr: p.stderr.String()}
}

// assertRefused runs the spec into w.out and checks that the run refuses with an
// error holding want before it builds anything, and that nothing outside w.out changed.
func assertRefused(t *testing.T, w *workspace, specPath, want string) {
	t.Helper()
	e := needDocker(t)
	before := snapshot(t, w.dir, "out")
	res := w.matrixWithin(t, time.Minute, "run", "--out", w.out, specPath)
	if res.code != 1 || !strings.Contains(res.stderr, want) {
		t.Errorf("exit %d, want 1 and %q on stderr:\n%s", res.code, want, res.stderr)
	}
	assertSameSnapshot(t, before, snapshot(t, w.dir, "out"))
	if _, err := os.Stat(filepath.Join(w.out, "good.tar.gz")); err == nil {
		t.Error("built although the run refused")
	}
	if id := runID(res.stderr); id != "" {
		assertNoContainers(t, e, id)
	}
}

// TestOutdirClaimFileLink: OUT/.matrix.lock as a link to a file outside OUT. The claim
// file is written in place, so following the link would truncate that file: the run
// refuses with an error naming the claim file, builds nothing, and the file outside
// is unchanged.
func TestOutdirClaimFileLink(t *testing.T) {
	needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	specPath := w.spec(t, goodTarget())
	precious := filepath.Join(w.dir, "precious.txt")
	writeFile(t, precious, "not the tool's to truncate\n")
	os.MkdirAll(w.out, 0o755)
	claim := filepath.Join(w.out, ".matrix.lock")
	if err := os.Symlink(precious, claim); err != nil {
		t.Fatal(err)
	}
	assertRefused(t, w, specPath, "claiming the output directory: open "+claim+": not a regular file but a symbolic link")
	if info, err := os.Lstat(claim); err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the planted link was replaced or removed: %v, %v", info, err)
	}
}

// TestOutdirLogsLink: OUT/logs as a link to a directory outside OUT would send every
// cell's log there: the run refuses before it builds, and nothing is written there.
func TestOutdirLogsLink(t *testing.T) {
	needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	specPath := w.spec(t, goodTarget())
	elsewhere := filepath.Join(w.dir, "elsewhere")
	os.MkdirAll(elsewhere, 0o755)
	os.MkdirAll(w.out, 0o755)
	logs := filepath.Join(w.out, "logs")
	if err := os.Symlink(elsewhere, logs); err != nil {
		t.Fatal(err)
	}
	assertRefused(t, w, specPath, logs+" is not a directory but a symbolic link")
}

// TestOutdirFifoListed: an artifact the manifest lists replaced by a fifo. Hashing it
// would block for ever: verify reports it at once and exits 1; a run of another cell
// drops its record, saying why, and ends promptly; what it leaves verifies.
func TestOutdirFifoListed(t *testing.T) {
	plantListed(t, "named pipe", func(path string) error { return syscall.Mkfifo(path, 0o644) })
}

// TestOutdirDeviceLinkListed: an artifact the manifest lists replaced by a link to
// /dev/zero, which hashing would read for ever: the same as a fifo.
func TestOutdirDeviceLinkListed(t *testing.T) {
	plantListed(t, "symbolic link", func(path string) error { return os.Symlink("/dev/zero", path) })
}

func plantListed(t *testing.T, kind string, plant func(path string) error) {
	e := needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	specPath := w.spec(t, goodTarget())
	if res := w.matrixWithin(t, 2*time.Minute, "run", "--out", w.out, specPath); res.code != 0 {
		t.Fatalf("first run: exit %d\n%s", res.code, res.stderr)
	}
	path := filepath.Join(w.out, "good.tar.gz")
	os.Remove(path)
	if err := plant(path); err != nil {
		t.Fatal(err)
	}

	res := w.matrixWithin(t, 30*time.Second, "verify", w.out)
	if want := "good.tar.gz: not a regular file but a " + kind; res.code != 1 || !strings.Contains(res.stderr, want) {
		t.Errorf("verify: exit %d, want 1 and %q:\n%s", res.code, want, res.stderr)
	}

	w.spec(t, target("other", `mkdir -p out; echo other > out/f`, ""))
	res = w.matrixWithin(t, 2*time.Minute, "run", "--out", w.out, specPath)
	if res.code != 0 {
		t.Errorf("run: exit %d\n%s", res.code, res.stderr)
	}
	if want := "matrix: no longer records good.tar.gz (built by run "; !strings.Contains(res.stderr, want) || !strings.Contains(res.stderr, "not a regular file but a "+kind) {
		t.Errorf("the run does not say why it drops good.tar.gz:\n%s", res.stderr)
	}
	checkRun(t, e, w, res.stderr, want{ok: []string{"other.tar.gz"}})
}

// TestOutdirDiskFullWhileRecording fills a 1 MiB tmpfs holding an earlier run's
// artifact and records so that each run gets one page (4 KiB) more than the one
// before, from none, until a run gets through: one run after another the disk fills
// at each step of a run (its log, its artifact, the spool, SHA256SUMS, manifest.json).
// After each, OUT holds a pair of records that belong together and that verify
// accepts, and no temporary. Each run adds a new cell, so that each writes another
// SHA256SUMS.
func TestOutdirDiskFullWhileRecording(t *testing.T) {
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

	specPath := w.spec(t, goodTarget())
	if res := w.matrixWithin(t, 2*time.Minute, "run", "--out", w.out, specPath); res.code != 0 {
		t.Fatalf("first run: exit %d\n%s", res.code, res.stderr)
	}
	filler := filepath.Join(w.out, "filler") // an unlisted file, which verify leaves alone
	recordingFailed := 0
	for pages := 0; ; pages++ {
		if pages > 40 {
			t.Fatalf("no run got through with %d free pages", pages)
		}
		cell := fmt.Sprintf("cell%d", pages)
		w.spec(t, goodTarget()+target(cell, `mkdir -p out; echo `+cell+` > out/f`, ""))
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
		if res.code == 0 {
			if m.RunID != runID(res.stderr) {
				t.Errorf("the run got through, and the manifest is run %s's", m.RunID)
			}
			break
		}
	}
	if recordingFailed == 0 {
		t.Error("no run failed while recording: the disk never filled at that step")
	}
}

// fill writes a file that leaves pages free pages on the file system of path.
func fill(t *testing.T, path string, pages int) {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(filepath.Dir(path), &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * st.Bsize
	size := max(free-int64(pages)*st.Bsize, 0)
	if err := os.WriteFile(path, make([]byte, size), 0o644); err != nil {
		t.Fatalf("filling %s: %v", path, err)
	}
}

// assertPair checks that manifest.json records the sha256 of the SHA256SUMS beside it,
// and returns the manifest.
func assertPair(t *testing.T, out string) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Read(out)
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	sums, err := os.ReadFile(filepath.Join(out, manifest.SumsName))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(sums)
	if got := hex.EncodeToString(sum[:]); got != m.SumsSHA256 {
		t.Errorf("SHA256SUMS (sha256 %s) does not belong to manifest.json of run %s (records %s)", got, m.RunID, m.SumsSHA256)
	}
	return m
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
