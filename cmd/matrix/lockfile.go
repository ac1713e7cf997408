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
	"github.com/matrixbuild/matrix/internal/terminal"
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

// maxListed is the most names a message lists; the rest are counted (a lock file of
// 170,000 stale entries made a 2 MB line).
const maxListed = 20

// nameList joins names, each escaped for the terminal, at most maxListed of them,
// then "and N more".
func nameList(names []string) string {
	shown := make([]string, 0, min(len(names), maxListed))
	for _, n := range names[:min(len(names), maxListed)] {
		shown = append(shown, terminal.Escape(n))
	}
	list := strings.Join(shown, ", ")
	if rest := len(names) - len(shown); rest > 0 {
		list += fmt.Sprintf(" and %d more", rest)
	}
	return list
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

// lockUse is how a command uses the cells' lock entries, as Cargo uses Cargo.lock.
type lockUse int

const (
	// lockPrefer installs a cell from its entry when the entry is current, and
	// resolves (and records) the others: a plain run, `matrix lock`.
	lockPrefer lockUse = iota
	// lockStrict installs every cell from its entry and fails before building when one
	// is missing or stale: --locked, which never writes the lock.
	lockStrict
	// lockIgnore resolves every cell anew: `matrix lock --upgrade`.
	lockIgnore
)

// lockedFiles returns, per artifact, the files to install a cell from (its entry's
// lock_files), checking every cell before anything is built. An entry holding what no
// build records (an edited lock) is refused in every use but lockIgnore; under
// lockStrict a missing or stale one too, listing all such cells. Skipped cells and
// cells without lock_files need none. The second result counts the cells that will
// resolve anew because their entry is missing or stale.
func lockedFiles(l *lockFile, cells []plan.Cell, use lockUse) (map[string]executor.Files, int, error) {
	if use == lockIgnore {
		return nil, 0, nil
	}
	if use == lockStrict && !l.exists {
		return nil, 0, fmt.Errorf("--locked: %s does not exist; record it with `matrix lock` or a run without --locked", l.path)
	}
	out := map[string]executor.Files{}
	var problems []error
	resolving := 0
	for _, c := range cells {
		if c.Skip != "" || len(c.LockFiles) == 0 {
			continue
		}
		// Exactly the cell's lock_files: an entry holding anything else is refused.
		files, err := l.file.Inputs(c)
		switch {
		case err == nil:
			out[c.Artifact] = files
		case use == lockPrefer && !errors.Is(err, lock.ErrUnsafe):
			resolving++
		default:
			problems = append(problems, err)
		}
	}
	if len(problems) > 0 {
		what := "--locked"
		if use == lockPrefer {
			what = "installing from the lock file"
		}
		return nil, 0, fmt.Errorf("%s: %s cannot be used:\n%w", what, l.path, errors.Join(problems...))
	}
	return out, resolving, nil
}

// lockedSHA256 returns, per artifact installed from its lock entry (locked), the
// sha256 that the entry records for the artifact (artifact_sha256), when it records
// one: the run proves the rebuilt artifact against it.
func lockedSHA256(l *lockFile, locked map[string]executor.Files) map[string]string {
	out := map[string]string{}
	for name := range locked {
		if e := l.file.Cells[name]; e != nil && e.ArtifactSHA256 != "" {
			out[name] = e.ArtifactSHA256
		}
	}
	return out
}

// recordLocks writes the lock files of the cells that succeeded and were not
// installed from the lock into the lock file, keeping the entries of other cells, and
// returns how many it recorded. A cell whose files cannot be recorded keeps its earlier entry, and the error says so
// after the others are written. Entries of cells the plan no longer has are dropped
// (lock.File.Prune; whole: no target was named), and stderr says which.
func recordLocks(l *lockFile, cells []plan.Cell, results []runner.Result, installed map[string]executor.Files, whole bool, stderr io.Writer) (int, error) {
	n := 0
	var problems []error
	gone := l.file.Prune(cells, whole)
	if len(gone) > 0 {
		// The keys are the lock file's, so hostile: escaped, and bounded in number.
		fmt.Fprintf(stderr, "matrix: %s: dropped the entries of %s the plan no longer builds: %s\n", l.path, plural(len(gone), "cell"), nameList(gone))
	}
	for _, r := range results {
		// A cell installed from its entry leaves the entry as it is, as cargo build
		// leaves Cargo.lock.
		if r.Err != nil || r.Skipped() || len(r.LockFiles) == 0 || installed[r.Cell.Artifact] != nil {
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
