package runner

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/pack"
)

const lockName = ".matrix.lock"

// lockDir takes an exclusive lock on the output directory, so that two runs never
// write into it at once. The kernel drops a flock when its process dies, so a lock
// left by a killed run never blocks the next one.
func lockDir(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, lockName)
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
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() {
		f.Truncate(0)
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// removeLeftovers deletes the temporary files of a run that was killed before it could
// clean up (artifacts being packed or tested, logs being written, spools); only called under
// the lock.
func removeLeftovers(dir string) []string {
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
			if atomicfile.IsTemp(name) || pack.IsSpool(name) {
				if os.Remove(filepath.Join(dir, sub, name)) == nil {
					removed = append(removed, path.Join(sub, name))
				}
			}
		}
	}
	return removed
}
