package merge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/lock"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/plan"
	"github.com/matrixbuild/matrix/provenance"
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
	writeRecords(t, dir, m, nil)
	return dir
}

// writeRecords writes m with its statement, as a run does; edit, when not nil,
// changes the statement first.
func writeRecords(t *testing.T, dir string, m *manifest.Manifest, edit func(*provenance.Statement)) {
	t.Helper()
	prov, err := provenance.Build(m, provenance.Inputs{NpmLocks: npmLocks(m)})
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil && prov != nil {
		st, err := provenance.Parse(prov)
		if err != nil {
			t.Fatal(err)
		}
		edit(st)
		if prov, err = json.Marshal(st); err != nil {
			t.Fatal(err)
		}
		prov = append(prov, '\n')
	}
	if err := manifest.WriteWithProvenance(dir, m, prov); err != nil {
		t.Fatal(err)
	}
}

// npmLocks gives each artifact a package-lock.json of one tarball its own and one
// all share.
func npmLocks(m *manifest.Manifest) map[string][]byte {
	out := map[string][]byte{}
	for _, a := range m.Artifacts {
		out[a.File] = []byte(`{"lockfileVersion":3,"packages":{"":{},` +
			`"node_modules/shared":{"version":"1.0.0","resolved":"https://r.invalid/shared.tgz","integrity":"sha512-AAAA"},` +
			`"node_modules/own-` + strings.TrimSuffix(a.File, ".tar.gz") + `":{"version":"1.0.0","resolved":"https://r.invalid/own.tgz","integrity":"sha512-BBBB"}}}`)
	}
	return out
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
			writeRecords(t, d, m, nil)
			return []string{d}
		}, nil, []string{"its run read a matrix file of sha256 other"}},
		{"a shard without a statement", func(t *testing.T) []string {
			d := shardDir(t, map[string]string{"a.tar.gz": "A", "b.tar.gz": "B"})
			m, _ := manifest.Read(d)
			m.ProvenanceSHA256 = ""
			if err := manifest.Write(d, m); err != nil {
				t.Fatal(err)
			}
			return []string{d}
		}, nil, []string{"records no provenance.intoto.jsonl"}},
		{"a statement changed", func(t *testing.T) []string {
			d := shardDir(t, map[string]string{"a.tar.gz": "A", "b.tar.gz": "B"})
			data, _ := os.ReadFile(filepath.Join(d, provenance.FileName))
			write(t, filepath.Join(d, provenance.FileName), strings.Replace(string(data), `"b.tar.gz"`, `"c.tar.gz"`, 1))
			return []string{d}
		}, nil, []string{"provenance.intoto.jsonl: sha256 ", "it was changed"}},
		{"a statement with a subject more than SHA256SUMS", func(t *testing.T) []string {
			d := shardDir(t, map[string]string{"a.tar.gz": "A", "b.tar.gz": "B"})
			m, _ := manifest.Read(d)
			st, err := os.ReadFile(filepath.Join(d, provenance.FileName))
			if err != nil {
				t.Fatal(err)
			}
			// Written by hand: WriteWithProvenance refuses such a statement.
			extra := strings.Replace(string(st), `"subject":[`, `"subject":[{"name":"evil.tar.gz","digest":{"sha256":"`+strings.Repeat("e", 64)+`"}},`, 1)
			write(t, filepath.Join(d, provenance.FileName), extra)
			sum := sha256.Sum256([]byte(extra))
			m.ProvenanceSHA256 = hex.EncodeToString(sum[:])
			if err := manifest.Write(d, m); err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(d, provenance.FileName), extra) // Write removed it
			return []string{d}
		}, nil, []string{"provenance.intoto.jsonl: its subjects are not the lines of SHA256SUMS"}},
		{"shards built with other variables", func(t *testing.T) []string {
			b := shardDir(t, map[string]string{"b.tar.gz": "B"})
			m, _ := manifest.Read(b)
			writeRecords(t, b, m, func(st *provenance.Statement) {
				st.Predicate.BuildDefinition.ExternalParameters.Variables = map[string]json.RawMessage{"salt": json.RawMessage(`"x"`)}
			})
			return []string{shardDir(t, map[string]string{"a.tar.gz": "A"}), b}
		}, nil, []string{"disagree on how they were built"}},
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
	checkStatement(t, out, res.Manifest, map[string]string{a: "a.tar.gz b.tar.gz", b: ""})
}

// TestMergeStatementTakesOnlyTaken: a shard whose statement names dependencies of an
// artifact the merge did not take from it (another shard's, or one of no cell) adds
// nothing to those: the merged statement's subjects are exactly SHA256SUMS, and each
// dependency lists only the artifacts taken from the shard that named it.
func TestMergeStatementTakesOnlyTaken(t *testing.T) {
	cells := []plan.Cell{cell("a.tar.gz"), cell("b.tar.gz")}
	a := shardDir(t, map[string]string{"a.tar.gz": "A", "x.tar.gz": "X"})
	b := shardDir(t, map[string]string{"b.tar.gz": "B"})
	m, _ := manifest.Read(b)
	writeRecords(t, b, m, func(st *provenance.Statement) {
		deps := &st.Predicate.BuildDefinition.ResolvedDependencies
		*deps = append(*deps,
			provenance.ResourceDescriptor{URI: "pkg:npm/evil@6.6.6", Digest: map[string]string{"sha512": "ee"},
				Annotations: map[string]any{"artifacts": []any{"a.tar.gz", "x.tar.gz"}}},
			provenance.ResourceDescriptor{URI: "pkg:npm/also@1.0.0", Digest: map[string]string{"sha512": "ff"},
				Annotations: map[string]any{"artifacts": []any{"a.tar.gz", "b.tar.gz"}}})
	})
	out := filepath.Join(t.TempDir(), "out")
	res, err := Merge(context.Background(), Options{Out: out, Shards: []string{a, b}, Cells: cells,
		Spec: manifest.SpecFile{Path: "m.hcl", SHA256: specSHA}, RunID: "merge", Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	st := checkStatement(t, out, res.Manifest, map[string]string{a: "a.tar.gz", b: "b.tar.gz"})
	for _, d := range st.Predicate.BuildDefinition.ResolvedDependencies {
		arts := fmt.Sprint(d.Annotations["artifacts"])
		switch {
		case d.URI == "pkg:npm/evil@6.6.6" || strings.Contains(arts, "x.tar.gz") || d.URI == "pkg:npm/own-x@1.0.0":
			t.Errorf("a dependency of what was not taken: %+v", d)
		case d.URI == "pkg:npm/also@1.0.0" && arts != "[b.tar.gz]":
			t.Errorf("a dependency b's shard named for a too: %+v", d)
		case d.URI == "pkg:npm/shared@1.0.0" && arts != "[a.tar.gz b.tar.gz]":
			t.Errorf("the dependency both shards used, joined: %+v", d)
		}
	}
}

// checkStatement reads the merged statement in out and checks it against out's
// SHA256SUMS, the manifest's record of it, and the shards' statements (taken: by
// shard directory, the artifact taken from it, "" for none).
func checkStatement(t *testing.T, out string, m *manifest.Manifest, taken map[string]string) *provenance.Statement {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, provenance.FileName))
	if err != nil {
		t.Fatal(err)
	}
	st, err := provenance.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	sums, err := os.ReadFile(filepath.Join(out, manifest.SumsName))
	if err != nil {
		t.Fatal(err)
	}
	if err := provenance.CheckSubjects(st, sums); err != nil {
		t.Errorf("merged statement: %v", err)
	}
	rec, err := manifest.Read(out)
	sum := sha256.Sum256(data)
	if err != nil || rec.ProvenanceSHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("the merged manifest records statement %q, %v", rec.ProvenanceSHA256, err)
	}
	rd := st.Predicate.RunDetails
	if rd.Metadata.InvocationID != m.RunID {
		t.Errorf("invocationId %q, want the merge's %q", rd.Metadata.InvocationID, m.RunID)
	}
	var want []string
	for dir, name := range taken {
		if name == "" {
			continue
		}
		shard, err := manifest.Read(dir)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, shard.RunID+" "+shard.ProvenanceSHA256+" ["+name+"]")
	}
	var got []string
	for _, b := range rd.Byproducts {
		got = append(got, fmt.Sprint(b.Annotations["invocationId"], " ", b.Digest["sha256"], " ", b.Annotations["artifacts"]))
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("byproducts %v, want the shard statements %v", got, want)
	}
	deps := st.Predicate.BuildDefinition.ResolvedDependencies
	if !slices.IsSortedFunc(deps, func(a, b provenance.ResourceDescriptor) int {
		return strings.Compare(a.Name+"\x00"+a.URI, b.Name+"\x00"+b.URI)
	}) || len(deps) == 0 {
		t.Errorf("resolvedDependencies not sorted, or none: %+v", deps)
	}
	return st
}
