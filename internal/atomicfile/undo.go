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
// name of it), ".NAME.tmp-new-RANDOM" is empty and says NAME had no file before.
// Neither ends like Create's ".NAME.tmp-RANDOM", so the two are never confused.
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

// SetAside makes the undo entry of root's file name before it is replaced, durable
// (the directory synced) when it returns, and returns the entry's name. A regular
// file there gets a second name, the entry, so that it stays in place until the
// replacement is renamed over it; where the file system has no hard links, it is
// renamed to the entry, and the name is missing until then. Anything else there (a
// link, a fifo, a device; never followed) is not kept: the entry says there was no
// file, and undoing removes what was put in its place.
func SetAside(root *os.Root, name string) (string, error) {
	path := filepath.Join(root.Name(), name)
	info, err := root.Lstat(name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("keeping what %s holds, to undo its replacement: %w", path, err)
	}
	earlier := err == nil && info.Mode().IsRegular()
	for range 10000 {
		entry := "." + name + tempMarker + undoNew + strconv.FormatUint(uint64(rand.Uint32()), 10)
		if earlier {
			entry = "." + name + tempMarker + undoWas + strconv.FormatUint(uint64(rand.Uint32()), 10)
		}
		err := makeEntry(root, name, entry, earlier)
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
// file renamed there), or an empty file. A taken entry name is fs.ErrExist.
func makeEntry(root *os.Root, name, entry string, earlier bool) error {
	if !earlier {
		if err := fault("create", filepath.Join(root.Name(), entry)); err != nil {
			return err
		}
		f, err := root.OpenFile(entry, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		return f.Close()
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
// none, the regular file now there is removed (anything else there is left, and the
// entry goes). Each step can be repeated, so an Undo that stopped half-way is
// finished by the next.
func Undo(root *os.Root, entry string) error {
	name, earlier, ok := UndoOf(entry)
	if !ok {
		return fmt.Errorf("%s is not an undo entry", filepath.Join(root.Name(), entry))
	}
	path := filepath.Join(root.Name(), name)
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
	if info, err := root.Lstat(name); err == nil && info.Mode().IsRegular() {
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
