package runner

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/manifest"
)

// A cell installed from its lock entry must give the artifact that the entry records
// (its artifact_sha256): that is what the lock is for. npm ci that installs another
// tree (an optional binary of another libc, say) fails the cell, unless the user
// allows the drift. To show where the trees differ, the new artifact is compared entry
// by entry with the earlier artifact of the cell in the output directory when the
// records list it with the lock's sha256 and it still hashes so; the lock itself
// records no list of entries (it would grow by a line per installed file, in every
// pull request), so without that earlier artifact the error says how to get one.

// maxDiffShown is how many differing entries a drift error lists.
const maxDiffShown = 10

// maxIndexEntries bounds the entries read of an artifact to compare, as the packer
// bounds them.
const maxIndexEntries = 1 << 20

// DriftError is a cell installed from its lock entry whose artifact is not the one
// the entry records.
type DriftError struct {
	Artifact    string
	SHA256      string // of this build's artifact
	LockSHA256  string // what the lock entry records
	Differences []string
	More        int    // differing entries not listed
	NoCompare   string // why the entries could not be compared, when they were not
}

func (e *DriftError) Error() string {
	return e.describe() + "the artifact is not kept: pass --allow-drift to keep it (the manifest records the drift), or record the new tree with `matrix lock --upgrade`"
}

// describe says what differs, ending with a separator for what follows.
func (e *DriftError) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s drifted from the lock: installed from its lock entry, the build gave sha256 %s, the lock entry records %s (artifact_sha256)",
		e.Artifact, e.SHA256, e.LockSHA256)
	switch {
	case len(e.Differences) > 0:
		b.WriteString("; first differing entries (this build | the earlier artifact):")
		for _, d := range e.Differences {
			b.WriteString("\n    " + d)
		}
		if e.More > 0 {
			fmt.Fprintf(&b, "\n    ... and %d more", e.More)
		}
		b.WriteString("\n")
	case e.NoCompare != "":
		b.WriteString("; " + e.NoCompare + "; ")
	default:
		b.WriteString("; ")
	}
	return b.String()
}

// proveLocked checks the staged artifact art of a cell installed from its lock entry
// against the sha256 that the entry records, and sets art.LockSHA256. A difference is
// a *DriftError, or with AllowDrift a warning and art.Drift.
func (b *cellBuild) proveLocked(ctx context.Context, art *manifest.Artifact) error {
	want := b.opts.LockedSHA256[b.cell.Artifact]
	if want == "" {
		return nil
	}
	art.LockSHA256 = want
	if art.SHA256 == want {
		fmt.Fprintf(b.lines, "matrix: sha256 %s, the one the lock entry records\n", art.SHA256)
		return nil
	}
	derr := &DriftError{Artifact: b.cell.Artifact, SHA256: art.SHA256, LockSHA256: want}
	if err := b.compareWithEarlier(ctx, derr); err != nil {
		derr.NoCompare = err.Error()
	}
	if !b.opts.AllowDrift {
		return derr
	}
	art.Drift = true
	fmt.Fprintf(b.lines, "matrix: warning: %skept as --allow-drift asks (the manifest records \"drift\": true)\n", derr.describe())
	fmt.Fprintf(b.progress, "matrix: warning: %s drifted from the lock: sha256 %s, the lock entry records %s; kept as --allow-drift asks\n",
		b.cell.Artifact, art.SHA256, want)
	return nil
}

// compareWithEarlier fills derr's differences from the staged artifact and the
// earlier artifact of the cell in the output directory, when the records list it with
// the lock's sha256 and it still hashes so; otherwise it says why it cannot.
func (b *cellBuild) compareWithEarlier(ctx context.Context, derr *DriftError) error {
	prev, ok := b.previous[derr.Artifact]
	if !ok || prev.SHA256 != derr.LockSHA256 {
		return fmt.Errorf("no artifact of sha256 %s is in %s to compare entries with (a run without --locked into the same output directory keeps one)", derr.LockSHA256, b.opts.OutDir)
	}
	if err := manifest.CheckFile(ctx, b.out, prev); err != nil {
		return fmt.Errorf("the earlier %s in %s cannot be compared with: %v", derr.Artifact, b.opts.OutDir, err)
	}
	earlierFile, err := atomicfile.OpenRegular(b.out, derr.Artifact, os.O_RDONLY)
	if err != nil {
		return err
	}
	defer earlierFile.Close()
	earlier, err := indexFile(ctx, earlierFile, b.cell.Format)
	if err != nil {
		return fmt.Errorf("reading the earlier %s: %w", derr.Artifact, err)
	}
	stagedFile, err := os.Open(b.staged.Name())
	if err != nil {
		return err
	}
	defer stagedFile.Close()
	now, err := indexFile(ctx, stagedFile, b.cell.Format)
	if err != nil {
		return fmt.Errorf("reading this build's artifact: %w", err)
	}
	diff := treeDiff(now, earlier)
	if len(diff) == 0 {
		return errors.New("their entries have the same names, sizes and contents (they differ in modes or order only)")
	}
	if len(diff) > maxDiffShown {
		derr.More = len(diff) - maxDiffShown
		diff = diff[:maxDiffShown]
	}
	derr.Differences = diff
	return nil
}

// entrySum is what an artifact holds under one name.
type entrySum struct {
	dir    bool
	size   int64
	sha256 string
}

func (e *entrySum) String() string {
	switch {
	case e == nil:
		return "absent"
	case e.dir:
		return "directory"
	}
	return fmt.Sprintf("%d bytes, sha256 %.16s", e.size, e.sha256)
}

// indexFile reads an artifact of format and returns its entries by name, with the
// sha256 of each file's content: an index, never the contents.
func indexFile(ctx context.Context, f *os.File, format string) (map[string]*entrySum, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	rc, err := openTree(f, info.Size(), format)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	index := map[string]*entrySum{}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return index, nil
		}
		if err != nil {
			return nil, err
		}
		if len(index) >= maxIndexEntries {
			return nil, fmt.Errorf("more than %d entries", maxIndexEntries)
		}
		name := strings.TrimSuffix(hdr.Name, "/")
		if hdr.Typeflag == tar.TypeDir {
			index[name] = &entrySum{dir: true}
			continue
		}
		h := sha256.New()
		n, err := io.Copy(h, tr)
		if err != nil {
			return nil, err
		}
		index[name] = &entrySum{size: n, sha256: hex.EncodeToString(h.Sum(nil))}
	}
}

// treeDiff lists, sorted by name, each entry that is in one index only or differs.
func treeDiff(now, earlier map[string]*entrySum) []string {
	names := map[string]bool{}
	for n := range now {
		names[n] = true
	}
	for n := range earlier {
		names[n] = true
	}
	var out []string
	for _, n := range slices.Sorted(maps.Keys(names)) {
		a, b := now[n], earlier[n]
		if a != nil && b != nil && *a == *b {
			continue
		}
		if a != nil && a.dir || b != nil && b.dir {
			n += "/"
		}
		out = append(out, fmt.Sprintf("%s: %s | %s", n, a, b))
	}
	return out
}
