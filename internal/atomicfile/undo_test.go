package atomicfile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestUndoOf(t *testing.T) {
	for _, tc := range []struct {
		entry, name string
		earlier, ok bool
	}{
		{".a.tar.gz.tmp-was-123", "a.tar.gz", true, true},
		{".a.tar.gz.tmp-new-4294967295", "a.tar.gz", false, true},
		{".a.tmp-was-1.tar.gz.tmp-new-7", "a.tmp-was-1.tar.gz", false, true},
		{".a.tar.gz.tmp-123", "", false, false},         // Create's temporary
		{".a.tmp-was-1.tar.gz.tmp-9", "", false, false}, // Create's temporary of an odd name
		{".a.tar.gz.tmp-was-", "", false, false},
		{".a.tar.gz.tmp-was-x1", "", false, false},
		{".a.tar.gz.tmp-was-4294967296", "", false, false},
		{"a.tar.gz.tmp-was-1", "", false, false},
		{"..tmp-was-1", "", false, false},
	} {
		name, earlier, ok := UndoOf(tc.entry)
		if name != tc.name || earlier != tc.earlier || ok != tc.ok {
			t.Errorf("UndoOf(%q) = %q, %v, %v; want %q, %v, %v", tc.entry, name, earlier, ok, tc.name, tc.earlier, tc.ok)
		}
	}
}

// TestSetAsideThenSettleOrUndo replaces a file that was there and one that was not,
// with and without hard links, and then settles the replacement or undoes it: the
// name then holds the replacement, or what it held before (nothing), and no entry is
// left. Undoing a replacement that never happened leaves the file as it is.
func TestSetAsideThenSettleOrUndo(t *testing.T) {
	for _, tc := range []struct {
		name    string
		before  string // "": no file
		links   bool
		replace bool // the replacement happens
		undo    bool
	}{
		{"earlier, settled", "old", true, true, false},
		{"earlier, undone", "old", true, true, true},
		{"earlier, no links, settled", "old", false, true, false},
		{"earlier, no links, undone", "old", false, true, true},
		{"earlier, not replaced, undone", "old", true, false, true},
		{"earlier, no links, not replaced, undone", "old", false, false, true},
		{"none, settled", "", true, true, false},
		{"none, undone", "", true, true, true},
		{"none, not replaced, undone", "", true, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "a.tar.gz")
			if tc.before != "" {
				os.WriteFile(path, []byte(tc.before), 0o644)
			}
			root, err := os.OpenRoot(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer root.Close()
			Fault = func(step, _ string) error {
				if step == "link" && !tc.links {
					return syscall.EPERM
				}
				return nil
			}
			defer func() { Fault = nil }()
			next := newFile(t, root, "a.tar.gz", "new")
			entry, err := SetAside(root, "a.tar.gz", next)
			if err != nil {
				t.Fatal(err)
			}
			if name, earlier, ok := UndoOf(entry); !ok || name != "a.tar.gz" || earlier != (tc.before != "") || !IsTemp(entry) {
				t.Errorf("entry %q", entry)
			}
			if tc.before != "" {
				if data, err := os.ReadFile(filepath.Join(dir, entry)); err != nil || string(data) != tc.before {
					t.Errorf("entry holds %q, %v; want %q", data, err, tc.before)
				}
			}
			if tc.replace {
				if err := next.Commit(); err != nil {
					t.Fatal(err)
				}
			} else {
				next.Abort()
			}
			if _, _, ok := Undoable(root, entry); ok != (tc.replace || tc.before != "") {
				t.Errorf("Undoable(%s) = %v", entry, ok)
			}
			want := tc.before
			if tc.undo {
				err = Undo(root, entry)
			} else {
				err = Settle(root, entry)
				want = "new"
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.replace && !tc.undo {
				want = tc.before
			}
			data, err := os.ReadFile(path)
			if want == "" && err == nil || want != "" && string(data) != want {
				t.Errorf("a.tar.gz holds %q, %v; want %q", data, err, want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) > 1 || len(entries) == 1 && entries[0].Name() != "a.tar.gz" {
				t.Errorf("left: %v", entries)
			}
		})
	}
}

// newFile is a file of root, written and not committed, that is to replace name.
func newFile(t *testing.T, root *os.Root, name, content string) *File {
	t.Helper()
	f, err := CreateIn(root, name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Abort)
	return f
}

// TestUndoLeavesWhatItDidNotPut: undoing the replacement of a name that had no file
// removes the file it put there, never a link or what it points to.
func TestUndoLeavesWhatItDidNotPut(t *testing.T) {
	dir := t.TempDir()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	outside := filepath.Join(t.TempDir(), "outside")
	os.WriteFile(outside, []byte("outside"), 0o644)
	entry, err := SetAside(root, "a.tar.gz", newFile(t, root, "a.tar.gz", "new"))
	if err != nil {
		t.Fatal(err)
	}
	os.Symlink(outside, filepath.Join(dir, "a.tar.gz"))
	if err := Undo(root, entry); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "a.tar.gz")); err != nil {
		t.Errorf("the link went: %v", err)
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("what the link points to went: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, entry)); err == nil {
		t.Error("the entry is left")
	}
}

// TestPlantedUndoEntries: what is planted under an undo entry's name undoes nothing
// (Undoable says no) and Undo of it removes only the entry, never followed: an entry
// saying its file had none does not remove a file it did not put there (the user's
// README.txt, a file of the same name put there by anyone else), and a link named
// like an entry that holds the earlier file is not put in the file's place.
func TestPlantedUndoEntries(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "outside")
	os.WriteFile(outside, []byte("outside"), 0o644)
	for _, tc := range []struct {
		name, entry string
		plant       func(dir, entry string) error
	}{
		{"empty new entry", ".a.tar.gz.tmp-new-1", func(dir, entry string) error {
			return os.WriteFile(filepath.Join(dir, entry), nil, 0o644)
		}},
		{"new entry naming another file", ".a.tar.gz.tmp-new-1", func(dir, entry string) error {
			info, err := os.Stat(outside)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, entry), []byte(fileID(info)), 0o644)
		}},
		{"new entry naming a file that was replaced since", ".a.tar.gz.tmp-new-1", func(dir, entry string) error {
			os.WriteFile(filepath.Join(dir, "gone"), nil, 0o644)
			info, err := os.Stat(filepath.Join(dir, "gone"))
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, entry), []byte(fileID(info)), 0o644)
		}},
		{"new entry that is a link", ".a.tar.gz.tmp-new-1", func(dir, entry string) error {
			return os.Symlink(outside, filepath.Join(dir, entry))
		}},
		{"earlier entry that is a link", ".a.tar.gz.tmp-was-1", func(dir, entry string) error {
			return os.Symlink(outside, filepath.Join(dir, entry))
		}},
		{"earlier entry that is a directory", ".a.tar.gz.tmp-was-1", func(dir, entry string) error {
			return os.Mkdir(filepath.Join(dir, entry), 0o755)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "a.tar.gz")
			os.WriteFile(path, []byte("mine"), 0o644)
			if err := tc.plant(dir, tc.entry); err != nil {
				t.Fatal(err)
			}
			root, err := os.OpenRoot(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer root.Close()
			if name, _, ok := Undoable(root, tc.entry); ok {
				t.Errorf("Undoable(%s) = %q, true", tc.entry, name)
			}
			err = Undo(root, tc.entry)
			if data, rerr := os.ReadFile(path); rerr != nil || string(data) != "mine" {
				t.Errorf("Undo (%v): a.tar.gz holds %q, %v; want it as it was", err, data, rerr)
			}
			if data, rerr := os.ReadFile(outside); rerr != nil || string(data) != "outside" {
				t.Errorf("the file outside holds %q, %v", data, rerr)
			}
			if info, err := os.Lstat(filepath.Join(dir, tc.entry)); err == nil && !info.IsDir() {
				t.Errorf("the entry is left")
			}
		})
	}
}

// TestSetAsideFailing: a step of SetAside that fails (a rename, when a link failed
// before it) leaves the name as it was and no entry.
func TestSetAsideFailing(t *testing.T) {
	for _, before := range []string{"old", ""} {
		for _, step := range []string{"create", "sync", "link", "rename", "syncdir"} {
			dir := t.TempDir()
			path := filepath.Join(dir, "a.tar.gz")
			if before != "" {
				os.WriteFile(path, []byte(before), 0o644)
			}
			root, err := os.OpenRoot(dir)
			if err != nil {
				t.Fatal(err)
			}
			next, err := CreateIn(root, "a.tar.gz")
			if err != nil {
				t.Fatal(err)
			}
			Fault = func(s, _ string) error {
				if s == step || step == "rename" && s == "link" {
					return syscall.ENOSPC
				}
				return nil
			}
			_, err = SetAside(root, "a.tar.gz", next)
			Fault = nil
			next.Abort()
			root.Close()
			// Steps not taken for that case, and a link, for which a rename stands in.
			if before == "" && (step == "link" || step == "rename") || before != "" && (step == "create" || step == "sync" || step == "link") {
				if err != nil {
					t.Errorf("%q, %s failing: %v", before, step, err)
				}
				continue
			}
			if err == nil {
				t.Errorf("%q, %s failing: no error", before, step)
			}
			data, rerr := os.ReadFile(path)
			if before == "" && rerr == nil || before != "" && string(data) != before {
				t.Errorf("%q, %s failing: a.tar.gz holds %q, %v", before, step, data, rerr)
			}
			if entries, _ := os.ReadDir(dir); len(entries) > 1 || len(entries) == 1 && entries[0].Name() != "a.tar.gz" {
				t.Errorf("%q, %s failing: left %v", before, step, entries)
			}
		}
	}
}

// TestUndoEntriesFitWhereTheLogTemporaryFits: the artifact name rule
// (internal/filename.MaxLen) is made for the longest name a run derives, the
// temporary of its log (".NAME.log.tmp-RANDOM"); an undo entry of the artifact is
// no longer, so it fits too.
func TestUndoEntriesFitWhereTheLogTemporaryFits(t *testing.T) {
	const maxRandom = "4294967295"
	logTemp := len("." + "NAME" + ".log" + tempMarker + maxRandom)
	for _, kind := range []string{undoWas, undoNew} {
		if n := len("." + "NAME" + tempMarker + kind + maxRandom); n > logTemp {
			t.Errorf("undo entry %q: %d bytes, the log's temporary %d", kind, n, logTemp)
		}
	}
}
