package manifest

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/internal/atomicfile"
)

// TestVerifyReportsReplacements: the undo entries a stopped run left are decided
// against the record: a replacement over a listed artifact that the record does not
// vouch for is a problem that says how to finish it; the others (the record vouches
// for the file, or does not list it) are notes. Verify changes nothing. What is
// planted under an entry's name (an empty new entry, one of the records' names, a
// link) is no replacement: neither a problem nor a note.
func TestVerifyReportsReplacements(t *testing.T) {
	for _, tc := range []struct {
		name     string
		file     string // the artifact's content on disk
		listed   bool   // the record lists it as "aaa"
		entry    string // the undo entry: ".a.tar.gz.tmp-was-1" holding "aaa", or ".a.tar.gz.tmp-new-1" made by SetAside
		stands   bool
		problem  string // in the one problem; "" for a note
		wantNote string
		planted  string // "file": entry written by hand, empty; "link": a link to the artifact
	}{
		{"recorded, earlier left over", "aaa", true, ".a.tar.gz.tmp-was-1", true, "", "left over: the next matrix run removes it", ""},
		{"replaced, not recorded", "new", true, ".a.tar.gz.tmp-was-1", false, "the next matrix run puts it back (or by hand, in the directory: mv .a.tar.gz.tmp-was-1 a.tar.gz)", "", ""},
		{"new, not recorded", "new", false, ".a.tar.gz.tmp-new-1", false, "", "the next matrix run removes it (or by hand, in the directory: rm a.tar.gz .a.tar.gz.tmp-new-1)", ""},
		{"new, recorded", "aaa", true, ".a.tar.gz.tmp-new-1", true, "", "left over from the run that put it there", ""},
		{"new, listed but changed", "new", true, ".a.tar.gz.tmp-new-1", false, "the next matrix run removes it", "", ""},
		{"planted new entry", "new", false, ".a.tar.gz.tmp-new-1", false, "", "", "file"},
		{"planted new entry of a listed artifact", "aaa", true, ".a.tar.gz.tmp-new-1", false, "", "", "file"},
		{"planted new entry of the manifest", "aaa", true, ".manifest.json.tmp-new-1", false, "", "", "file"},
		{"planted new entry of SHA256SUMS", "aaa", true, ".SHA256SUMS.tmp-new-1", false, "", "", "file"},
		{"planted new entry of logs", "aaa", true, ".logs.tmp-new-1", false, "", "", "file"},
		{"planted earlier entry of the manifest", "aaa", true, ".manifest.json.tmp-was-1", false, "", "", "file"},
		{"planted earlier entry that is a link", "aaa", true, ".a.tar.gz.tmp-was-1", false, "", "", "link"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			a := artifactIn(t, dir, "a.tar.gz", "aaa")
			m := &Manifest{RunID: "r"}
			if tc.listed {
				m.Artifacts = []Artifact{a}
			}
			if err := Write(dir, m); err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.planted == "file":
				os.WriteFile(filepath.Join(dir, "a.tar.gz"), []byte(tc.file), 0o644)
				os.WriteFile(filepath.Join(dir, tc.entry), nil, 0o644)
			case tc.planted == "link":
				os.WriteFile(filepath.Join(dir, "a.tar.gz"), []byte(tc.file), 0o644)
				os.Symlink("a.tar.gz", filepath.Join(dir, tc.entry))
			case strings.Contains(tc.entry, "was"):
				os.WriteFile(filepath.Join(dir, "a.tar.gz"), []byte(tc.file), 0o644)
				os.WriteFile(filepath.Join(dir, tc.entry), []byte("aaa"), 0o644)
			default: // a new artifact put in place by SetAside and a rename
				os.Remove(filepath.Join(dir, "a.tar.gz"))
				setAsideNew(t, dir, "a.tar.gz", tc.file, tc.entry)
			}
			before := files(t, dir)

			rec, err := ReadRecord(dir)
			if err != nil {
				t.Fatal(err)
			}
			found, err := rec.Replaced(context.Background())
			if tc.planted != "" {
				if err != nil || len(found) != 0 {
					t.Errorf("Replaced: %+v, %v; want nothing", found, err)
				}
			} else if err != nil || len(found) != 1 || found[0].File != "a.tar.gz" || found[0].Entry != tc.entry || found[0].Stands != tc.stands {
				t.Errorf("Replaced: %+v, %v", found, err)
			}
			rep, err := Verify(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			var problems []string
			for _, p := range rep.Problems {
				problems = append(problems, p.String())
			}
			all := strings.Join(problems, "\n")
			if tc.problem != "" && !strings.Contains(all, tc.problem) || tc.problem == "" && len(problems) > 0 {
				t.Errorf("problems:\n%s\nwant one saying %q", all, tc.problem)
			}
			if tc.wantNote != "" && (len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0].Reason, tc.wantNote)) || tc.wantNote == "" && len(rep.Notes) > 0 {
				t.Errorf("notes %v, want one saying %q", rep.Notes, tc.wantNote)
			}
			if after := files(t, dir); !maps.Equal(before, after) {
				t.Errorf("verify changed the directory: %v, then %v", before, after)
			}
		})
	}
}

// setAsideNew puts content in place as dir/name, where there was no file, the way a
// run does (atomicfile.SetAside, then the rename), its undo entry renamed to entry.
func setAsideNew(t *testing.T, dir, name, content, entry string) {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	f, err := atomicfile.CreateIn(root, name)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(content)
	made, err := atomicfile.SetAside(root, name, f)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := root.Rename(made, entry); err != nil {
		t.Fatal(err)
	}
}

// files maps each entry of dir to its content.
func files(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		out[e.Name()] = string(data)
	}
	return out
}
