package merge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/lock"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/plan"
)

const specSHA = "5ec"

func cell(name string) plan.Cell {
	return plan.Cell{Target: "t", Axes: []plan.Axis{{Name: "n", Value: name}}, Script: "true", Workdir: "/build",
		LockFiles: []string{"package-lock.json"}, Artifact: name}
}

// shardDir writes an output directory of a run that built files (name: content).
func shardDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	m := &manifest.Manifest{Tool: "matrix", RunID: filepath.Base(dir), Spec: manifest.SpecFile{Path: "m.hcl", SHA256: specSHA},
		Artifacts: []manifest.Artifact{}, Failed: []manifest.Failure{}}
	for name, content := range files {
		write(t, filepath.Join(dir, name), content)
		write(t, filepath.Join(dir, "logs", name+".log"), "log of "+name+"\n")
		sum := sha256.Sum256([]byte(content))
		m.Artifacts = append(m.Artifacts, manifest.Artifact{File: name, RunID: m.RunID, SHA256: hex.EncodeToString(sum[:]),
			Size: int64(len(content)), Engine: "e", Log: "logs/" + name + ".log"})
	}
	if err := manifest.Write(dir, m); err != nil {
		t.Fatal(err)
	}
	return dir
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// withLock gives a shard directory the lock file its run wrote: an entry per cell and
// a pinned call answered with versions.
func withLock(t *testing.T, dir string, cells []plan.Cell, versions ...string) string {
	t.Helper()
	f := &lock.File{Version: lock.Version, Cells: map[string]*lock.Entry{}}
	for _, c := range cells {
		if err := f.Record(c, "", map[string][]byte{"package-lock.json": []byte("{}\n")}); err != nil {
			t.Fatal(err)
		}
	}
	f.AddResolved([]lock.Resolution{{Call: `npm_versions("x")`, Function: "npm_versions", Versions: versions, ResolvedAt: time.Unix(1, 0)}})
	if err := f.Write(filepath.Join(dir, lock.FileName)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestMergeRefusesWhatIsWrong: each hostile or inconsistent shard set fails the merge
// with an error saying what and where, and leaves nothing: no OUT, no temporary, no
// lock file.
func TestMergeRefusesWhatIsWrong(t *testing.T) {
	cells := []plan.Cell{cell("a.tar.gz"), cell("b.tar.gz")}
	for _, tc := range []struct {
		name   string
		shards func(t *testing.T) []string
		out    func(t *testing.T, out string)
		want   []string
	}{
		{"an artifact that is a link", func(t *testing.T) []string {
			a, b := shardDir(t, map[string]string{"a.tar.gz": "A"}), shardDir(t, map[string]string{"b.tar.gz": "B"})
			secret := filepath.Join(t.TempDir(), "secret")
			write(t, secret, "B")
			os.Remove(filepath.Join(b, "b.tar.gz"))
			if err := os.Symlink(secret, filepath.Join(b, "b.tar.gz")); err != nil {
				t.Fatal(err)
			}
			return []string{a, b}
		}, nil, []string{"b.tar.gz does not match its record", "symbolic link"}},
		{"a log that is a link", func(t *testing.T) []string {
			a := shardDir(t, map[string]string{"a.tar.gz": "A", "b.tar.gz": "B"})
			os.Remove(filepath.Join(a, "logs", "b.tar.gz.log"))
			if err := os.Symlink("/etc/passwd", filepath.Join(a, "logs", "b.tar.gz.log")); err != nil {
				t.Fatal(err)
			}
			return []string{a}
		}, nil, []string{"the log of b.tar.gz", "symbolic link"}},
		{"a longer file than recorded", func(t *testing.T) []string {
			a := shardDir(t, map[string]string{"a.tar.gz": "A", "b.tar.gz": "B"})
			write(t, filepath.Join(a, "b.tar.gz"), "BBBB")
			return []string{a}
		}, nil, []string{"b.tar.gz does not match its record", "changed"}},
		{"the same artifact with other bytes", func(t *testing.T) []string {
			return []string{shardDir(t, map[string]string{"a.tar.gz": "A", "b.tar.gz": "B"}), shardDir(t, map[string]string{"b.tar.gz": "b"})}
		}, nil, []string{"b.tar.gz: built with different bytes by two shards"}},
		{"a missing cell", func(t *testing.T) []string {
			return []string{shardDir(t, map[string]string{"a.tar.gz": "A"})}
		}, nil, []string{"1 planned cell(s) built by no shard: b.tar.gz"}},
		{"another matrix file", func(t *testing.T) []string {
			d := shardDir(t, map[string]string{"a.tar.gz": "A", "b.tar.gz": "B"})
			m, _ := manifest.Read(d)
			m.Spec.SHA256 = "other"
			if err := manifest.Write(d, m); err != nil {
				t.Fatal(err)
			}
			return []string{d}
		}, nil, []string{"its run read a matrix file of sha256 other"}},
		{"pins that disagree", func(t *testing.T) []string {
			return []string{
				withLock(t, shardDir(t, map[string]string{"a.tar.gz": "A"}), cells[:1], "1.0.0"),
				withLock(t, shardDir(t, map[string]string{"b.tar.gz": "B"}), cells[1:], "1.0.0", "1.1.0"),
			}
		}, nil, []string{`pins npm_versions("x") with another answer`}},
		{"an OUT that holds something", func(t *testing.T) []string {
			return []string{shardDir(t, map[string]string{"a.tar.gz": "A", "b.tar.gz": "B"})}
		}, func(t *testing.T, out string) {
			if err := os.Mkdir(out, 0o755); err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(out, "x"), "")
		}, []string{"not empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			out := filepath.Join(parent, "out")
			if tc.out != nil {
				tc.out(t, out)
			}
			before, _ := os.ReadDir(parent)
			lockPath := filepath.Join(parent, lock.FileName)
			_, err := Merge(context.Background(), Options{Out: out, Shards: tc.shards(t), Cells: cells,
				Spec: manifest.SpecFile{Path: "m.hcl", SHA256: specSHA}, LockPath: lockPath, LockName: lock.FileName,
				RunID: "merge", Now: time.Now})
			for _, want := range tc.want {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v, want it to say %q", err, want)
				}
			}
			after, _ := os.ReadDir(parent)
			if len(after) != len(before) {
				t.Errorf("the failed merge left %v in %s (before: %v)", after, parent, before)
			}
		})
	}
}

// TestMergeJoins: artifacts of two shards, one taken from both with the same bytes,
// their logs, one record naming the shards, and the shards' lock entries and pins.
func TestMergeJoins(t *testing.T) {
	cells := []plan.Cell{cell("a.tar.gz"), cell("b.tar.gz"), {Target: "t", Artifact: "s.tar.gz", Skip: "not today"}}
	a := withLock(t, shardDir(t, map[string]string{"a.tar.gz": "A", "b.tar.gz": "B"}), cells[:1], "1.0.0")
	b := withLock(t, shardDir(t, map[string]string{"b.tar.gz": "B"}), cells[1:2], "1.0.0")
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	lockPath := filepath.Join(parent, lock.FileName)
	res, err := Merge(context.Background(), Options{Out: out, Shards: []string{a, b}, Cells: cells,
		Spec: manifest.SpecFile{Path: "m.hcl", SHA256: specSHA}, LockPath: lockPath, LockName: lock.FileName,
		RunID: "merge", Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	if res.Duplicates != 1 || !res.LockWritten || len(res.Manifest.Shards) != 2 || res.Manifest.Shards[0].Artifacts != 2 ||
		len(res.Manifest.Skipped) != 1 || res.Manifest.RunID != "merge" {
		t.Errorf("result %+v, manifest %+v", res, res.Manifest)
	}
	rep, err := manifest.Verify(context.Background(), out)
	if err != nil || len(rep.Problems) > 0 || rep.Checked != 2 || len(rep.Unlisted) > 0 {
		t.Errorf("verify: %+v, %v", rep, err)
	}
	if data, err := os.ReadFile(filepath.Join(out, "logs", "b.tar.gz.log")); err != nil || string(data) != "log of b.tar.gz\n" {
		t.Errorf("log of b: %q, %v", data, err)
	}
	f, err := lock.Read(lockPath)
	if err != nil || len(f.Cells) != 2 || len(f.Resolved) != 1 {
		t.Errorf("joined lock: %+v, %v", f, err)
	}
}
