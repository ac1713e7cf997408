package filename_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	. "github.com/matrixbuild/matrix/internal/filename"
	"github.com/matrixbuild/matrix/manifest"
)

func TestWhy(t *testing.T) {
	for _, tc := range []struct {
		name string
		want string // a part of the reason; "" for a plain name
	}{
		{"sharp-0.34.5-node22-x64.tar.gz", ""},
		{"layer é.zip", ""},
		{strings.Repeat("a", MaxLen), ""},
		{"", "empty"},
		{".", "directory"},
		{"..", "directory"},
		{"a/b.tgz", "separator"},
		{`a\b.tgz`, "separator"},
		{".hidden.tgz", "starts with '.'"},
		{".matrix.lock", "starts with '.'"},
		{".a.tar.gz.tmp-123", "starts with '.'"},
		{"-rf.tgz", "option"},
		{strings.Repeat("a", MaxLen+1), "bytes long"},
		{"a\xffb.tgz", "UTF-8"},
		{"a\nb.tgz", "control"},
		{"a\u0085b.tgz", "control"},
		{"a\u202eb.tgz", "formatting"},
		{" a.tgz", "white space"},
		{"a.tgz ", "white space"},
		// The tool's own records and directory, in any case.
		{"manifest.json", `own "manifest.json"`},
		{"Manifest.JSON", `own "manifest.json"`},
		{"SHA256SUMS", `own "SHA256SUMS"`},
		{"sha256sums", `own "SHA256SUMS"`},
		{"\u017fha256sums", `own "SHA256SUMS"`}, // long s folds to s
		{"logs", `own "logs"`},
		{"Logs", `own "logs"`},
		{"LOGS", `own "logs"`},
		{"report.html", `own "report.html"`},
		{"Report.HTML", `own "report.html"`},
		// Names that only resemble them are someone's artifacts.
		{"manifest.json.zip", ""},
		{"SHA256SUMS.tar.gz", ""},
		{"logs.tgz", ""},
		{"a.log", ""},
		{"a.tar.gz.log", ""},
		{"a.tmp-1.tgz", ""},
	} {
		got := Why(tc.name)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("Why(%q) = %q, want it to say %q", tc.name, got, tc.want)
		}
		if (Check(tc.name) == nil) != (tc.want == "") {
			t.Errorf("Check(%q) = %v, disagrees with Why", tc.name, Check(tc.name))
		}
	}
}

// TestToolsOwnNamesRefused: the records the manifest package writes into the output
// directory are never an artifact's name.
func TestToolsOwnNamesRefused(t *testing.T) {
	for _, name := range []string{manifest.FileName, manifest.SumsName} {
		if Why(name) == "" {
			t.Errorf("%s passes as an artifact name", name)
		}
	}
}

// maxRandom is the longest random part os.CreateTemp puts into a name.
var maxRandom = strconv.FormatUint(math.MaxUint32, 10)

// TestDerivedNamesFit creates, for names of MaxLen bytes, every name a run derives from
// an artifact name: through atomicfile, as the run does, and at the longest each can
// be (os.CreateTemp's largest random part). A name one byte longer would not fit.
func TestDerivedNamesFit(t *testing.T) {
	for _, stem := range []string{"a", "é", "日本"} {
		name := sized(stem, MaxLen)
		if len(name) != MaxLen || Why(name) != "" {
			t.Fatalf("test name of %d bytes: %s", len(name), Why(name))
		}
		dir := t.TempDir()
		logs := filepath.Join(dir, "logs")
		if err := os.Mkdir(logs, 0o755); err != nil {
			t.Fatal(err)
		}
		// The artifact and its staged temporary; the log and its temporary.
		for _, d := range []struct{ dir, name string }{{dir, name}, {logs, name + ".log"}} {
			f, err := atomicfile.Create(d.dir, d.name)
			if err != nil {
				t.Fatalf("%d-byte name: %v", len(name), err)
			}
			temp := filepath.Base(f.Name())
			random, ok := strings.CutPrefix(temp, "."+d.name+".tmp-")
			if _, err := strconv.ParseUint(random, 10, 32); !ok || err != nil || len(random) > len(maxRandom) {
				t.Errorf("temporary %q is not .NAME.tmp-RANDOM with RANDOM a uint32", temp)
			}
			if err := f.Commit(); err != nil {
				t.Fatal(err)
			}
			longest := "." + d.name + ".tmp-" + maxRandom
			if err := os.WriteFile(filepath.Join(d.dir, longest), nil, 0o644); err != nil {
				t.Errorf("the longest temporary of a %d-byte name: %v", len(name), err)
			}
		}
		if runtime.GOOS != "linux" {
			continue
		}
		// The undo entries of the artifact and of its log (atomicfile.SetAside), made
		// and at their longest.
		for _, d := range []struct{ dir, name string }{{dir, name}, {logs, name + ".log"}} {
			root, err := os.OpenRoot(d.dir)
			if err != nil {
				t.Fatal(err)
			}
			next, err := atomicfile.CreateIn(root, d.name)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := atomicfile.SetAside(root, d.name, next); err != nil {
				t.Errorf("the undo entry of %s of a %d-byte name: %v", d.name, len(name), err)
			}
			next.Abort()
			root.Close()
			for _, kind := range []string{"was-", "new-"} {
				longest := "." + d.name + ".tmp-" + kind + maxRandom
				if err := os.WriteFile(filepath.Join(d.dir, longest), nil, 0o644); err != nil {
					t.Errorf("the longest undo entry of a %d-byte name: %v", len(name), err)
				}
			}
		}
		// The log of a failed attempt, the temporary of the log renamed.
		f, err := atomicfile.Create(logs, name+".log")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.CommitAs(name + ".log.failed"); err != nil {
			t.Errorf("the failed log of a %d-byte name: %v", len(name), err)
		}
		// The bound is tight: a byte more and the log's longest undo entry does not fit.
		over := "." + sized(stem, MaxLen+1) + ".log.tmp-was-" + maxRandom
		if err := os.WriteFile(filepath.Join(logs, over), nil, 0o644); !errors.Is(err, syscall.ENAMETOOLONG) {
			t.Errorf("a %d-byte name's log undo entry: err = %v, want ENAMETOOLONG", len(name)+1, err)
		}
	}
}

// sized is a name of n bytes: stem repeated, padded with "x", ending in ".tar.gz".
func sized(stem string, n int) string {
	const ext = ".tar.gz"
	name := strings.Repeat(stem, (n-len(ext))/len(stem))
	return name + strings.Repeat("x", n-len(ext)-len(name)) + ext
}

// FuzzWhy: a name that passes is one path element that none of the tool's own names,
// temporary names or options can be, and fits MaxLen.
func FuzzWhy(f *testing.F) {
	for _, s := range []string{"a.tgz", ".a.tgz.tmp-1", "Manifest.json", "logs", "-x", "a\u202e", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if Why(name) != "" {
			return
		}
		switch {
		case atomicfile.IsTemp(name), strings.HasPrefix(name, "."), strings.HasPrefix(name, "-"):
			t.Errorf("%q passes, but it is hidden or an option", name)
		case filepath.Base(name) != name || strings.ContainsAny(name, `/\`):
			t.Errorf("%q passes, but it is not one path element", name)
		case len(name) > MaxLen || !utf8.ValidString(name):
			t.Errorf("%q passes, but it is too long or not UTF-8", name)
		}
		for _, own := range []string{manifest.FileName, manifest.SumsName, "logs"} {
			if strings.EqualFold(name, own) {
				t.Errorf("%q passes, but it is the tool's %s", name, own)
			}
		}
	})
}
