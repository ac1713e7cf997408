package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// An undo entry keeps a replacement of a file undoable until whatever vouches for the
// new content (a run's records) is committed: SetAside makes one before the new
// file is renamed over the old, Settle drops it once the replacement stands, and Undo
// puts things back as they were. Its name is a temporary's (IsTemp) that says which
// file it undoes and how: ".NAME.tmp-was-RANDOM" holds the earlier file (a second
// name of it), ".NAME.tmp-new-RANDOM" says NAME had no file before and names (by
// device and inode) the file that was put there, so that undoing it removes that
// file and never another that has the name (a file planted under an entry's name
// must not make a run delete what it did not make). Neither ends like Create's
// ".NAME.tmp-RANDOM", so the two are never confused.
//
// The output directory is hostile ground: an entry is taken for an undo entry only
// when it is a regular file (Undoable); callers also check that NAME is one they
// make (an artifact's, a log's), never one of their own records.
const (
	undoWas = "was-"
	undoNew = "new-"
)

// UndoOf reports whether entry is an undo entry (SetAside), of which file, and
// whether it holds that file's earlier content (otherwise the file had none).
func UndoOf(entry string) (name string, earlier, ok bool) {
	i := strings.LastIndex(entry, tempMarker)
	if i < 2 || !strings.HasPrefix(entry, ".") {
		return "", false, false
	}
	kind, random := entry[i+len(tempMarker):], ""
	switch {
	case strings.HasPrefix(kind, undoWas):
		earlier, random = true, kind[len(undoWas):]
	case strings.HasPrefix(kind, undoNew):
		random = kind[len(undoNew):]
	default:
		return "", false, false
	}
	if _, err := strconv.ParseUint(random, 10, 32); err != nil {
		return "", false, false
	}
	return entry[1:i], earlier, true
}

// Undoable reports whether root's entry is an undo entry that has something to undo,
// of which file, and whether it holds that file's earlier content: a regular file
// under an undo entry's name (UndoOf) and, for one that says the file had none, the
// file there now is the one it names. Anything else under such a name (a link, a
// fifo, an entry whose file is not the one it put there) undoes nothing: it is a
// temporary like any other.
func Undoable(root *os.Root, entry string) (name string, earlier, ok bool) {
	name, earlier, ok = UndoOf(entry)
	if !ok {
		return "", false, false
	}
	if info, err := root.Lstat(entry); err != nil || !info.Mode().IsRegular() {
		return "", false, false
	}
	if !earlier && !putThere(root, entry, name) {
		return "", false, false
	}
	return name, earlier, true
}

// maxEntryID bounds what is read of a new-file undo entry: a device and an inode.
const maxEntryID = 64

// putThere reports whether root's file name is the regular file that the new-file
// undo entry says was put there.
func putThere(root *os.Root, entry, name string) bool {
	want, err := ReadRegular(root, entry, maxEntryID)
	if err != nil || len(want) == 0 {
		return false
	}
	info, err := root.Lstat(name)
	return err == nil && info.Mode().IsRegular() && fileID(info) == string(want)
}

// SetAside makes the undo entry of root's file name before next, a file of root
// written but not yet committed, replaces it; the entry is durable (the directory
// synced) when it returns, and its name is returned. A regular file there gets a
// second name, the entry, so that it stays in place until the replacement is renamed
// over it; where the file system has no hard links, it is renamed to the entry, and
// the name is missing until then. Anything else there (a link, a fifo, a device;
// never followed) is not kept: the entry says there was no file and names next, and
// undoing removes next once it is in place.
func SetAside(root *os.Root, name string, next *File) (string, error) {
	path := filepath.Join(root.Name(), name)
	info, err := root.Lstat(name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("keeping what %s holds, to undo its replacement: %w", path, err)
	}
	earlier := err == nil && info.Mode().IsRegular()
	var id string
	if !earlier {
		ninfo, err := next.root.Lstat(next.temp)
		if err != nil {
			return "", fmt.Errorf("keeping what %s holds, to undo its replacement: %w", path, err)
		}
		id = fileID(ninfo)
	}
	for range 10000 {
		entry := "." + name + tempMarker + undoNew + strconv.FormatUint(uint64(rand.Uint32()), 10)
		if earlier {
			entry = "." + name + tempMarker + undoWas + strconv.FormatUint(uint64(rand.Uint32()), 10)
		}
		err := makeEntry(root, name, entry, earlier, id)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err == nil {
			err = SyncDir(root)
			if err != nil {
				// Not durable, so not to be relied on: gone, or put back where it was.
				if uerr := Undo(root, entry); uerr != nil {
					err = fmt.Errorf("%w; and undoing it: %v", err, uerr)
				}
			}
		}
		if err != nil {
			return "", fmt.Errorf("keeping what %s holds, to undo its replacement: %w", path, err)
		}
		return entry, nil
	}
	return "", fmt.Errorf("keeping what %s holds, to undo its replacement: no free temporary name", path)
}

// makeEntry creates the undo entry of name: a second name of its earlier file (or the
// file renamed there), or a file holding id, the file that is to be put there, synced.
// A taken entry name is fs.ErrExist.
func makeEntry(root *os.Root, name, entry string, earlier bool, id string) error {
	if !earlier {
		if err := fault("create", filepath.Join(root.Name(), entry)); err != nil {
			return err
		}
		f, err := root.OpenFile(entry, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		_, err = f.WriteString(id)
		if err == nil {
			if err = fault("sync", filepath.Join(root.Name(), entry)); err == nil {
				err = f.Sync()
			}
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			root.Remove(entry)
		}
		return err
	}
	err := fault("link", filepath.Join(root.Name(), entry))
	if err == nil {
		err = root.Link(name, entry)
	}
	if err == nil || errors.Is(err, fs.ErrExist) {
		return err
	}
	// No hard links here (or no room for one): move the file itself aside.
	if _, lerr := root.Lstat(entry); lerr == nil {
		return fs.ErrExist
	}
	if err := fault("rename", filepath.Join(root.Name(), entry)); err != nil {
		return err
	}
	return root.Rename(name, entry)
}

// Settle keeps the replacement that root's undo entry stands for: the entry goes.
func Settle(root *os.Root, entry string) error {
	path := filepath.Join(root.Name(), entry)
	err := fault("remove", path)
	if err == nil {
		err = root.Remove(entry)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing %s: %w", path, err)
	}
	return nil
}

// Undo undoes the replacement that root's undo entry stands for, and syncs the
// directory: the earlier file is renamed back to its name, or, when the name had
// none, the file the entry names is removed if it is there (anything else there is
// left, and the entry goes). An entry that is not a regular file undoes nothing: it
// is removed, never followed. Each step can be repeated, so an Undo that stopped
// half-way is finished by the next.
func Undo(root *os.Root, entry string) error {
	name, earlier, ok := UndoOf(entry)
	if !ok {
		return fmt.Errorf("%s is not an undo entry", filepath.Join(root.Name(), entry))
	}
	path := filepath.Join(root.Name(), name)
	if info, err := root.Lstat(entry); err == nil && !info.Mode().IsRegular() {
		return Settle(root, entry)
	}
	if earlier {
		// Still a second name of the file in place (a replacement that never happened):
		// a rename would leave both names, so the entry just goes.
		was, werr := root.Lstat(entry)
		now, nerr := root.Lstat(name)
		if werr == nil && nerr == nil && os.SameFile(was, now) {
			return Settle(root, entry)
		}
		if err := Place(root, entry, name); err != nil {
			return fmt.Errorf("putting back the earlier %s: %w", path, err)
		}
		return nil
	}
	if putThere(root, entry, name) {
		err := fault("remove", path)
		if err == nil {
			err = root.Remove(name)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing %s: %w", path, err)
		}
	}
	if err := Settle(root, entry); err != nil {
		return err
	}
	if err := SyncDir(root); err != nil {
		return fmt.Errorf("removing %s: %w", path, err)
	}
	return nil
}
