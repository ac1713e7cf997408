package runner

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/manifest"
)

// treeExec builds every cell with the tree of files it holds (name: content).
type treeExec struct {
	*fakeExec
	files map[string]string
}

func (e *treeExec) Build(ctx context.Context, job executor.Job, collect func(io.Reader) error) (executor.Files, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "node_modules/", Typeflag: tar.TypeDir, Mode: 0o755})
	for name, content := range e.files {
		tw.WriteHeader(&tar.Header{Name: "node_modules/" + name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(content))})
		tw.Write([]byte(content))
	}
	tw.Close()
	return executor.Files{}, collect(&buf)
}

// TestRunLockedProvesItsBytes: a cell installed from its lock entry whose artifact
// is not the one the entry records fails, naming the artifact, both sha256s and,
// compared with the earlier artifact of that sha256 in the output directory, the
// entries that differ; the earlier artifact and its record stay, and nothing of the
// new one is left. With AllowDrift it is kept, recorded as drifted, with a warning.
func TestRunLockedProvesItsBytes(t *testing.T) {
	recorded := map[string]string{"sharp/index.js": "sharp", "@img/sharp-linux-x64/lib.node": "glibc"}
	drifted := map[string]string{"sharp/index.js": "sharp", "@img/sharp-linux-x64/lib.node": "glibc!", "@img/sharp-linuxmusl-x64/lib.node": "musl"}
	for _, tc := range []struct {
		name       string
		files      map[string]string
		lockSHA    string // "": the sha256 of the first build
		allowDrift bool
		wantErr    []string
	}{
		{name: "same bytes", files: recorded},
		{name: "drift", files: drifted, wantErr: []string{
			"a.tar.gz drifted from the lock", "first differing entries",
			"node_modules/@img/sharp-linux-x64/lib.node: 6 bytes, sha256 ", "| 5 bytes, sha256 ",
			"node_modules/@img/sharp-linuxmusl-x64/: directory | absent",
			"node_modules/@img/sharp-linuxmusl-x64/lib.node: 4 bytes, sha256 ", "--allow-drift",
		}},
		{name: "drift, nothing to compare with", files: recorded, lockSHA: strings.Repeat("0", 64), wantErr: []string{
			"a.tar.gz drifted from the lock", "the lock entry records " + strings.Repeat("0", 64), "no artifact of sha256 " + strings.Repeat("0", 64),
		}},
		{name: "drift allowed", files: drifted, allowDrift: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := options(t)
			opts.RunID = "first"
			cs := cells("a.tar.gz")
			if _, err := readAndRun(context.Background(), []executor.Executor{&treeExec{&fakeExec{}, recorded}}, cs, opts); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(opts.OutDir, "a.tar.gz")
			earlier, _ := os.ReadFile(path)
			m, _ := manifest.Read(opts.OutDir)
			first := m.Artifacts[0].SHA256
			want := tc.lockSHA
			if want == "" {
				want = first
			}
			var progress bytes.Buffer
			// Force: installed from an entry of the first build's sha256, the cell
			// would reuse that build's artifact.
			opts.RunID, opts.Progress, opts.AllowDrift, opts.Force = "locked", &progress, tc.allowDrift, true
			opts.Locked = map[string]executor.Files{"a.tar.gz": {"package-lock.json": []byte("{}")}}
			opts.LockedSHA256 = map[string]string{"a.tar.gz": want}
			results, err := readAndRun(context.Background(), []executor.Executor{&treeExec{&fakeExec{}, tc.files}}, cs, opts)
			m, merr := manifest.Read(opts.OutDir)
			if merr != nil {
				t.Fatal(merr)
			}
			if tc.wantErr != nil {
				var derr *DriftError
				if err == nil || !errors.As(results[0].Err, &derr) {
					t.Fatalf("run: %v, cell: %v; want a DriftError", err, results[0].Err)
				}
				for _, w := range append(tc.wantErr, derr.SHA256) {
					if !strings.Contains(results[0].Err.Error(), w) {
						t.Errorf("the error does not say %q:\n%v", w, results[0].Err)
					}
				}
				if now, _ := os.ReadFile(path); !bytes.Equal(now, earlier) {
					t.Error("the earlier artifact was replaced")
				}
				if len(m.Artifacts) != 1 || m.Artifacts[0].RunID != "first" || len(m.Failed) != 1 {
					t.Errorf("records: %+v, failed %+v", m.Artifacts, m.Failed)
				}
				assertClean(t, opts.OutDir)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			a := m.Artifacts[0]
			drift := tc.allowDrift
			if a.RunID != "locked" || a.LockSHA256 != want || a.Drift != drift || m.AllowDrift != tc.allowDrift || (a.SHA256 == want) == drift {
				t.Errorf("record %+v, allow_drift %v", a, m.AllowDrift)
			}
			if drift && !strings.Contains(progress.String(), "matrix: warning: a.tar.gz drifted from the lock") {
				t.Errorf("no warning:\n%s", progress.String())
			}
		})
	}
}

// TestRunReuseOfTheBuildThatRecordedTheLock: under --reuse, a cell installed from its
// lock entry reuses the artifact of the run that resolved anew and recorded the entry
// (same inputs but the locked files, and the sha256 the entry records), and an
// artifact of another sha256 is built again.
func TestRunReuseOfTheBuildThatRecordedTheLock(t *testing.T) {
	opts := options(t)
	opts.RunID = "resolved"
	cs := cells("a.tar.gz")
	cs[0].LockFiles = []string{"package-lock.json"}
	if _, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cs, opts); err != nil {
		t.Fatal(err)
	}
	m, _ := manifest.Read(opts.OutDir)
	recorded := m.Artifacts[0].SHA256
	opts.Reuse = true
	opts.Locked = map[string]executor.Files{"a.tar.gz": {"package-lock.json": []byte("lock of a.tar.gz: ")}}
	for _, tc := range []struct {
		lockSHA string
		builds  int
	}{{recorded, 0}, {strings.Repeat("0", 64), 1}, {"", 1}} {
		exec := &fakeExec{}
		opts.RunID, opts.LockedSHA256 = "locked", map[string]string{"a.tar.gz": tc.lockSHA}
		readAndRun(context.Background(), []executor.Executor{exec}, cs, opts)
		if n := exec.calls("a.tar.gz"); n != tc.builds {
			t.Errorf("the lock records %q: %d builds, want %d", tc.lockSHA, n, tc.builds)
		}
	}
}
