// Package merge joins the output directories of several shards of one matrix (runs of
// parts of its plan, in separate processes or on separate machines) into one output
// directory, as if one run had built them all: the artifacts, each re-hashed against
// its shard's manifest while it is copied, their logs, one manifest.json and one
// SHA256SUMS, and the shards' lock entries joined into the matrix file's lock.
//
// The shard directories are hostile: only what a shard's records list is taken, each
// file opened only as a regular file (never through a link) and read no further than
// its recorded size (a log no further than a log's bound). The merged directory is
// built under a hidden temporary name beside OUT and renamed to OUT as one step, so a
// merge that fails writes nothing.
package merge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/internal/filename"
	"github.com/matrixbuild/matrix/lock"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/plan"
	"github.com/matrixbuild/matrix/provenance"
)

// maxLog bounds a log read from a shard: the runner's 64 MiB of a cell's output and
// its last lines (what it left out, why the cell failed).
const maxLog = 64<<20 + 64<<10

// logDir is the directory of the logs in an output directory.
const logDir = "logs"

// Options is what to merge and how.
type Options struct {
	// Out is the merged output directory: it must not exist, or be empty.
	Out string
	// Shards are the shard output directories, in the order given.
	Shards []string
	// Cells is the plan of the matrix file, the skipped cells included: every cell to
	// build must come from exactly one shard (bytes that two shards agree on count
	// once).
	Cells []plan.Cell
	// Spec is the matrix file: each shard's run must have read the same bytes.
	Spec manifest.SpecFile
	// Partial takes what the shards built and records the rest as failed, instead of
	// failing the merge over missing cells.
	Partial bool
	// Lock is the matrix file's lock as read (nil: none), LockPath where the joined
	// lock is written, and LockName the name under which a shard directory carries
	// the lock file its run wrote (the base name of the matrix file's lock).
	Lock     *lock.File
	LockPath string
	LockName string
	// Variables are the values of the matrix file's variables that are not
	// sensitive, as JSON (spec.File.Variables): a shard whose statement records
	// others is refused. Nil: not checked.
	Variables map[string]json.RawMessage
	// ToolVersion and RunID are recorded in the merged manifest; Now is the clock.
	ToolVersion string
	RunID       string
	Now         func() time.Time
	// Finish, when not nil, is called with the staged output directory and its
	// manifest once everything else is in it, before it is renamed to Out: what it
	// writes there (a report) is part of the merge, and its error fails the merge.
	Finish func(ctx context.Context, dir string, m *manifest.Manifest) error
}

// Result is a merge that was written.
type Result struct {
	Manifest *manifest.Manifest
	// Missing are the planned cells (artifact names) that no shard built, in plan
	// order: only with Partial, otherwise the merge fails.
	Missing []string
	// Ignored are the artifacts that shards list but that no cell of the plan builds:
	// not taken ("DIR: NAME").
	Ignored []string
	// Duplicates counts artifacts that more than one shard built with the same bytes.
	Duplicates int
	// LockWritten says whether the joined lock changed the lock file.
	LockWritten bool
}

// shard is one shard directory as read.
type shard struct {
	dir  string
	root *os.Root
	m    *manifest.Manifest
	sha  string // of its manifest
	lock *lock.File
	// st is its statement, checked against its records, and stSHA its sha256; nil
	// for a shard that built nothing.
	st    *provenance.Statement
	stSHA string
}

// taken is an artifact that goes into the merged directory, and where from.
type taken struct {
	a    manifest.Artifact
	from *shard
}

// ConflictError is the same artifact built with different bytes by two shards.
type ConflictError struct {
	File       string
	Dir1, Dir2 string
	SHA1, SHA2 string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s: built with different bytes by two shards: %s has sha256 %s, %s has sha256 %s",
		e.File, e.Dir1, e.SHA1, e.Dir2, e.SHA2)
}

// MissingError lists the planned cells that no shard built.
type MissingError struct{ Cells []string }

func (e *MissingError) Error() string {
	return fmt.Sprintf("%d planned cell(s) built by no shard: %s (a shard missing or failed; --partial merges what is there)",
		len(e.Cells), list(e.Cells))
}

// Merge joins opts.Shards into opts.Out and, when the shards carry lock entries, the
// lock file at opts.LockPath. Everything is checked before anything is written; an
// error leaves Out and the lock file as they were.
func Merge(ctx context.Context, opts Options) (*Result, error) {
	if len(opts.Shards) == 0 {
		return nil, errors.New("no shard directory to merge")
	}
	if err := checkOut(opts.Out); err != nil {
		return nil, err
	}
	started := opts.Now().UTC()
	shards := make([]*shard, 0, len(opts.Shards))
	defer func() {
		for _, s := range shards {
			s.root.Close()
		}
	}()
	for _, dir := range opts.Shards {
		s, err := readShard(dir, opts)
		if err != nil {
			return nil, err
		}
		shards = append(shards, s)
	}
	if err := sameEpoch(shards); err != nil {
		return nil, err
	}

	planned := map[string]plan.Cell{}
	for _, c := range opts.Cells {
		if c.Skip == "" {
			planned[c.Artifact] = c
		}
	}
	res := &Result{}
	byName := map[string]*taken{}
	var order []string
	var again []taken // identical bytes from a later shard: hashed, not copied
	for _, s := range shards {
		for _, a := range s.m.Artifacts {
			if why := filename.Why(a.File); why != "" {
				return nil, fmt.Errorf("%s: %s lists %q, not a plain file name: %s", s.dir, manifest.FileName, a.File, why)
			}
			if _, ok := planned[a.File]; !ok {
				res.Ignored = append(res.Ignored, s.dir+": "+a.File)
				continue
			}
			if prev, ok := byName[a.File]; ok {
				if prev.a.SHA256 != a.SHA256 || prev.a.Size != a.Size {
					return nil, &ConflictError{File: a.File, Dir1: prev.from.dir, SHA1: prev.a.SHA256, Dir2: s.dir, SHA2: a.SHA256}
				}
				again = append(again, taken{a, s})
				res.Duplicates++
				continue
			}
			byName[a.File] = &taken{a, s}
			order = append(order, a.File)
		}
	}
	for _, c := range opts.Cells {
		if _, ok := byName[c.Artifact]; c.Skip == "" && !ok {
			res.Missing = append(res.Missing, c.Artifact)
		}
	}
	if len(res.Missing) > 0 && !opts.Partial {
		return nil, &MissingError{Cells: res.Missing}
	}
	builders := map[string][]*shard{} // by artifact: the shards that built it, in order
	for _, name := range order {
		builders[name] = []*shard{byName[name].from}
	}
	for _, t := range again {
		builders[t.a.File] = append(builders[t.a.File], t.from)
	}
	joined, lockChanged, err := joinLocks(opts, shards, builders)
	if err != nil {
		return nil, err
	}

	// Every artifact that a second shard also built is checked against that shard's
	// record too: a shard whose file was changed is refused even when another is good.
	for _, t := range again {
		if err := check(ctx, t.from, t.a); err != nil {
			return nil, err
		}
	}
	m := &manifest.Manifest{
		Tool:        "matrix",
		ToolVersion: opts.ToolVersion,
		RunID:       opts.RunID,
		Spec:        opts.Spec,
		Started:     started,
		SourceEpoch: shards[0].m.SourceEpoch,
		Artifacts:   []manifest.Artifact{},
		Failed:      []manifest.Failure{},
		Skipped:     skipped(opts.Cells),
	}
	counts := map[*shard]int{}
	for _, name := range order {
		t := byName[name]
		m.Artifacts = append(m.Artifacts, t.a)
		counts[t.from]++
	}
	for _, s := range shards {
		m.SkipTests = m.SkipTests || s.m.SkipTests
		m.AllowDrift = m.AllowDrift || s.m.AllowDrift
		m.Shards = append(m.Shards, manifest.Shard{Dir: s.dir, RunID: s.m.RunID, ManifestSHA256: s.sha,
			Started: s.m.Started, Finished: s.m.Finished, Artifacts: counts[s]})
	}
	m.Failed = failures(shards, res.Missing)

	statements := make([]provenance.ShardStatement, 0, len(shards))
	for _, s := range shards {
		if s.st == nil {
			continue
		}
		ss := provenance.ShardStatement{Dir: s.dir, Statement: s.st, SHA256: s.stSHA}
		for _, name := range order {
			if byName[name].from == s {
				ss.Taken = append(ss.Taken, name)
			}
		}
		statements = append(statements, ss)
	}
	staged, err := stage(ctx, opts, m, byName, order, statements)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(staged) // nothing left of it once renamed
	var lockFile *atomicfile.File
	if lockChanged {
		data, err := joined.Marshal()
		if err != nil {
			return nil, fmt.Errorf("encoding %s: %w", opts.LockPath, err)
		}
		dir, name := filepath.Split(opts.LockPath)
		if lockFile, err = atomicfile.Create(dir, name); err != nil {
			return nil, err
		}
		defer lockFile.Abort()
		if _, err := lockFile.Write(data); err != nil {
			return nil, fmt.Errorf("writing %s: %w", opts.LockPath, err)
		}
		if err := lockFile.Finish(); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := place(staged, opts.Out); err != nil {
		return nil, err
	}
	if lockFile != nil {
		if err := lockFile.Commit(); err != nil {
			return nil, fmt.Errorf("%s is merged, but the joined lock entries are not: %w", opts.Out, err)
		}
		res.LockWritten = true
	}
	res.Manifest = m
	return res, nil
}

// checkOut refuses an Out that holds anything: a merge writes a new directory.
func checkOut(out string) error {
	info, err := os.Lstat(out)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return &fs.PathError{Op: "merge into", Path: out, Err: errors.New("not a directory but " + atomicfile.Kind(info.Mode()))}
	}
	d, err := os.Open(out)
	if err != nil {
		return err
	}
	names, err := d.Readdirnames(1)
	d.Close()
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if len(names) > 0 {
		return &fs.PathError{Op: "merge into", Path: out, Err: errors.New("not empty: matrix merge writes a new output directory")}
	}
	return nil
}

// check re-hashes a shard's artifact against its record, copying nothing.
func check(ctx context.Context, s *shard, a manifest.Artifact) error {
	if err := manifest.CheckFile(ctx, s.root, a); err != nil {
		return fmt.Errorf("shard %s: %s does not match its record: %w", s.dir, a.File, err)
	}
	return nil
}

// list is names joined, at most 20, then how many more.
func list(names []string) string {
	const most = 20
	shown := names[:min(len(names), most)]
	out := strings.Join(shown, ", ")
	if n := len(names) - len(shown); n > 0 {
		out += fmt.Sprintf(" and %d more", n)
	}
	return out
}
