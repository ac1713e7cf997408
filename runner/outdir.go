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
// it, claims it for this run, removes what a killed run left and reads the records of
// earlier runs. release gives the directory up.
func (r *run) prepareOutDir() (release func(), err error) {
	dir := r.opts.OutDir
	if err := os.MkdirAll(filepath.Join(dir, logDir), 0o755); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	release, err = claimOutDir(dir)
	if err != nil {
		return nil, err
	}
	if removed := removePartialFiles(dir); len(removed) > 0 {
		fmt.Fprintf(r.progress, "removed %d partial file(s) left by an interrupted run: %s\n",
			len(removed), strings.Join(removed, ", "))
	}
	if r.previous, err = readPrevious(dir); err != nil {
		release()
		return nil, err
	}
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

// readPrevious returns the artifacts that the output directory's manifest records,
// by file name; none on a first run. A manifest that is there but cannot be read
// stops the run: going on would drop the records of the artifacts still on disk.
func readPrevious(dir string) (map[string]manifest.Artifact, error) {
	m, err := manifest.Read(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w; nothing was built: move it away (or remove it) to start the records over", err)
	}
	previous := make(map[string]manifest.Artifact, len(m.Artifacts))
	for _, a := range m.Artifacts {
		previous[a.File] = a
	}
	return previous, nil
}
