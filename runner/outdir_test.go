package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/internal/filename"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/plan"
)

// TestRunRefusesAClaimFileThatIsNotItsOwn: the claim file is written in place, so a
// link (to a file outside the output directory or to an artifact inside it), a
// directory or a second name of another file stops the run before anything is
// built, naming the file, and the file behind it is left as it was.
func TestRunRefusesAClaimFileThatIsNotItsOwn(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "precious")
	for _, tc := range []struct {
		name  string
		plant func(claim, out string) error
		want  string
	}{
		{"link out", func(claim, _ string) error { return os.Symlink(outside, claim) }, "a symbolic link"},
		{"link in", func(claim, out string) error { return os.Symlink("a.tar.gz", claim) }, "a symbolic link"},
		{"directory", func(claim, _ string) error { return os.Mkdir(claim, 0o755) }, "a directory"},
		{"hard link", func(claim, _ string) error { return os.Link(outside, claim) }, "2 names"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(outside, []byte("precious\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			opts := options(t)
			os.WriteFile(filepath.Join(opts.OutDir, "a.tar.gz"), []byte("artifact\n"), 0o644)
			claim := filepath.Join(opts.OutDir, claimName)
			if err := tc.plant(claim, opts.OutDir); err != nil {
				t.Skipf("cannot plant it here: %v", err)
			}
			exec := &fakeExec{}
			results, err := readAndRun(context.Background(), []executor.Executor{exec}, cells("b.tar.gz"), opts)
			if err == nil || !strings.Contains(err.Error(), claim) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want the claim file %s refused as %q", err, claim, tc.want)
			}
			if results != nil || exec.calls("b.tar.gz") != 0 {
				t.Errorf("built before refusing")
			}
			if data, _ := os.ReadFile(outside); string(data) != "precious\n" {
				t.Errorf("the file outside was changed: %q", data)
			}
			if data, _ := os.ReadFile(filepath.Join(opts.OutDir, "a.tar.gz")); string(data) != "artifact\n" {
				t.Errorf("the artifact was changed: %q", data)
			}
		})
	}
}

// TestRunRefusesALogDirThatIsNotADirectory: logs/ as a link would send every log
// outside the output directory; the run refuses before anything is built.
func TestRunRefusesALogDirThatIsNotADirectory(t *testing.T) {
	outside := t.TempDir()
	for _, tc := range []struct {
		name  string
		plant func(logs string) error
		want  string
	}{
		{"link", func(logs string) error { return os.Symlink(outside, logs) }, "not a directory but a symbolic link"},
		{"file", func(logs string) error { return os.WriteFile(logs, nil, 0o644) }, "not a directory but a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := options(t)
			logs := filepath.Join(opts.OutDir, logDir)
			if err := tc.plant(logs); err != nil {
				t.Fatal(err)
			}
			exec := &fakeExec{}
			_, err := readAndRun(context.Background(), []executor.Executor{exec}, cells("a.tar.gz"), opts)
			if err == nil || !strings.Contains(err.Error(), logs+" is "+tc.want) {
				t.Errorf("err = %v, want %s refused", err, logs)
			}
			if exec.calls("a.tar.gz") != 0 {
				t.Error("built before refusing")
			}
			if entries, _ := os.ReadDir(outside); len(entries) != 0 {
				t.Errorf("written outside the output directory: %v", entries)
			}
		})
	}
}

// TestRunDropsRecordsOfFilesThatAreNotRegular: a name the manifest lists that is now
// a fifo, a link to a device or a link to a file elsewhere is never opened for
// hashing (it would block or never end): the run ends promptly, its record is not
// carried over, and the run says why. Under --reuse, a cell whose file is such a
// thing is built again.
func TestRunDropsRecordsOfFilesThatAreNotRegular(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "outside")
	os.WriteFile(outside, []byte("outside"), 0o644)
	for what, plant := range map[string]func(path string) error{
		"fifo":        func(path string) error { return syscall.Mkfifo(path, 0o644) },
		"device link": func(path string) error { return os.Symlink("/dev/zero", path) },
		"link out":    func(path string) error { return os.Symlink(outside, path) },
	} {
		t.Run(what, func(t *testing.T) {
			opts := options(t)
			opts.RunID = "first"
			if _, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cells("a.tar.gz", "b.tar.gz"), opts); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"a.tar.gz", "b.tar.gz"} {
				path := filepath.Join(opts.OutDir, name)
				os.Remove(path)
				if err := plant(path); err != nil {
					t.Fatal(err)
				}
			}
			var progress bytes.Buffer
			opts.Progress, opts.Reuse, opts.RunID = &progress, true, "second"
			exec := &fakeExec{}
			done := make(chan error, 1)
			go func() {
				_, err := readAndRun(context.Background(), []executor.Executor{exec}, cells("a.tar.gz", "c.tar.gz"), opts)
				done <- err
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the run still runs after 10 s")
			}
			if exec.calls("a.tar.gz") != 1 {
				t.Error("a.tar.gz was reused, though its file is not a regular file")
			}
			if data, _ := os.ReadFile(outside); string(data) != "outside" {
				t.Errorf("the file outside was changed: %q", data)
			}
			m, err := manifest.Read(opts.OutDir)
			if err != nil {
				t.Fatal(err)
			}
			var files []string
			for _, a := range m.Artifacts {
				files = append(files, a.File+"@"+a.RunID)
			}
			if strings.Join(files, " ") != "a.tar.gz@second c.tar.gz@second" {
				t.Errorf("artifacts = %v, want a and c of this run, b dropped", files)
			}
			if !strings.Contains(progress.String(), "matrix: no longer records b.tar.gz (built by run first): ") ||
				!strings.Contains(progress.String(), "not a regular file") {
				t.Errorf("the run does not say why b.tar.gz is dropped:\n%s", progress.String())
			}
		})
	}
}

// TestRunDoesNotRecordTheArtifactOfASkippedCell: a cell built by an earlier run and
// skipped by this one is listed in skipped[] only; its file stays on disk,
// unrecorded, and the run says so.
func TestRunDoesNotRecordTheArtifactOfASkippedCell(t *testing.T) {
	opts := options(t)
	opts.RunID, opts.Reuse = "first", true
	if _, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cells("a.tar.gz", "b.tar.gz"), opts); err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	opts.RunID, opts.Progress = "second", &progress
	cs := cells("a.tar.gz", "b.tar.gz")
	cs[1] = skipped(1, "needs Node.js >=20.9.0") // b's target and axes
	if _, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cs, opts); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Read(opts.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Artifacts) != 1 || m.Artifacts[0].File != "a.tar.gz" || len(m.Skipped) != 1 || m.Skipped[0].Cell != "t[i=1]" {
		t.Errorf("artifacts %+v, skipped %+v; want a only, and b's cell skipped", m.Artifacts, m.Skipped)
	}
	if _, err := os.Stat(filepath.Join(opts.OutDir, "b.tar.gz")); err != nil {
		t.Errorf("the skipped cell's earlier artifact was removed: %v", err)
	}
	if want := "matrix: b.tar.gz stays in " + opts.OutDir + " but is no longer recorded: its cell t[i=1] is skipped now"; !strings.Contains(progress.String(), want) {
		t.Errorf("progress lacks %q:\n%s", want, progress.String())
	}
	if rep, err := manifest.Verify(context.Background(), opts.OutDir); err != nil || len(rep.Problems) > 0 {
		t.Errorf("verify: %v %v", rep.Problems, err)
	}
}

// TestRunRecordsAnArtifactWhoseRenameIsNotDurableYet: a failing sync of the output
// directory after an artifact's rename leaves the artifact in place; the cell
// succeeds and is recorded, with a warning, since writing the records syncs the
// directory again (and fails the run if that fails too).
func TestRunRecordsAnArtifactWhoseRenameIsNotDurableYet(t *testing.T) {
	opts := options(t)
	renamed, failed := false, false
	atomicfile.Fault = func(step, path string) error {
		renamed = renamed || step == "rename" && path == filepath.Join(opts.OutDir, "a.tar.gz")
		if step == "syncdir" && path == opts.OutDir && renamed && !failed {
			failed = true // the sync of OUT after the artifact's rename
			return syscall.EIO
		}
		return nil
	}
	defer func() { atomicfile.Fault = nil }()
	var progress bytes.Buffer
	opts.Progress = &progress
	results, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cells("a.tar.gz"), opts)
	if err != nil || results[0].Err != nil {
		t.Fatalf("err = %v, cell: %v", err, results[0].Err)
	}
	if !failed || !strings.Contains(progress.String(), "[a.tar.gz] matrix: warning: "+filepath.Join(opts.OutDir, "a.tar.gz")+" is in place, but syncing its directory failed") {
		t.Errorf("no warning:\n%s", progress.String())
	}
	if rep, err := manifest.Verify(context.Background(), opts.OutDir); err != nil || len(rep.Problems) > 0 || rep.Checked != 1 {
		t.Errorf("verify: %+v %v", rep, err)
	}
}

// TestRunCompletesAPendingRecord: a run that stopped between renaming SHA256SUMS and
// manifest.json leaves its manifest pending; the next run puts it in place before it
// cleans up, says so, and carries over its records.
func TestRunCompletesAPendingRecord(t *testing.T) {
	opts := options(t)
	opts.RunID = "first"
	atomicfile.Fault = func(step, path string) error {
		if step == "rename" && path == filepath.Join(opts.OutDir, manifest.FileName) {
			return syscall.EIO
		}
		return nil
	}
	_, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cells("a.tar.gz"), opts)
	atomicfile.Fault = nil
	if err == nil || !strings.Contains(err.Error(), "recording the run") {
		t.Fatalf("err = %v, want the record's failure", err)
	}
	var progress bytes.Buffer
	opts.RunID, opts.Progress = "second", &progress
	if _, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cells("b.tar.gz"), opts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "matrix: completed the records of run first, which stopped between writing SHA256SUMS and manifest.json") {
		t.Errorf("progress:\n%s", progress.String())
	}
	m, err := manifest.Read(opts.OutDir)
	if err != nil || len(m.Artifacts) != 2 || m.Artifacts[0].RunID != "first" {
		t.Errorf("manifest: %+v, %v; want a of run first carried over", m, err)
	}
	assertClean(t, opts.OutDir)
}

// TestRunInterruptedKeepsEarlierRecords: a run stopped before it could hash the
// earlier artifacts keeps their records when their files are still regular files of
// the recorded size, rather than forgetting them or hashing on after the stop.
func TestRunInterruptedKeepsEarlierRecords(t *testing.T) {
	opts := options(t)
	opts.RunID = "first"
	if _, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cells("a.tar.gz"), opts); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	opts.RunID = "second"
	_, err := readAndRun(ctx, []executor.Executor{&fakeExec{}}, cells("", "b.tar.gz"), opts)
	var runErr *RunError
	if !errors.As(err, &runErr) {
		t.Fatalf("err = %v, want b not built", err)
	}
	m, err := manifest.Read(opts.OutDir)
	if err != nil || len(m.Artifacts) != 1 || m.Artifacts[0].File != "a.tar.gz" {
		t.Errorf("manifest: %+v, %v; want a's record kept", m, err)
	}
}

// TestRunWritesLogsIntoTheLogDirItOpened: logs/ swapped for a link to a directory
// elsewhere while the run builds (here by the first cell's build): the logs of the
// cells after it still go into the directory the run opened, never through the link.
func TestRunWritesLogsIntoTheLogDirItOpened(t *testing.T) {
	opts := options(t)
	opts.Jobs = 1
	outside := t.TempDir()
	logs := filepath.Join(opts.OutDir, logDir)
	exec := &fakeExec{behave: func(ctx context.Context, job executor.Job, _ int) error {
		if job.Cell.Artifact != "a.tar.gz" {
			return nil
		}
		if err := os.Rename(logs, logs+".moved"); err != nil {
			return err
		}
		return os.Symlink(outside, logs)
	}}
	cs := cells("a.tar.gz", "b.tar.gz", "c.tar.gz")
	cs[2].Test = &plan.Test{Image: "rt", Workdir: "/test", Script: "false", Timeout: time.Minute}
	exec.test = func(ctx context.Context, job executor.TestJob) error { return &executor.ExitError{Code: 1} }
	results, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts)
	if results == nil || results[0].Err != nil || results[1].Err != nil || results[2].Err == nil {
		t.Fatalf("run: %v, %+v", err, results)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("written through the link that took the name logs: %v", entries)
	}
	for _, name := range []string{"a.tar.gz.log", "b.tar.gz.log", "c.tar.gz.log"} {
		if _, err := os.Stat(filepath.Join(logs+".moved", name)); err != nil {
			t.Errorf("a log is not in the directory the run opened: %v", err)
		}
	}
}

// TestRunActsOnlyOnUndoEntriesItCanHaveMade: files planted in OUT under undo entries'
// names undo nothing. A new-file entry of the records (.manifest.json.tmp-new-1,
// .SHA256SUMS.tmp-new-N), of logs/ or of a file the run did not put there (the
// user's README.txt, an artifact's log) removed that file, saying so ("removed
// manifest.json: it was never recorded"); an earlier-file entry that is a link to a
// file outside OUT was left in OUT. Now each is removed as a temporary (never
// followed), and what it names stays.
func TestRunActsOnlyOnUndoEntriesItCanHaveMade(t *testing.T) {
	opts := options(t)
	dir := opts.OutDir
	if _, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cells("good.tar.gz"), opts); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "outside")
	os.WriteFile(outside, []byte("outside"), 0o644)
	os.WriteFile(filepath.Join(dir, "README.txt"), []byte("mine"), 0o644)
	planted := []string{".manifest.json.tmp-new-1", ".SHA256SUMS.tmp-new-2", ".logs.tmp-new-3", ".Logs.tmp-new-4",
		".README.txt.tmp-new-5", ".good.tar.gz.tmp-new-6", ".matrix.lock.tmp-new-7", ".manifest.json.tmp-was-8",
		"logs/.good.tar.gz.log.tmp-new-9", "logs/.README.txt.log.tmp-new-10", "logs/.manifest.json.log.tmp-was-11"}
	for _, name := range planted {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{".good.tar.gz.tmp-was-12", "logs/.good.tar.gz.log.tmp-was-13"} {
		if err := os.Symlink(outside, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
		planted = append(planted, name)
	}
	before := map[string][]byte{}
	for _, name := range []string{"manifest.json", "SHA256SUMS", "README.txt", "good.tar.gz", "logs/good.tar.gz.log", filename.Claim} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		before[name] = data
	}

	var progress bytes.Buffer
	opts.Progress = &progress
	if _, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cells("other.tar.gz"), opts); err != nil {
		t.Fatal(err)
	}
	for name, data := range before {
		now, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if name != "manifest.json" && name != "SHA256SUMS" && !bytes.Equal(now, data) {
			t.Errorf("%s changed: %q, was %q", name, now, data)
		}
	}
	for _, name := range planted {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s is left", name)
		}
	}
	if data, err := os.ReadFile(outside); err != nil || string(data) != "outside" {
		t.Errorf("the file outside: %q, %v", data, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "logs/good.tar.gz.log.failed")); err == nil {
		t.Error("the log of good.tar.gz was taken back")
	}
	for _, s := range []string{"removed manifest.json", "removed SHA256SUMS", "removed logs", "removed README.txt", "removed good.tar.gz", "put back", "taken back"} {
		if strings.Contains(progress.String(), s) {
			t.Errorf("progress says %q:\n%s", s, progress.String())
		}
	}
	if !strings.Contains(progress.String(), fmt.Sprintf("removed %d partial file(s)", len(planted))) {
		t.Errorf("progress does not say it removed the planted files:\n%s", progress.String())
	}
	rep, err := manifest.Verify(context.Background(), dir)
	if err != nil || len(rep.Problems) > 0 || rep.Checked != 2 {
		t.Errorf("verify: %+v, %v", rep, err)
	}
	assertClean(t, dir)
	assertClean(t, filepath.Join(dir, "logs"))
}

// TestRunSaysWhyItDropsRecordsOfNamesItCannotHold: a previous manifest that lists a
// name the artifact name rule refuses (controls, a bidi override, a path) loses that
// record, and the run says why, the name escaped; the manifest's run id is escaped
// too.
func TestRunSaysWhyItDropsRecordsOfNamesItCannotHold(t *testing.T) {
	opts := options(t)
	hostile := []string{"\x1b]0;PWNED\x07x.tar.gz", "\u202eevil.tar.gz", "new\nline.tar.gz", "../up.tar.gz"}
	m := &manifest.Manifest{RunID: "r\x1b[2J"}
	for _, name := range hostile {
		m.Artifacts = append(m.Artifacts, manifest.Artifact{File: name, SHA256: strings.Repeat("a", 64), Size: 1, RunID: "r\x1b[2J"})
	}
	if err := manifest.Write(opts.OutDir, m); err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	opts.Progress = &progress
	if _, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cells("a.tar.gz"), opts); err != nil {
		t.Fatal(err)
	}
	out := progress.String()
	for _, want := range []string{`"\x1b]0;PWNED\ax.tar.gz" is not a plain file name`, `"\u202eevil.tar.gz" is not a plain file name`,
		`"new\nline.tar.gz" is not a plain file name`, `"../up.tar.gz" is not a plain file name`, `built by run r\x1b[2J`} {
		if !strings.Contains(out, want) {
			t.Errorf("progress lacks %q:\n%s", want, out)
		}
	}
	if strings.ContainsAny(out, "\x1b\x07\u202e") {
		t.Errorf("raw controls in progress: %q", out)
	}
	got, err := manifest.Read(opts.OutDir)
	if err != nil || len(got.Artifacts) != 1 {
		t.Errorf("manifest: %+v, %v", got, err)
	}
}
