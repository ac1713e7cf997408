package runner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/manifest"
)

// A run publishes each artifact when its cell is done, long before it records the
// run, so that a replaced artifact stays undoable until the records that vouch for
// its replacement are committed: the artifacts on disk and the records agree whatever
// stops the run in between (manifest's package documentation, "Artifacts and records
// agree", has the table of each step).

// The artifact's log goes with it: before a cell's log is put in place as
// logs/NAME.log, what was there gets an undo entry in logs/ too (placeLog), and when
// the run takes the artifact back, the new log becomes logs/NAME.log.failed and the
// earlier one is put back (takeBackLog). Recorded, the log's entry goes before the
// artifact's, so that a log entry found without its artifact's (the run stopped
// before it replaced the artifact, or while taking it back) is always taken back.

// replacement is an artifact this run renamed into place, and the undo entry that
// keeps what it replaced (atomicfile.SetAside); logEntry is the undo entry in logs/
// of its log. A retested artifact (--reuse) is not replaced: entry is "".
type replacement struct{ file, entry, logEntry string }

// placeLog puts the cell's log in place as logs/NAME.log, first making the undo entry
// of what is there (b.logEntry), which the run settles or takes back with the
// artifact.
func (b *cellBuild) placeLog() error {
	entry, err := b.log.setAside()
	if err != nil {
		return fmt.Errorf("its log: %w", err)
	}
	b.logEntry = entry
	return b.durable(b.cell.Artifact, b.log.commit())
}

// dropLogEntry takes back the cell's log after the cell failed (fail, once the log
// was ended): the earlier log is put back, unless the failed attempt's log is
// logs/NAME.log itself (no earlier artifact keeps that name) and in place, which
// stays.
func (b *cellBuild) dropLogEntry() error {
	entry := b.logEntry
	if entry == "" {
		return nil
	}
	b.logEntry = ""
	if b.log.failed == b.log.name && b.log.placedAs() == b.log.name {
		return atomicfile.Settle(b.logs, entry)
	}
	return atomicfile.Undo(b.logs, entry)
}

// takeBackLog undoes the log entry of an artifact the run took back: the new log
// becomes logs/NAME.log.failed (kept, to say what that build did), and the earlier
// log is put back, or none when there was none.
func takeBackLog(logs *os.Root, entry string) error {
	name, _, ok := atomicfile.UndoOf(entry)
	if !ok {
		return fmt.Errorf("%s is not an undo entry", entry)
	}
	info, err := logs.Lstat(name)
	if was, werr := logs.Lstat(entry); err == nil && werr == nil && os.SameFile(info, was) {
		return atomicfile.Settle(logs, entry) // the log was never replaced
	}
	if err == nil && info.Mode().IsRegular() {
		var notDurable *atomicfile.NotDurableError
		if err := atomicfile.Place(logs, name, name+failedSuffix); err != nil && !errors.As(err, &notDurable) {
			return err
		}
	}
	return atomicfile.Undo(logs, entry)
}

// settleLog drops the log entry of a replacement that stands.
func (r *run) settleLog(entry string) {
	if entry == "" {
		return
	}
	if err := atomicfile.Settle(r.logs, entry); err != nil {
		fmt.Fprintf(r.progress, "matrix: warning: %v (the next run takes the log back)\n", err)
	}
}

// replace renames the staged artifact f over OUT/<file>, first making the undo entry
// of what is there; logEntry is the undo entry of its log. An error before the rename
// leaves OUT/<file> as it was; a *atomicfile.NotDurableError comes after it.
func (r *run) replace(f *atomicfile.File, file, logEntry string) error {
	entry, err := atomicfile.SetAside(r.out, file, f)
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
	r.addReplacement(replacement{file, entry, logEntry})
	return err
}

func (r *run) addReplacement(rp replacement) {
	r.mu.Lock()
	r.replaced = append(r.replaced, rp)
	r.mu.Unlock()
}

// settle ends this run's replacements once it tried to record them; werr is what
// recording returned, built the artifacts it built by file name. Recorded, their
// undo entries go. Not recorded, what the record on disk now vouches for stands and
// its entries go too (the new record was left pending, or its last sync failed, and
// the next run completes it; or the earlier record lists the same bytes), and every
// other replacement is undone: the earlier artifact is put back, a
// new one removed. It returns what it could not do, for the run's error.
func (r *run) settle(werr error, built map[string]manifest.Artifact) error {
	var failed []string
	if werr == nil {
		for _, rp := range r.replaced {
			r.settleLog(rp.logEntry) // before the artifact's: see placeLog
		}
		for _, rp := range r.replaced {
			if rp.entry == "" {
				continue
			}
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
			// The records on disk (the earlier ones, for an artifact rebuilt to the same
			// bytes, or the new ones left pending, which the next run completes) list it
			// as it is: nothing to take back.
			r.settleLog(rp.logEntry)
			if rp.entry != "" {
				if err := atomicfile.Settle(r.out, rp.entry); err != nil {
					fmt.Fprintf(r.progress, "matrix: warning: %v (the next run removes it)\n", err)
				}
			}
			continue
		}
		if rp.entry != "" {
			if err := atomicfile.Undo(r.out, rp.entry); err != nil {
				failed = append(failed, err.Error())
				continue
			}
			fmt.Fprintf(r.progress, "matrix: %s\n", undone(rp.entry))
		}
		if rp.logEntry != "" {
			if err := takeBackLog(r.logs, rp.logEntry); err != nil {
				failed = append(failed, err.Error())
				continue
			}
			fmt.Fprintf(r.progress, "matrix: %s\n", logTakenBack(rp.logEntry))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("taking back the artifacts this run could not record: %s (the next run finishes that)", strings.Join(failed, "; "))
	}
	return nil
}

// vouches reports whether rec lists a as it is, with the same test or tests.
func vouches(rec *manifest.Record, a manifest.Artifact) bool {
	if rec.Manifest == nil || a.File == "" {
		return false
	}
	for _, l := range rec.Manifest.Artifacts {
		if l.File == a.File {
			return l.SHA256 == a.SHA256 && l.Size == a.Size && testDef(l.Test) == testDef(a.Test) && sameTests(l.Tests, a.Tests)
		}
	}
	return false
}

// sameTests reports whether two records of a cell's test axes list the same tests:
// each one's axes, skip reason and definition, in order.
func sameTests(a, b []manifest.Test) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if axesString(a[i].Axes) != axesString(b[i].Axes) || a[i].Skipped != b[i].Skipped || a[i].Definition != b[i].Definition {
			return false
		}
	}
	return true
}

func testDef(t *manifest.Test) string {
	if t == nil {
		return ""
	}
	return t.Definition
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
	logEntries, err := r.logEntries()
	if err != nil {
		return err
	}
	for _, rp := range found {
		logs := logEntries[path.Base(rp.File)+".log"]
		delete(logEntries, path.Base(rp.File)+".log")
		if rp.Stands {
			// The record vouches for the artifact on disk; its log is the new one only
			// if the artifact was replaced: an entry that is still a second name of
			// the file in place says it was not.
			keep := settleLog
			if r.neverReplaced(rp) {
				keep = takeBackLog
			}
			for _, e := range logs {
				if err := keep(r.logs, e); err != nil {
					return err
				}
			}
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
		for _, e := range logs {
			if err := takeBackLog(r.logs, e); err != nil {
				return err
			}
		}
	}
	// A log's entry without its artifact's: the run stopped before it replaced the
	// artifact, or while taking it back (placeLog).
	for _, name := range slices.Sorted(maps.Keys(logEntries)) {
		for _, e := range logEntries[name] {
			if err := takeBackLog(r.logs, e); err != nil {
				return err
			}
			fmt.Fprintf(r.progress, "matrix: %s (an interrupted run left it)\n", logTakenBack(e))
		}
	}
	return nil
}

// settleLog drops a log's undo entry: its replacement stands.
func settleLog(logs *os.Root, entry string) error { return atomicfile.Settle(logs, entry) }

// neverReplaced reports whether rp's entry is still a second name of the file in
// place: the run that made it stopped before it renamed the new artifact over it.
func (r *run) neverReplaced(rp manifest.Replaced) bool {
	was, werr := r.out.Lstat(rp.Entry)
	now, nerr := r.out.Lstat(rp.File)
	return rp.Earlier && werr == nil && nerr == nil && os.SameFile(was, now)
}

// logEntries are the undo entries in logs/, by the log they undo: only those that
// can be a run's (atomicfile.Undoable, of a log name an artifact's makes, isLogName);
// anything else under such a name is a temporary that removePartialFiles removes.
func (r *run) logEntries() (map[string][]string, error) {
	d, err := r.logs.Open(".")
	if err != nil {
		return nil, err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", r.logs.Name(), err)
	}
	slices.Sort(names)
	out := map[string][]string{}
	for _, n := range names {
		if log, _, ok := atomicfile.Undoable(r.logs, n); ok && isLogName(log) {
			out[log] = append(out[log], n)
		}
	}
	return out, nil
}

// logTakenBack says what takeBackLog of entry did.
func logTakenBack(entry string) string {
	name, earlier, _ := atomicfile.UndoOf(entry)
	if earlier {
		return fmt.Sprintf("put back the earlier logs/%s; the log of the build taken back is logs/%s", name, name+failedSuffix)
	}
	return fmt.Sprintf("moved the log of the build taken back to logs/%s", name+failedSuffix)
}

// undone says what Undo of entry did.
func undone(entry string) string {
	file, earlier, _ := atomicfile.UndoOf(entry)
	if earlier {
		return fmt.Sprintf("put back the earlier %s: its replacement was never recorded", file)
	}
	return fmt.Sprintf("removed %s: it was never recorded, and there was none before", file)
}
