package runner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/internal/filename"
	"github.com/matrixbuild/matrix/internal/terminal"
	"github.com/matrixbuild/matrix/manifest"
)

// claimName is the file whose flock claims an output directory for one run.
const claimName = filename.Claim

// prepareOutDir gets the output directory ready before anything is built: it creates
// it, claims it for this run, makes sure that logs/ is a directory of its own, checks
// that its record is still the one recs were read from, completes a record that an
// interrupted run left pending, settles or undoes the artifacts it put in place
// (finishReplacements), and removes what a killed run left. release gives the
// directory up.
//
// Everything in the directory is opened without following links and only when it is
// what the run expects (atomicfile.OpenRegular): the directory may come from a cache
// or another user, and a link planted in it must not make the run write elsewhere.
func (r *run) prepareOutDir(ctx context.Context, recs *Records) (release func(), err error) {
	dir := r.opts.OutDir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	unclaim, err := claimOutDir(root)
	if err != nil {
		root.Close()
		return nil, err
	}
	release = func() {
		unclaim()
		root.Close()
	}
	logs, err := openLogDir(root)
	if err != nil {
		release()
		return nil, err
	}
	release = func() {
		logs.Close()
		unclaim()
		root.Close()
	}
	if err := recs.unchanged(); err != nil {
		release()
		return nil, err
	}
	if recs.rec.Pending != "" {
		if err := recs.rec.Complete(); err != nil {
			release()
			return nil, fmt.Errorf("completing the records of an interrupted run: %w", err)
		}
		fmt.Fprintf(r.progress, "matrix: completed the records of run %s, which stopped between writing %s and %s\n",
			terminal.Escape(recs.rec.Manifest.RunID), manifest.SumsName, manifest.FileName)
	}
	r.out, r.logs = root, logs
	if err := r.finishReplacements(ctx, recs.rec); err != nil {
		release()
		return nil, fmt.Errorf("finishing the artifacts an interrupted run put in place but did not record: %w", err)
	}
	if removed := removePartialFiles(root, logs); len(removed) > 0 {
		fmt.Fprintf(r.progress, "removed %d partial file(s) left by an interrupted run: %s\n",
			len(removed), strings.Join(removed, ", "))
	}
	r.previous = recs.artifacts
	if recs.rec.Manifest != nil {
		r.previousFailed = recs.rec.Manifest.Failed
	}
	return release, nil
}

// claimOutDir takes an exclusive flock on the output directory's claim file, so that
// two runs never write into it at once. The kernel drops a flock when its process
// dies, so a claim left by a killed run never blocks the next one. The claim file is
// written in place (the pid), so it must be a regular file of its own: a link, or a
// hard link to a file elsewhere, would carry the write there.
func claimOutDir(root *os.Root) (release func(), err error) {
	path := filepath.Join(root.Name(), claimName)
	f, err := atomicfile.OpenRegular(root, claimName, os.O_RDWR|os.O_CREATE)
	if err != nil {
		return nil, fmt.Errorf("claiming the output directory: %w; matrix keeps its claim in a regular file of its own there: move it away", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := make([]byte, 32)
		n, _ := f.ReadAt(holder, 0)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := "another matrix run"
			if pid, err := strconv.Atoi(strings.TrimSpace(string(holder[:n]))); err == nil {
				who += " (pid " + strconv.Itoa(pid) + ")"
			}
			return nil, fmt.Errorf("%s is writing to %s; wait for it or use another --out", who, root.Name())
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	// The pid only makes the refusal of a second run more helpful.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() {
		f.Truncate(0)
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// openLogDir makes OUT/logs, or makes sure that it is a directory, and opens it once
// for the whole run (atomicfile.OpenDir): a link there, planted before the run or
// swapped in while it runs, would send the logs, and the cells' output in them,
// wherever it points.
func openLogDir(root *os.Root) (*os.Root, error) {
	if err := root.Mkdir(logDir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	logs, err := atomicfile.OpenDir(root, logDir)
	var pe *fs.PathError
	switch {
	case errors.Is(err, atomicfile.ErrNotDir) && errors.As(err, &pe):
		return nil, fmt.Errorf("%s is %v; matrix writes the logs into a directory of its own there: move it away", pe.Path, pe.Err)
	case err != nil:
		return nil, fmt.Errorf("output directory: %w", err)
	}
	return logs, nil
}

// removePartialFiles deletes the temporary files of a run that was killed before it
// could clean up (artifacts being packed or tested, logs being written, spools,
// records being written); only called while the directory is claimed, after a
// pending record was completed and finishReplacements settled or undid every undo
// entry a run can have made. What is left under a temporary's name, an undo entry's
// included, is a regular file or a link (removed, never followed) that undoes
// nothing: a planted .manifest.json.tmp-new-1 goes, and manifest.json stays. A
// directory or any other kind of entry under such a name is left alone. The names
// are returned escaped for the terminal.
func removePartialFiles(root, logs *os.Root) []string {
	var removed []string
	for sub, dir := range map[string]*os.Root{".": root, logDir: logs} {
		d, err := dir.Open(".")
		if err != nil {
			continue
		}
		entries, err := d.ReadDir(-1)
		d.Close()
		if err != nil {
			continue
		}
		for _, e := range entries {
			kind := e.Type()
			if (kind.IsRegular() || kind&fs.ModeSymlink != 0) && atomicfile.IsTemp(e.Name()) && dir.Remove(e.Name()) == nil {
				removed = append(removed, terminal.Escape(path.Join(sub, e.Name())))
			}
		}
	}
	slices.Sort(removed)
	return removed
}

// Records are what an output directory's record (manifest.json and SHA256SUMS, see
// manifest.ReadRecord) held when a run read it: the artifacts of earlier runs, by
// file name. The command reads them before it connects to an engine or writes
// anything, so that a manifest it cannot read stops the run with the directory as it
// was; Run uses them as read, once.
type Records struct {
	dir       string
	rec       *manifest.Record
	artifacts map[string]manifest.Artifact
}

// ReadRecords reads the record in dir, if there is one (none on a first run), and
// changes nothing. A manifest that is there but cannot be read is an error: going on
// would drop the records of the artifacts still on disk.
func ReadRecords(dir string) (*Records, error) {
	rec, err := manifest.ReadRecord(dir)
	if err != nil {
		return nil, fmt.Errorf("%w; nothing was built: move it away (or remove it) to start the records over", err)
	}
	recs := &Records{dir: dir, rec: rec}
	if rec.Manifest != nil {
		recs.artifacts = make(map[string]manifest.Artifact, len(rec.Manifest.Artifacts))
		for _, a := range rec.Manifest.Artifacts {
			recs.artifacts[a.File] = a
		}
	}
	return recs, nil
}

// unchanged returns an error when the directory's record is no longer the one the
// records were read from: another run wrote it after they were read and before this
// run claimed the directory, and this run's manifest would forget what it recorded.
func (recs *Records) unchanged() error {
	path := filepath.Join(recs.dir, manifest.FileName)
	now, err := manifest.ReadRecord(recs.dir)
	if err != nil {
		return fmt.Errorf("checking %s: %w", path, err)
	}
	if !recs.rec.Same(now) {
		return fmt.Errorf("%s changed after this run read it (another run wrote it meanwhile); nothing was built: run again", path)
	}
	return nil
}
