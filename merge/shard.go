package merge

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/lock"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/plan"
	"github.com/matrixbuild/matrix/provenance"
)

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
