package runner

// Cells of one run that would build the same bytes are built once: the first to get
// there builds, the others wait for it and copy its published artifact under their
// own names, then check and test it as their own.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/matrixbuild/matrix/internal/ctxio"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/plan"
)

// twins are the builds of a run by twinKey.
type twins struct {
	mu     sync.Mutex
	builds map[string]*twinBuild
}

// twinBuild is one build that cells of equal twinKey share. art is set, and done
// closed, once the cell that built it published its artifact (or nil: it did not).
type twinBuild struct {
	done      chan struct{}
	art       *manifest.Artifact
	lockFiles executor.Files
}

// twinKey is what decides a cell's artifact bytes (InputHash without the artifact's
// name, which only names the file), what decides which of its files the packer
// and the ELF check take (max_size, elf_ignore), which InputHash leaves out, and the
// lock files the build hands back for the cell's lock entry (lock_files).
func twinKey(cell plan.Cell, imgs images, epoch time.Time, inputs executor.Files) string {
	c := cell
	c.Artifact = ""
	data, err := json.Marshal(struct {
		Inputs    string
		MaxSize   int64
		ELFIgnore []string
		LockFiles []string
	}{InputHash(c, imgs.build, epoch, inputs), cell.MaxSize, cell.ELFIgnore, cell.LockFiles})
	if err != nil {
		panic(err) // plain strings and numbers always marshal
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// join returns the build of key and whether this cell builds it (lead): it then must
// call finish once. A cell that does not lead waits until the one that does finishes
// or ctx ends; the build's art is then set if there is an artifact to copy.
func (t *twins) join(ctx context.Context, key string) (tb *twinBuild, lead bool) {
	t.mu.Lock()
	tb, ok := t.builds[key]
	if !ok {
		if t.builds == nil {
			t.builds = map[string]*twinBuild{}
		}
		tb = &twinBuild{done: make(chan struct{})}
		t.builds[key] = tb
	}
	t.mu.Unlock()
	if !ok {
		return tb, true
	}
	select {
	case <-tb.done:
		return tb, false
	case <-ctx.Done():
		return &twinBuild{}, false
	}
}

// finish hands the leading cell's published artifact (nil when it failed) to the
// cells that wait for it.
func (tb *twinBuild) finish(art *manifest.Artifact, lockFiles executor.Files) {
	tb.art, tb.lockFiles = art, lockFiles
	close(tb.done)
}

// copyTwin stages a copy of the artifact src that another cell of this run built from
// the same inputs and published, instead of building, and returns its record for this
// cell: the same bytes (checked while copied) and ELF report, checked against this
// cell's CPU, libc and glibc; its tests are this cell's own, still to run.
func (b *cellBuild) copyTwin(ctx context.Context, imgs images, src *manifest.Artifact, lockFiles executor.Files) (*manifest.Artifact, executor.Files, error) {
	cell := b.cell
	fmt.Fprintf(b.lines, "matrix: not built: %s of this run has the same inputs (input hash without the name %.12s); its bytes copied\n", src.File, twinKey(cell, imgs, b.epoch, b.inputs))
	f, err := atomicfile.OpenRegular(b.out, src.File, os.O_RDONLY)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	if b.staged, err = atomicfile.CreateIn(b.out, cell.Artifact); err != nil {
		return nil, nil, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(b.staged, h), ctxio.Reader(ctx, io.LimitReader(f, src.Size+1)))
	if err != nil {
		return nil, nil, fmt.Errorf("copying %s: %w", src.File, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); n != src.Size || got != src.SHA256 {
		return nil, nil, fmt.Errorf("copying %s: it changed since this run built it: %d bytes of sha256 %s, built as %d bytes of sha256 %s", src.File, n, got, src.Size, src.SHA256)
	}
	art := *src
	art.File, art.Target, art.Axes, art.Log = cell.Artifact, cell.Target, axes(cell), logName(cell)
	art.InputHash, art.Metadata, art.CrossBuilt, art.Spec = imgs.inputHash, cell.Metadata, cell.CrossBuilt, b.specFile()
	art.Image = manifestImage(imgs.build) // the same ID, maybe by another name
	art.Test, art.Tests, art.LockSHA256, art.Drift, art.Warnings = nil, nil, "", false, nil
	art.SameBuildAs = src.File
	if src.ELF != nil {
		rep := *src.ELF
		art.ELF = &rep
		fmt.Fprintf(b.lines, "matrix: %s\n", describeELF(rep))
		if err := checkELF(rep, elfTarget(cell, imgs.build)); err != nil {
			return nil, nil, err
		}
	}
	if w := sizeWarning(cell, art.Size); w != "" {
		art.Warnings = []string{w}
		fmt.Fprintf(b.lines, "matrix: warning: %s\n", w)
		fmt.Fprintf(b.progress, "matrix: warning: %s\n", w)
	}
	return &art, lockFiles, nil
}

// dropStaleSameBuild clears the same_build_as of a record whose twin is no longer the
// artifact of its run with its bytes (a copy reused by a later run that built its
// twin again): the records name only an artifact of the copy's own run.
func dropStaleSameBuild(arts []manifest.Artifact) {
	byFile := map[string]*manifest.Artifact{}
	for i := range arts {
		byFile[arts[i].File] = &arts[i]
	}
	for i := range arts {
		a := &arts[i]
		if a.SameBuildAs == "" {
			continue
		}
		if src, ok := byFile[a.SameBuildAs]; !ok || src.RunID != a.RunID || src.SHA256 != a.SHA256 {
			a.SameBuildAs = ""
		}
	}
}
