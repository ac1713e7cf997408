package merge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/matrixbuild/matrix/internal/ctxio"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/provenance"
)

// stage builds the merged directory under a hidden temporary name beside opts.Out
// (atomicfile.TempDir) and returns its path: every taken artifact copied and hashed
// against its shard's record on the way, its log, the records with the statement made
// of the shards' statements (one unit: manifest.WriteWithProvenance), then
// opts.Finish. An error removes it.
func stage(ctx context.Context, opts Options, m *manifest.Manifest, byName map[string]*taken, order []string,
	statements []provenance.ShardStatement) (_ string, err error) {
	parent, base := filepath.Split(filepath.Clean(opts.Out))
	if parent == "" {
		parent = "."
	}
	dir, err := atomicfile.TempDir(parent, base)
	if err != nil {
		return "", fmt.Errorf("merging into %s: %w", opts.Out, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return "", err
	}
	defer root.Close()
	if err := root.Mkdir(logDir, 0o755); err != nil {
		return "", err
	}
	logs, err := root.OpenRoot(logDir)
	if err != nil {
		return "", err
	}
	defer logs.Close()
	for _, name := range order {
		t := byName[name]
		if err := copyArtifact(ctx, t.from, root, t.a); err != nil {
			return "", err
		}
		if err := copyLog(t.from, logs, t.a); err != nil {
			return "", err
		}
	}
	if err := atomicfile.SyncDir(logs); err != nil {
		return "", err
	}
	m.Finished = opts.Now().UTC()
	prov, err := provenance.Merge(m, statements)
	if err != nil {
		return "", fmt.Errorf("making %s: %w", provenance.FileName, err)
	}
	if err := manifest.WriteWithProvenance(dir, m, prov); err != nil {
		return "", err
	}
	if opts.Finish != nil {
		if err := opts.Finish(ctx, dir, m); err != nil {
			return "", err
		}
	}
	if err := atomicfile.SyncDir(root); err != nil {
		return "", err
	}
	return dir, nil
}

// copyArtifact copies the shard's artifact a into root, reading no more than its
// recorded size and one byte, and fails unless the bytes are the recorded ones.
func copyArtifact(ctx context.Context, s *shard, root *os.Root, a manifest.Artifact) error {
	fail := func(err error) error {
		return fmt.Errorf("shard %s: %s does not match its record: %w", s.dir, a.File, err)
	}
	in, err := atomicfile.OpenRegular(s.root, a.File, os.O_RDONLY)
	if err != nil {
		return fail(err)
	}
	defer in.Close()
	out, err := root.OpenFile(a.File, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), ctxio.Reader(ctx, io.LimitReader(in, a.Size+1)))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("copying %s from shard %s: %w", a.File, s.dir, err)
	}
	if n != a.Size {
		return fail(fmt.Errorf("%w: %d bytes or more, recorded %d", manifest.ErrChanged, n, a.Size))
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != a.SHA256 {
		return fail(fmt.Errorf("%w: sha256 %s, recorded %s", manifest.ErrChanged, sum, a.SHA256))
	}
	if err := out.Sync(); err != nil {
		return err
	}
	return out.Close()
}

// copyLog copies the artifact's log, logs/NAME.log, when its record names one: a
// record that names another file, or a log that is missing or not a regular file,
// fails the merge.
func copyLog(s *shard, logs *os.Root, a manifest.Artifact) error {
	if a.Log == "" {
		return nil
	}
	name := a.File + ".log"
	if a.Log != logDir+"/"+name {
		return fmt.Errorf("shard %s: %s: its record names the log %q, not %s", s.dir, a.File, a.Log, logDir+"/"+name)
	}
	from, err := atomicfile.OpenDir(s.root, logDir)
	if err != nil {
		return fmt.Errorf("shard %s: %w", s.dir, err)
	}
	defer from.Close()
	in, err := atomicfile.OpenRegular(from, name, os.O_RDONLY)
	if err != nil {
		return fmt.Errorf("shard %s: the log of %s: %w", s.dir, a.File, err)
	}
	defer in.Close()
	out, err := logs.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	n, err := io.Copy(out, io.LimitReader(in, maxLog+1))
	if err != nil {
		return fmt.Errorf("copying %s from shard %s: %w", a.Log, s.dir, err)
	}
	if n > maxLog {
		return fmt.Errorf("shard %s: %s: larger than the %d bytes a log may have", s.dir, a.Log, maxLog)
	}
	if err := out.Sync(); err != nil {
		return err
	}
	return out.Close()
}

// place renames the staged directory to out (an empty directory there is replaced)
// and syncs out's parent.
func place(staged, out string) error {
	// rename(2) replaces only an empty directory: one filled meanwhile is refused.
	if err := os.Rename(staged, out); err != nil {
		return fmt.Errorf("merging into %s: %w", out, err)
	}
	parent, err := os.OpenRoot(filepath.Dir(filepath.Clean(out)))
	if err != nil {
		return &atomicfile.NotDurableError{Path: out, Err: err}
	}
	defer parent.Close()
	if err := atomicfile.SyncDir(parent); err != nil {
		return &atomicfile.NotDurableError{Path: out, Err: err}
	}
	return nil
}
