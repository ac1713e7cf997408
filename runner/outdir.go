package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/manifest"
)

// claimName is the file whose flock claims an output directory for one run.
const claimName = ".matrix.lock"

// prepareOutDir gets the output directory ready before anything is built: it creates
// it, claims it for this run, checks that its manifest is still the one recs were
// read from and removes what a killed run left. release gives the directory up.
func (r *run) prepareOutDir(recs *Records) (release func(), err error) {
	dir := r.opts.OutDir
	if err := os.MkdirAll(filepath.Join(dir, logDir), 0o755); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	release, err = claimOutDir(dir)
	if err != nil {
		return nil, err
	}
	if err := recs.unchanged(); err != nil {
		release()
		return nil, err
	}
	if removed := removePartialFiles(dir); len(removed) > 0 {
		fmt.Fprintf(r.progress, "removed %d partial file(s) left by an interrupted run: %s\n",
			len(removed), strings.Join(removed, ", "))
	}
	r.previous = recs.artifacts
	return release, nil
}

// claimOutDir takes an exclusive flock on the output directory, so that two runs
// never write into it at once. The kernel drops a flock when its process dies, so a
// claim left by a killed run never blocks the next one.
func claimOutDir(dir string) (release func(), err error) {
	path := filepath.Join(dir, claimName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking the output directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := "another matrix run"
			if pid := strings.TrimSpace(string(holder)); pid != "" {
				who += " (pid " + pid + ")"
			}
			return nil, fmt.Errorf("%s is writing to %s; wait for it or use another --out", who, dir)
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

// removePartialFiles deletes the temporary files of a run that was killed before it
// could clean up (artifacts being packed or tested, logs being written, spools); only
// called while the directory is claimed.
func removePartialFiles(dir string) []string {
	var removed []string
	for _, sub := range []string{"", logDir} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			continue
		}
		for _, e := range entries {
			name := e.Name()
			if !e.Type().IsRegular() || !strings.HasPrefix(name, ".") {
				continue
			}
			if atomicfile.IsTemp(name) {
				if os.Remove(filepath.Join(dir, sub, name)) == nil {
					removed = append(removed, path.Join(sub, name))
				}
			}
		}
	}
	return removed
}

// Records are what an output directory's manifest.json recorded when a run read it:
// the artifacts of earlier runs, by file name. The command reads them before it
// connects to an engine or writes anything, so that a manifest it cannot read stops
// the run with the directory as it was; Run uses them as read, once.
type Records struct {
	dir       string
	artifacts map[string]manifest.Artifact
	manifest  fs.FileInfo // the manifest.json read; nil when there was none
}

// ReadRecords reads the manifest in dir, if there is one (none on a first run), and
// changes nothing. A manifest that is there but cannot be read is an error: going on
// would drop the records of the artifacts still on disk.
func ReadRecords(dir string) (*Records, error) {
	// Stat before reading: a manifest replaced after this never passes for the one read.
	info, _ := os.Stat(filepath.Join(dir, manifest.FileName))
	recs := &Records{dir: dir, manifest: info}
	m, err := manifest.Read(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return recs, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w; nothing was built: move it away (or remove it) to start the records over", err)
	}
	recs.artifacts = make(map[string]manifest.Artifact, len(m.Artifacts))
	for _, a := range m.Artifacts {
		recs.artifacts[a.File] = a
	}
	return recs, nil
}

// unchanged returns an error when the directory's manifest is no longer the one the
// records were read from: another run wrote it after they were read and before this
// run claimed the directory, and this run's manifest would forget what it recorded.
func (recs *Records) unchanged() error {
	path := filepath.Join(recs.dir, manifest.FileName)
	now, err := os.Stat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("checking %s: %w", path, err)
	}
	was := recs.manifest
	same := was == nil && now == nil ||
		was != nil && now != nil && os.SameFile(was, now) && was.Size() == now.Size() && was.ModTime().Equal(now.ModTime())
	if !same {
		return fmt.Errorf("%s changed after this run read it (another run wrote it meanwhile); nothing was built: run again", path)
	}
	return nil
}
