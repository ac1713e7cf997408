package manifest

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/internal/filename"
)

// Replaced is an artifact that a run put in place and whose replacement it did not
// settle: the run stopped before its records were committed, or before it removed
// the undo entry it made (atomicfile.SetAside) once they were. The record decides
// which (see the package documentation, "Artifacts and records agree").
type Replaced struct {
	File    string // the artifact's name
	Entry   string // its undo entry
	Earlier bool   // Entry holds the file that File had before; otherwise File had none
	// Stands is true when the record vouches for File as it is (it lists it, and the
	// file hashes as listed): the replacement was recorded and Entry is only left
	// over. Otherwise the replacement is to be undone.
	Stands bool
}

// String says what was found, and what the next run (or a hand) does about it.
func (r Replaced) String() string {
	return r.File + ": " + r.why()
}

func (r Replaced) why() string {
	switch {
	case r.Stands && r.Earlier:
		return fmt.Sprintf("recorded as it is; %s, the earlier file it replaced, is left over: the next matrix run removes it", r.Entry)
	case r.Stands:
		return fmt.Sprintf("recorded as it is; %s is left over from the run that put it there: the next matrix run removes it", r.Entry)
	case r.Earlier:
		return fmt.Sprintf("replaced by a run that stopped before recording it; the earlier file is %s: the next matrix run puts it back (or by hand, in the directory: mv %s %s)", r.Entry, r.Entry, r.File)
	default:
		return fmt.Sprintf("put there by a run that stopped before recording it, where there was no file before (%s says so): the next matrix run removes it (or by hand, in the directory: rm %s %s)", r.Entry, r.File, r.Entry)
	}
}

// Replaced finds the undo entries in the record's directory and decides each against
// the record. Only an entry that can be a run's is one: atomicfile.Undoable (a regular
// file; one saying its file had none names the file there now) of a name that
// passes the artifact name rule (filename.Why), so never of the records, logs/ or
// the claim file. Anything else under such a name undoes nothing: a temporary, that
// a run removes as one (a planted .manifest.json.tmp-new-1 made a run delete
// manifest.json, a planted .README.txt.tmp-new-1 the user's README.txt). The rest: a replacement stands when the record lists its file and the file hashes
// as listed; otherwise it is undone, and the directory is then as it was before the
// run that made the entry. Nothing is changed. Hashing stops when ctx ends (its error).
func (r *Record) Replaced(ctx context.Context) ([]Replaced, error) {
	root, err := os.OpenRoot(r.dir)
	if err != nil {
		return nil, nil // no directory, nothing replaced
	}
	defer root.Close()
	return r.replaced(ctx, root)
}

func (r *Record) replaced(ctx context.Context, root *os.Root) ([]Replaced, error) {
	d, err := root.Open(".")
	if err != nil {
		return nil, err
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", r.dir, err)
	}
	listed := map[string]Artifact{}
	if r.Manifest != nil {
		for _, a := range r.Manifest.Artifacts {
			listed[a.File] = a
		}
	}
	var found []Replaced
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue // a link or a directory under such a name is nobody's entry
		}
		file, earlier, ok := atomicfile.Undoable(root, e.Name())
		if !ok || filename.Why(file) != "" {
			continue
		}
		rep := Replaced{File: file, Entry: e.Name(), Earlier: earlier}
		if a, ok := listed[file]; ok {
			err := CheckFile(ctx, root, a)
			if ctx.Err() != nil {
				return nil, fmt.Errorf("checking %s: %w", filepath.Join(r.dir, file), ctx.Err())
			}
			rep.Stands = err == nil
		}
		found = append(found, rep)
	}
	slices.SortFunc(found, func(a, b Replaced) int {
		return cmp.Or(strings.Compare(a.File, b.File), strings.Compare(a.Entry, b.Entry))
	})
	return found, nil
}
