package pack

import (
	"archive/tar"
	"errors"
	"maps"
	"strings"
	"testing"
)

func TestWriteLinks(t *testing.T) {
	tests := []struct {
		name  string
		in    []ent
		opts  Options
		want  map[string]string // archive content; nil when an error is wanted
		err   error
		entry string // EntryError.Entry wanted
		msg   string // substring of the error message wanted
		drop  []string
	}{{
		name: "plain tree",
		in:   []ent{dir("m/"), file("m/a", "A"), dir("m/d/"), exe("m/d/x", "X")},
		want: map[string]string{"m/": "<dir>", "m/a": "A", "m/d/": "<dir>", "m/d/x": "X"},
	}, {
		name: "relative symlink dereferenced",
		in:   []ent{dir("m/"), dir("m/d/"), file("m/d/a", "A"), symlink("m/l", "d/a"), symlink("m/d/up", "../d/./a")},
		want: map[string]string{"m/": "<dir>", "m/d/": "<dir>", "m/d/a": "A", "m/l": "A", "m/d/up": "A"},
	}, {
		name: "symlink chain",
		in:   []ent{dir("m/"), symlink("m/l1", "l2"), symlink("m/l2", "d/l3"), dir("m/d"), symlink("m/d/l3", "../f"), file("m/f", "F")},
		want: map[string]string{"m/": "<dir>", "m/d/": "<dir>", "m/f": "F", "m/l1": "F", "m/l2": "F", "m/d/l3": "F"},
	}, {
		name: "directory symlink copies the subtree",
		in: []ent{dir("m/"), dir("m/pkg/"), exe("m/pkg/bin", "B"), dir("m/pkg/lib/"), file("m/pkg/lib/x", "X"),
			symlink("m/pkg/lib/self", "../bin"), dir("m/.bin/"), symlink("m/.bin/pkg", "../pkg/")},
		want: map[string]string{
			"m/": "<dir>", "m/pkg/": "<dir>", "m/pkg/bin": "B", "m/pkg/lib/": "<dir>", "m/pkg/lib/x": "X", "m/pkg/lib/self": "B",
			"m/.bin/": "<dir>", "m/.bin/pkg/": "<dir>", "m/.bin/pkg/bin": "B", "m/.bin/pkg/lib/": "<dir>",
			"m/.bin/pkg/lib/x": "X", "m/.bin/pkg/lib/self": "B",
		},
	}, {
		name: "path through a symlinked directory",
		in:   []ent{dir("m/"), dir("m/real/"), file("m/real/f", "F"), symlink("m/alias", "real"), symlink("m/l", "alias/f")},
		want: map[string]string{"m/": "<dir>", "m/real/": "<dir>", "m/real/f": "F", "m/alias/": "<dir>", "m/alias/f": "F", "m/l": "F"},
	}, {
		name:  "absolute symlink",
		in:    []ent{dir("m/"), dir("m/.bin/"), symlink("m/.bin/x", "/etc/passwd")},
		err:   ErrAbsoluteLink,
		entry: "m/.bin/x",
		msg:   `m/.bin/x: symlink to "/etc/passwd": absolute link target`,
	}, {
		name:  "absolute symlink at the end of a chain",
		in:    []ent{dir("m/"), symlink("m/a", "b"), symlink("m/b", "/etc/passwd")},
		err:   ErrAbsoluteLink,
		entry: "m/b",
	}, {
		name:  "escape with ../../..",
		in:    []ent{dir("m/"), dir("m/d/"), symlink("m/d/x", "../../../etc/passwd")},
		err:   ErrEscapes,
		entry: "m/d/x",
		msg:   `m/d/x: symlink to "../../../etc/passwd": link target leaves the tree: ".." above m`,
	}, {
		name:  "escape and come back in",
		in:    []ent{dir("m/"), file("m/f", "F"), symlink("m/x", "../m/f")},
		err:   ErrEscapes,
		entry: "m/x",
	}, {
		name:  "escape through a symlinked directory",
		in:    []ent{dir("m/"), dir("m/a/"), dir("m/a/b/"), symlink("m/link", "a/b"), symlink("m/x", "link/../../..")},
		err:   ErrEscapes,
		entry: "m/x", // "link/../../.." is m/a/b/../../.., above m
	}, {
		name:  "escape through a symlinked directory two levels up",
		in:    []ent{dir("m/"), dir("m/a/"), dir("m/a/b/"), symlink("m/l", "a/b"), symlink("m/x", "l/../../../etc")},
		err:   ErrEscapes,
		entry: "m/x",
	}, {
		name:  "loop a->b->a",
		in:    []ent{dir("m/"), symlink("m/a", "b"), symlink("m/b", "a")},
		err:   ErrLoop,
		entry: "m/a",
	}, {
		name:  "self loop",
		in:    []ent{dir("m/"), symlink("m/a", "./a")},
		err:   ErrLoop,
		entry: "m/a",
	}, {
		name:  "directory symlink to ..",
		in:    []ent{dir("m/"), dir("m/d/"), symlink("m/d/up", "..")},
		err:   ErrLoop,
		entry: "m/d/up",
		msg:   `m/d/up: symlink to "..": link loop: directory m contains the link`,
	}, {
		name:  "directory symlink to .",
		in:    []ent{dir("m/"), symlink("m/self", ".")},
		err:   ErrLoop,
		entry: "m/self",
	}, {
		name:  "mutual directory symlinks",
		in:    []ent{dir("m/"), dir("m/a/"), dir("m/b/"), symlink("m/a/tob", "../b"), symlink("m/b/toa", "../a")},
		err:   ErrLoop,
		entry: "m/b/toa",
	}, {
		name:  "directory symlink to .. at the top",
		in:    []ent{dir("m/"), symlink("m/up", "..")},
		err:   ErrEscapes,
		entry: "m/up",
	}, {
		name:  "dangling",
		in:    []ent{dir("m/"), symlink("m/x", "missing")},
		err:   ErrDangling,
		entry: "m/x",
		msg:   `m/x: symlink to "missing": dangling link: m/missing does not exist`,
	}, {
		name:  "dangling through a file",
		in:    []ent{dir("m/"), file("m/f", "F"), symlink("m/x", "f/g")},
		err:   ErrDangling,
		entry: "m/x",
	}, {
		name: "dangling dropped",
		in:   []ent{dir("m/"), file("m/f", "F"), symlink("m/x", "missing"), dir("m/d/"), symlink("m/d/y", "../f/")},
		opts: Options{AllowDangling: true},
		want: map[string]string{"m/": "<dir>", "m/f": "F", "m/d/": "<dir>"},
		drop: []string{"m/d/y", "m/x"},
	}, {
		name: "dangling dropped keeps failing on escapes",
		in:   []ent{dir("m/"), symlink("m/x", "../../x")},
		opts: Options{AllowDangling: true},
		err:  ErrEscapes,
	}, {
		name: "hard link after its target",
		in:   []ent{dir("m/"), exe("m/a", "A"), hardlink("m/b", "m/a")},
		want: map[string]string{"m/": "<dir>", "m/a": "A", "m/b": "A"},
	}, {
		name:  "hard link before its target",
		in:    []ent{dir("m/"), hardlink("m/b", "m/a"), file("m/a", "A")},
		err:   ErrDangling,
		entry: "m/b",
		msg:   `m/b: hard link to "m/a": dangling link: m/a is not earlier in the stream`,
	}, {
		name: "hard link with ./ prefix to a symlink",
		in:   []ent{dir("m/"), dir("m/d/"), file("m/d/f", "F"), symlink("m/d/l", "f"), file("m/f", "G"), hardlink("m/h", "./m/d/l")},
		want: map[string]string{"m/": "<dir>", "m/d/": "<dir>", "m/d/f": "F", "m/d/l": "F", "m/f": "G", "m/h": "G"},
	}, {
		name:  "hard link to a missing name",
		in:    []ent{dir("m/"), hardlink("m/b", "m/missing")},
		opts:  Options{AllowDangling: true},
		err:   ErrDangling,
		entry: "m/b",
		msg:   `m/b: hard link to "m/missing": dangling link: m/missing is not earlier in the stream`,
	}, {
		name:  "hard link outside the tree",
		in:    []ent{dir("m/"), hardlink("m/b", "etc/passwd")},
		err:   ErrEscapes,
		entry: "m/b",
	}, {
		name:  "hard link with ..",
		in:    []ent{dir("m/"), hardlink("m/b", "m/../../etc/passwd")},
		err:   ErrEscapes,
		entry: "m/b",
	}, {
		name:  "absolute hard link",
		in:    []ent{dir("m/"), hardlink("m/b", "/etc/passwd")},
		err:   ErrAbsoluteLink,
		entry: "m/b",
	}, {
		name:  "hard link loop",
		in:    []ent{dir("m/"), hardlink("m/a", "m/b"), hardlink("m/b", "m/a")},
		err:   ErrDangling, // a loop needs a forward reference, refused as such
		entry: "m/a",
	}, {
		name:  "hard link to a directory",
		in:    []ent{dir("m/"), dir("m/d/"), hardlink("m/b", "m/d")},
		err:   ErrUnsupportedType,
		entry: "m/b",
	}, {
		name:  "collected path is a symlink",
		in:    []ent{symlink("m", "etc")},
		err:   ErrEscapes,
		entry: "m",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, format := range []string{"tar.gz", "zip"} {
				opts := tt.opts
				opts.Format = format
				out, st, err := pack(t, stream(t, tt.in...), opts)
				if tt.err != nil {
					checkErr(t, err, tt.err, tt.entry, tt.msg)
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", format, err)
				}
				if got := contents(t, out, format); !maps.Equal(got, tt.want) {
					t.Errorf("%s: archive holds\n%v\nwant\n%v", format, got, tt.want)
				}
				if strings.Join(st.Dropped, ",") != strings.Join(tt.drop, ",") {
					t.Errorf("Dropped = %q, want %q", st.Dropped, tt.drop)
				}
			}
		})
	}
}

func checkErr(t *testing.T, err, want error, entry, msg string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
	var ee *EntryError
	if !errors.As(err, &ee) {
		t.Fatalf("error %v is not an *EntryError", err)
	}
	if entry != "" && ee.Entry != entry {
		t.Errorf("error %q names %q, want %q", err, ee.Entry, entry)
	}
	if msg != "" && err.Error() != msg {
		t.Errorf("error\n%s\nwant\n%s", err, msg)
	}
}

func TestWriteRejects(t *testing.T) {
	long := "m/" + strings.Repeat("x", 4100)
	tests := []struct {
		name  string
		in    []ent
		opts  Options
		err   error
		entry string
	}{
		{"char device", []ent{dir("m/"), {name: "m/null", typ: tar.TypeChar}}, Options{}, ErrUnsupportedType, "m/null"},
		{"block device", []ent{dir("m/"), {name: "m/sda", typ: tar.TypeBlock}}, Options{}, ErrUnsupportedType, "m/sda"},
		{"fifo", []ent{dir("m/"), {name: "m/p", typ: tar.TypeFifo}}, Options{}, ErrUnsupportedType, "m/p"},
		{"socket", []ent{dir("m/"), {name: "m/s", typ: 's'}}, Options{}, ErrUnsupportedType, "m/s"},
		{"dot-dot name", []ent{dir("m/"), file("m/../../etc/x", "X")}, Options{}, ErrBadName, "m/../../etc/x"},
		{"absolute name", []ent{dir("m/"), file("/etc/x", "X")}, Options{}, ErrBadName, "/etc/x"},
		{"other base", []ent{dir("m/"), file("n/x", "X")}, Options{}, ErrBadName, "n/x"},
		{"control character", []ent{dir("m/"), file("m/a\nb", "X")}, Options{}, ErrBadName, "m/a\nb"},
		{"backslash", []ent{dir("m/"), file(`m/..\..\x`, "X")}, Options{}, ErrBadName, `m/..\..\x`},
		{"too long", []ent{dir("m/"), file(long, "X")}, Options{}, ErrBadName, long},
		{"file and directory of one name", []ent{dir("m/"), file("m/a", "X"), dir("m/a/")}, Options{}, ErrConflict, "m/a"},
		{"entry below a file", []ent{dir("m/"), file("m/a", "X"), file("m/a/b", "Y")}, Options{}, ErrConflict, "m/a/b"},
		{"entry below a symlink", []ent{dir("m/"), dir("m/d/"), symlink("m/a", "d"), file("m/a/b", "Y")}, Options{}, ErrConflict, "m/a/b"},
		{"content over MaxSize", []ent{dir("m/"), file("m/a", "12345"), file("m/b", "123456")}, Options{MaxSize: 10}, ErrTooLarge, "m/b"},
		{"dereferenced content over MaxSize", []ent{dir("m/"), file("m/a", "123456"), symlink("m/b", "a")}, Options{MaxSize: 10}, ErrTooLarge, "m/b"},
		{"entries over MaxEntries", []ent{dir("m/"), file("m/a", ""), file("m/b", ""), file("m/c", "")}, Options{MaxEntries: 3}, ErrTooManyEntries, "m/c"},
		{"dereferenced entries over MaxEntries", []ent{dir("m/"), dir("m/d/"), file("m/d/a", ""), symlink("m/e", "d")}, Options{MaxEntries: 4}, ErrTooManyEntries, "m/d/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := pack(t, stream(t, tt.in...), tt.opts)
			checkErr(t, err, tt.err, tt.entry, "")
		})
	}
}
