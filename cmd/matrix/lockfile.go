package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/lock"
	"github.com/matrixbuild/matrix/plan"
	"github.com/matrixbuild/matrix/registry"
	"github.com/matrixbuild/matrix/runner"
)

// lockFile is matrix.lock.json next to the matrix file, as the command read it. Every
// write of a command goes through save, so that the calls it pins and the cells it
// records land in one file without undoing each other.
type lockFile struct {
	path   string
	file   *lock.File
	exists bool
}

// readLock reads the lock file of a matrix file (lock.PathFor, or the --lock-file
// given, when not ""); a missing one is empty.
func readLock(specPath, given string) (*lockFile, error) {
	path := lock.PathFor(specPath)
	if given != "" {
		path = given
	}
	f, err := lock.Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &lockFile{path: path, file: f}, nil
	}
	if err != nil {
		return nil, err
	}
	return &lockFile{path: path, file: f, exists: true}, nil
}

func (l *lockFile) save() error {
	if err := l.file.Write(l.path); err != nil {
		return err
	}
	l.exists = true
	return nil
}

// pin records calls the registry answered for the first time, and says so.
func (l *lockFile) pin(rs []lock.Resolution, stderr io.Writer) error {
	if len(rs) == 0 {
		return nil
	}
	l.file.AddResolved(rs)
	if err := l.save(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "matrix: %s: resolved %s:%s\n", l.path, plural(len(rs), "new registry call"), callList(rs))
	return nil
}

// callList is one indented line per call.
func callList(rs []lock.Resolution) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString("\n  ")
		b.WriteString(r.Call)
	}
	return b.String()
}

// lazyRegistry is the npm registry of a matrix file's directory, configured on first
// use: a command whose calls are all pinned reads no npm configuration and makes no
// request, and a broken .npmrc is an error only where the registry is needed.
type lazyRegistry struct {
	dir    string
	once   sync.Once
	client *registry.Client
	err    error
}

func newRegistry(specPath string) *lazyRegistry {
	return &lazyRegistry{dir: filepath.Dir(specPath)}
}

// Packument is registry.Client.Packument: full asks for the full document.
func (l *lazyRegistry) Packument(ctx context.Context, name string, full bool) (*registry.Packument, error) {
	l.once.Do(func() {
		cfg, err := registry.LoadConfig(l.dir)
		if err == nil {
			l.client, err = registry.NewClient(cfg, registry.ClientOptions{})
		}
		l.err = err
	})
	if l.err != nil {
		return nil, l.err
	}
	return l.client.Packument(ctx, name, full)
}

// lockedFiles checks, for --locked, every cell's lock entry before anything is built,
// and lists all cells that cannot be built locked. Skipped cells need none.
func lockedFiles(l *lockFile, cells []plan.Cell, locked bool) (map[string]executor.Files, error) {
	if !locked {
		return nil, nil
	}
	if !l.exists {
		return nil, fmt.Errorf("--locked: %s does not exist; record it with `matrix lock` or a run without --locked", l.path)
	}
	out := map[string]executor.Files{}
	var problems []error
	for _, c := range cells {
		if c.Skip != "" {
			continue
		}
		// Exactly the cell's lock_files: an entry holding anything else is refused.
		files, err := l.file.Inputs(c)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		out[c.Artifact] = files
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("--locked: %s cannot be used:\n%w", l.path, errors.Join(problems...))
	}
	return out, nil
}

// recordLocks writes the lock files of the cells that succeeded into the lock file,
// keeping the entries of other cells, and returns how many it recorded. A cell whose files cannot be recorded keeps its earlier entry, and the error says so
// after the others are written. Entries of cells the plan no longer has are dropped
// (lock.File.Prune; whole: no target was named), and stderr says which.
func recordLocks(l *lockFile, cells []plan.Cell, results []runner.Result, whole bool, stderr io.Writer) (int, error) {
	n := 0
	var problems []error
	gone := l.file.Prune(cells, whole)
	if len(gone) > 0 {
		fmt.Fprintf(stderr, "matrix: %s: dropped the entries of %s the plan no longer builds: %s\n", l.path, plural(len(gone), "cell"), strings.Join(gone, ", "))
	}
	for _, r := range results {
		if r.Err != nil || r.Skipped() || len(r.LockFiles) == 0 {
			continue
		}
		if err := l.file.Record(r.Cell, r.Artifact.SHA256, r.LockFiles); err != nil {
			problems = append(problems, err)
			continue
		}
		n++
	}
	if n > 0 || len(gone) > 0 {
		if err := l.save(); err != nil {
			return 0, err
		}
	}
	return n, errors.Join(problems...)
}
