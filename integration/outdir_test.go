package integration

import (
	"bytes"
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

// TestOutdirLogBounded: a script printing 72 MiB builds like any other; its log holds
// at most 64 MiB of the output and ends saying how many bytes it left out, and memory
// stays flat.
func TestOutdirLogBounded(t *testing.T) {
	e := needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	const printed = 72 << 20 // in lines of 1 KiB
	specPath := w.spec(t, target("loud", fmt.Sprintf(`yes "$(head -c 1023 /dev/zero | tr '\0' a)" | head -c %d; mkdir -p out; echo x > out/f`, printed), ""))
	res := w.matrixWithin(t, 3*time.Minute, "run", "-q", "--out", w.out, specPath)
	if res.code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", res.code, res.stderr)
	}
	checkRun(t, e, w, res.stderr, want{ok: []string{"loud.tar.gz"}})
	f, err := os.Open(filepath.Join(w.out, "logs", "loud.tar.gz.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, _ := f.Stat()
	tail := make([]byte, 512)
	n, _ := f.ReadAt(tail, info.Size()-int64(len(tail)))
	last := lastLine(string(tail[:n]))
	var dropped int64
	if _, err := fmt.Sscanf(last, "matrix: %d more bytes of output were not written to this log: it holds at most 67108864 bytes of it", &dropped); err != nil {
		t.Fatalf("the log of %d bytes does not end saying what it left out: %q", info.Size(), last)
	}
	kept := info.Size() - int64(len(last)) - 1
	if kept > 64<<20 || kept+dropped < printed || dropped > printed-(64<<20)+64<<10 {
		t.Errorf("log: %d bytes kept, %d left out; want at most 64 MiB kept, of %d printed", kept, dropped, printed)
	}
	if res.maxRSSKiB > 150<<10 {
		t.Errorf("max RSS %d MiB while a cell printed 72 MiB", res.maxRSSKiB>>10)
	}
}

// TestOutdirFailedRebuildKeepsLog: a cell whose earlier artifact the records keep
// fails to build again: logs/NAME.log stays the log of the artifact on disk, and the
// failed attempt's log is logs/NAME.log.failed, which failed[].log and the error name.
func TestOutdirFailedRebuildKeepsLog(t *testing.T) {
	e := needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	specPath := w.spec(t, goodTarget())
	if res := w.matrixWithin(t, 2*time.Minute, "run", "--out", w.out, specPath); res.code != 0 {
		t.Fatalf("first run: exit %d\n%s", res.code, res.stderr)
	}
	logPath := filepath.Join(w.out, "logs", "good.tar.gz.log")
	earlier, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}

	w.spec(t, target("good", `echo second-attempt-broke; exit 3`, ""))
	res := w.matrixWithin(t, 2*time.Minute, "run", "--out", w.out, specPath)
	if res.code != 1 {
		t.Errorf("second run: exit %d, want 1", res.code)
	}
	m := checkRun(t, e, w, res.stderr, want{ok: []string{"good.tar.gz"}, failed: map[string][]string{
		"good.tar.gz": {"script exited with status 3; last lines of logs/good.tar.gz.log.failed:", "second-attempt-broke"},
	}})
	if now, _ := os.ReadFile(logPath); !bytes.Equal(now, earlier) {
		t.Errorf("the kept artifact's log was replaced:\n%s", now)
	}
	if a := m.Artifacts[0]; a.Log != "logs/good.tar.gz.log" || a.RunID == runID(res.stderr) {
		t.Errorf("artifact %+v, want the earlier one with its log", a)
	}
	if len(m.Failed) != 1 || m.Failed[0].Log != "logs/good.tar.gz.log.failed" {
		t.Fatalf("failed %+v, want its log logs/good.tar.gz.log.failed", m.Failed)
	}
	failed, err := os.ReadFile(filepath.Join(w.out, m.Failed[0].Log))
	if err != nil || !bytes.Contains(failed, []byte("second-attempt-broke\n")) || !strings.HasPrefix(lastLine(string(failed)), "matrix: cell failed: script exited with status 3") {
		t.Errorf("the failed attempt's log (%v):\n%s", err, failed)
	}
}

// TestOutdirSummaryWhenNotRecorded: the summary names manifest.json only when the run
// wrote it. A 1 MiB tmpfs is filled so that each run gets one page more than the one
// before, until a run gets through: a run whose recording failed says on stdout that
// manifest.json was not written, and why.
func TestOutdirSummaryWhenNotRecorded(t *testing.T) {
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
	filler := filepath.Join(w.out, "filler")
	manifestPath := filepath.Join(w.out, "manifest.json")
	notRecorded := 0
	for pages := 0; ; pages++ {
		if pages > 40 {
			t.Fatalf("no run got through with %d free pages", pages)
		}
		fill(t, filler, pages)
		res := w.matrixWithin(t, 2*time.Minute, "run", "--out", w.out, specPath)
		os.Remove(filler)
		summary := lastLine(res.stdout)
		t.Logf("%d free pages: exit %d; %s", pages, res.code, summary)
		switch {
		case strings.Contains(res.stderr, "recording the run"):
			notRecorded++
			if want := manifestPath + " not written: "; !strings.Contains(summary, want) || !strings.Contains(summary, "no space left on device") {
				t.Errorf("recording failed; the summary says %q, want %q and why", summary, want)
			}
		case res.stdout != "":
			if want := "; " + manifestPath; !strings.HasSuffix(summary, want) {
				t.Errorf("the summary says %q, want it to end %q", summary, want)
			}
		}
		if res.code == 0 {
			break
		}
	}
	if notRecorded == 0 {
		t.Error("no run failed while recording: the disk never filled at that step")
	}
}

// TestOutdirErrorTailEscaped: a failed script's last lines, which its error repeats,
// reach stderr (the FAIL line) and stdout (the summary) escaped, like its output;
// manifest.json keeps them as they were.
func TestOutdirErrorTailEscaped(t *testing.T) {
	e := needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	specPath := w.spec(t, target("hostile", `printf 'before\n\033]0;PWNED\007\033[2J\rok   forged.tar.gz\n'; exit 3`, "")+goodTarget())
	res := w.matrixWithin(t, 2*time.Minute, "run", "--keep-going", "--out", w.out, specPath)
	if res.code != 1 {
		t.Errorf("exit %d, want 1", res.code)
	}
	for name, s := range map[string]string{"stderr": res.stderr, "stdout": res.stdout} {
		if strings.ContainsAny(s, "\x1b\x07\r") {
			t.Errorf("%s holds terminal controls:\n%q", name, s)
		}
	}
	if want := `    \x1b]0;PWNED\x07\x1b[2J\x0dok   forged.tar.gz` + "\n"; !strings.Contains(res.stderr, want) {
		t.Errorf("stderr lacks the escaped last line %q:\n%s", want, res.stderr)
	}
	checkRun(t, e, w, res.stderr, want{ok: []string{"good.tar.gz"}, failed: map[string][]string{
		"hostile.tar.gz": {"script exited with status 3", "\x1b]0;PWNED\x07\x1b[2J\rok   forged.tar.gz"},
	}})
}

// TestOutdirLogsSwappedDuringRun: OUT/logs swapped for a link to a directory outside
// OUT while the run builds: the logs of the cells after the swap still go into the
// directory the run opened, and nothing is written through the link.
func TestOutdirLogsSwappedDuringRun(t *testing.T) {
	needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	signal := filepath.Join(w.dir, "signal")
	elsewhere := filepath.Join(w.dir, "elsewhere")
	os.MkdirAll(signal, 0o755)
	os.MkdirAll(elsewhere, 0o755)
	mount := fmt.Sprintf("  mount {\n    source = %q\n    target = \"/signal\"\n    read_only = true\n  }", signal)
	specPath := w.spec(t, target("first", `echo waiting-for-the-swap; while [ ! -e /signal/go ]; do sleep 0.1; done; mkdir -p out; echo 1 > out/f`, mount)+
		target("second", `echo second-cell-output; mkdir -p out; echo 2 > out/f`, ""))
	p := w.start(t, nil, "run", "-j", "1", "--out", w.out, specPath)
	p.waitFor(t, 2*time.Minute, "[first.tar.gz] waiting-for-the-swap")
	logs := filepath.Join(w.out, "logs")
	if err := os.Rename(logs, logs+".moved"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, logs); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(signal, "go"), "")
	if code := p.wait(t, 2*time.Minute); code != 0 {
		t.Errorf("exit %d, want 0:\n%s", code, p.stderr.String())
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("written through the link that took the place of logs/: %v", entries)
	}
	log, err := os.ReadFile(filepath.Join(logs+".moved", "second.tar.gz.log"))
	if err != nil || !bytes.Contains(log, []byte("second-cell-output\n")) {
		t.Errorf("the second cell's log is not in the directory the run opened (%v):\n%s", err, log)
	}
}
