package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/manifest"
)

// A run publishes each artifact when its cell is done, long before it records the
// run, so that a replaced artifact stays undoable until the records that vouch for
// its replacement are committed: the artifacts on disk and the records agree whatever
// stops the run in between (manifest's package documentation, "Artifacts and records
// agree", has the table of each step).

// replacement is an artifact this run renamed into place, and the undo entry that
// keeps what it replaced (atomicfile.SetAside).
type replacement struct{ file, entry string }

// replace renames the staged artifact f over OUT/<file>, first making the undo entry
// of what is there. An error before the rename leaves OUT/<file> as it was; a
// *atomicfile.NotDurableError comes after it.
func (r *run) replace(f *atomicfile.File, file string) error {
	entry, err := atomicfile.SetAside(r.out, file)
	if err != nil {
		f.Abort()
		return err
	}
	err = f.Commit()
	var notDurable *atomicfile.NotDurableError
	if err != nil && !errors.As(err, &notDurable) {
		if uerr := atomicfile.Undo(r.out, entry); uerr != nil {
			err = fmt.Errorf("%w; and then %v (the next run finishes that)", err, uerr)
		}
		return err
	}
	r.mu.Lock()
	r.replaced = append(r.replaced, replacement{file, entry})
	r.mu.Unlock()
	return err
}

// settle ends this run's replacements once it tried to record them; werr is what
// recording returned, built the artifacts it built by file name. Recorded, their
// undo entries go. Not recorded, what the record on disk now vouches for stands
// (the new record was left pending, or its last sync failed: the next run settles
// it), and every other replacement is undone: the earlier artifact is put back, a
// new one removed. It returns what it could not do, for the run's error.
func (r *run) settle(werr error, built map[string]manifest.Artifact) error {
	var failed []string
	if werr == nil {
		for _, rp := range r.replaced {
			if err := atomicfile.Settle(r.out, rp.entry); err != nil {
				fmt.Fprintf(r.progress, "matrix: warning: %v (the next run removes it)\n", err)
			}
		}
		return nil
	}
	rec, err := manifest.ReadRecord(r.opts.OutDir)
	if err != nil {
		return fmt.Errorf("the artifacts this run replaced stay as they are, undoable, until the next run: %w", err)
	}
	for _, rp := range r.replaced {
		if vouches(rec, built[rp.file]) {
			continue
		}
		if err := atomicfile.Undo(r.out, rp.entry); err != nil {
			failed = append(failed, err.Error())
			continue
		}
		fmt.Fprintf(r.progress, "matrix: %s\n", undone(rp.entry))
	}
	if len(failed) > 0 {
		return fmt.Errorf("taking back the artifacts this run could not record: %s (the next run finishes that)", strings.Join(failed, "; "))
	}
	return nil
}

// vouches reports whether rec lists a as it is.
func vouches(rec *manifest.Record, a manifest.Artifact) bool {
	if rec.Manifest == nil || a.File == "" {
		return false
	}
	for _, l := range rec.Manifest.Artifacts {
		if l.File == a.File {
			return l.SHA256 == a.SHA256 && l.Size == a.Size
		}
	}
	return false
}

// finishReplacements settles or undoes, per the record (Record.Replaced), the
// replacements that an interrupted run left, so that the artifacts on disk are the
// ones the record lists; only called while the directory is claimed, after a pending
// record was completed and before temporaries are removed.
func (r *run) finishReplacements(ctx context.Context, rec *manifest.Record) error {
	found, err := rec.Replaced(ctx)
	if err != nil {
		return err
	}
	for _, rp := range found {
		if rp.Stands {
			if err := atomicfile.Settle(r.out, rp.Entry); err != nil {
				return err
			}
			fmt.Fprintf(r.progress, "matrix: removed %s, left over from a run that replaced %s and recorded it\n", rp.Entry, rp.File)
			continue
		}
		if err := atomicfile.Undo(r.out, rp.Entry); err != nil {
			return err
		}
		fmt.Fprintf(r.progress, "matrix: %s (an interrupted run left it)\n", undone(rp.Entry))
	}
	return nil
}

// undone says what Undo of entry did.
func undone(entry string) string {
	file, earlier, _ := atomicfile.UndoOf(entry)
	if earlier {
		return fmt.Sprintf("put back the earlier %s: its replacement was never recorded", file)
	}
	return fmt.Sprintf("removed %s: it was never recorded, and there was none before", file)
}
