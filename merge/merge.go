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
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
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

// readShard reads a shard directory's records and its lock file, if it carries one.
func readShard(dir string, opts Options) (*shard, error) {
	rec, err := manifest.ReadRecord(dir)
	if err != nil {
		return nil, fmt.Errorf("shard %s: %w", dir, err)
	}
	if rec.Manifest == nil {
		return nil, fmt.Errorf("shard %s: no %s: not the output directory of a run", dir, manifest.FileName)
	}
	if rec.SumsErr != nil {
		return nil, fmt.Errorf("shard %s: %w", dir, rec.SumsErr)
	}
	m := rec.Manifest
	if m.Spec.SHA256 != opts.Spec.SHA256 {
		return nil, fmt.Errorf("shard %s: its run read a matrix file of sha256 %s, not %s (%s): shards must run the same file",
			dir, m.Spec.SHA256, opts.Spec.SHA256, opts.Spec.Path)
	}
	sums, err := manifest.ReadSums(bytes.NewReader(rec.Sums))
	if err != nil {
		return nil, fmt.Errorf("shard %s: %s: %w", dir, manifest.SumsName, err)
	}
	for _, a := range m.Artifacts {
		if sums[a.File] != a.SHA256 {
			return nil, fmt.Errorf("shard %s: %s: %s and %s disagree", dir, a.File, manifest.SumsName, manifest.FileName)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("shard %s: %w", dir, err)
	}
	if err := sameVariables(root, dir, rec, opts); err != nil {
		root.Close()
		return nil, err
	}
	s := &shard{dir: dir, root: root, m: m}
	name := manifest.FileName
	if rec.Pending != "" {
		name = rec.Pending
	}
	data, err := atomicfile.ReadRegular(root, name, manifest.MaxSize)
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("shard %s: %w", dir, err)
	}
	sum := sha256.Sum256(data)
	s.sha = hex.EncodeToString(sum[:])
	if s.st, s.stSHA, err = readStatement(root, dir, rec); err != nil {
		root.Close()
		return nil, err
	}
	if opts.LockName != "" {
		data, err := atomicfile.ReadRegular(root, opts.LockName, lock.MaxSize)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			root.Close()
			return nil, fmt.Errorf("shard %s: %w", dir, err)
		default:
			if s.lock, err = lock.Parse(filepath.Join(dir, opts.LockName), data); err != nil {
				root.Close()
				return nil, fmt.Errorf("shard %s: %w", dir, err)
			}
		}
	}
	return s, nil
}

// readStatement reads the statement of a shard that built something, and checks it
// against the shard's records: the sha256 its manifest records, its subjects against
// the lines of its SHA256SUMS (which list what its manifest lists). A shard that
// built something and records no statement is refused: the merged statement is made
// of the shards' (README.md, "Running on many machines").
func readStatement(root *os.Root, dir string, rec *manifest.Record) (*provenance.Statement, string, error) {
	m := rec.Manifest
	if len(m.Artifacts) == 0 {
		return nil, "", nil
	}
	if m.ProvenanceSHA256 == "" {
		return nil, "", fmt.Errorf("shard %s: its %s records no %s (a run of an older matrix?): the merged statement is made of the shards' statements",
			dir, manifest.FileName, provenance.FileName)
	}
	name := provenance.FileName
	if rec.PendingProvenance != "" {
		name = rec.PendingProvenance
	}
	data, err := atomicfile.ReadRegular(root, name, manifest.MaxSize)
	if err != nil {
		return nil, "", fmt.Errorf("shard %s: %s: %w", dir, provenance.FileName, err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != m.ProvenanceSHA256 {
		return nil, "", fmt.Errorf("shard %s: %s: sha256 %s, its %s records %s (it was changed)",
			dir, provenance.FileName, got, manifest.FileName, m.ProvenanceSHA256)
	}
	st, err := provenance.Parse(data)
	if err == nil {
		err = provenance.CheckSubjects(st, rec.Sums)
	}
	if err != nil {
		return nil, "", fmt.Errorf("shard %s: %s: %w", dir, provenance.FileName, err)
	}
	return st, m.ProvenanceSHA256, nil
}

// sameEpoch refuses shards built with different SOURCE_DATE_EPOCHs: their
// artifacts would not be those of one run.
func sameEpoch(shards []*shard) error {
	for _, s := range shards[1:] {
		if s.m.SourceEpoch != shards[0].m.SourceEpoch {
			return fmt.Errorf("shards %s and %s were built with different SOURCE_DATE_EPOCHs (%d, %d)",
				shards[0].dir, s.dir, shards[0].m.SourceEpoch, s.m.SourceEpoch)
		}
	}
	return nil
}

// skipped records the plan's skipped cells, as a run does.
func skipped(cells []plan.Cell) []manifest.Skipped {
	out := []manifest.Skipped{}
	for _, c := range cells {
		if c.Skip == "" {
			continue
		}
		axes := make([]manifest.Axis, len(c.Axes))
		for i, a := range c.Axes {
			axes[i] = manifest.Axis{Name: a.Name, Value: a.Value}
		}
		out = append(out, manifest.Skipped{Cell: c.Name(), Target: c.Target, Axes: axes, Reason: c.Skip})
	}
	return out
}

// failures are the shards' failed cells among the missing ones (a partial merge):
// the first shard's record of each, its log dropped (it is not copied).
func failures(shards []*shard, missing []string) []manifest.Failure {
	want := map[string]bool{}
	for _, name := range missing {
		want[name] = true
	}
	out := []manifest.Failure{}
	for _, s := range shards {
		for _, f := range s.m.Failed {
			if want[f.Artifact] {
				f.Log = ""
				f.Error = s.dir + ": " + f.Error
				out = append(out, f)
				delete(want, f.Artifact)
			}
		}
	}
	for _, name := range missing {
		if want[name] {
			out = append(out, manifest.Failure{Artifact: name, Target: "", Error: "built by no shard"})
		}
	}
	return out
}

// joinLocks returns the matrix file's lock with, for each taken artifact, the entry
// of the first shard that built it and carries one, and every shard's pinned registry
// calls; and whether that changes the lock file. Two shards that pinned a call with
// different answers are a conflict.
func joinLocks(opts Options, shards []*shard, builders map[string][]*shard) (*lock.File, bool, error) {
	base := opts.Lock
	if base == nil {
		base = &lock.File{Version: lock.Version, Cells: map[string]*lock.Entry{}}
	}
	before, err := base.Marshal()
	if err != nil {
		return nil, false, err
	}
	joined := &lock.File{Version: base.Version, Resolved: base.Resolved, Cells: map[string]*lock.Entry{}}
	for name, e := range base.Cells {
		joined.Cells[name] = e
	}
	pinnedBy := map[string]*shard{}
	byCall := map[string]lock.Resolution{}
	for _, r := range base.Resolved {
		byCall[r.Call] = r
	}
	carried := false
	for _, s := range shards {
		if s.lock == nil {
			continue
		}
		carried = true
		var fresh []lock.Resolution
		for _, r := range s.lock.Resolved {
			if old, ok := byCall[r.Call]; ok {
				if !lock.SameAnswer(old, r) {
					where := opts.LockPath
					if p := pinnedBy[r.Call]; p != nil {
						where = p.dir
					}
					return nil, false, fmt.Errorf("%s: %s pins %s with another answer than %s", s.dir, opts.LockName, r.Call, where)
				}
				continue
			}
			byCall[r.Call] = r
			pinnedBy[r.Call] = s
			fresh = append(fresh, r)
		}
		joined.AddResolved(fresh)
	}
	if !carried {
		return nil, false, nil
	}
	planned := map[string]plan.Cell{}
	for _, c := range opts.Cells {
		planned[c.Artifact] = c
	}
	for name, from := range builders {
		for _, s := range from {
			if s.lock == nil || s.lock.Cells[name] == nil {
				continue
			}
			e := s.lock.Cells[name]
			c := planned[name]
			if e.Target != c.Target || e.Definition != lock.Definition(c) {
				return nil, false, fmt.Errorf("%s: %s: the lock entry of %s is not of the cell as the matrix file defines it (a shard of another version of the file?)",
					s.dir, opts.LockName, name)
			}
			joined.Cells[name] = e
			break
		}
	}
	joined.Prune(opts.Cells, true)
	after, err := joined.Marshal()
	if err != nil {
		return nil, false, err
	}
	return joined, !bytes.Equal(before, after), nil
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
