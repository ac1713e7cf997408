package runner

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/plan"
)

// imageExec is a fake engine whose images have the ID id (the fake's own when ""),
// and which counts the probes of Runnable: one starts a container on a real engine.
type imageExec struct {
	*fakeExec
	id       string
	runnable int
}

func (e *imageExec) Resolve(ctx context.Context, ref, platform string) (executor.Image, error) {
	img, err := e.fakeExec.Resolve(ctx, ref, platform)
	if e.id != "" {
		img.ID = e.id
	}
	return img, err
}

func (e *imageExec) Runnable(ctx context.Context, img executor.Image) error {
	e.mu.Lock()
	e.runnable++
	e.mu.Unlock()
	return e.fakeExec.Runnable(ctx, img)
}

// TestRunReusesByDefaultWhenExact: with no flag, a re-run reuses the artifact of a
// cell installed from its lock entry when nothing of its inputs changed and its bytes
// on disk are the recorded ones, starting nothing (no build, no test, no probe);
// every cell it builds says why, in its log, the progress output and its record.
// --reuse also reuses cells that are not locked; --force reuses nothing.
func TestRunReusesByDefaultWhenExact(t *testing.T) {
	lockOf := func(s string) map[string]executor.Files {
		return map[string]executor.Files{"a.tar.gz": {"package-lock.json": []byte(s)}}
	}
	for _, tc := range []struct {
		name string
		// first is the locked files of the first run (nil: resolved anew, and the
		// second run gets the entry it recorded, with its sha256).
		first, second map[string]executor.Files
		change        func(t *testing.T, out string, c *plan.Cell, opts *Options, e *imageExec)
		want          string // the reason to build; "": reused
		retested      bool
	}{
		{name: "unchanged, locked", first: lockOf("{}"), second: lockOf("{}")},
		{name: "the run that recorded the lock entry", first: nil, second: lockOf("lock of a.tar.gz: ")},
		{name: "unchanged, not locked", want: "not locked"},
		{name: "unchanged, not locked, --reuse", change: func(t *testing.T, out string, c *plan.Cell, opts *Options, e *imageExec) {
			opts.Reuse = true
		}},
		{name: "--force", first: lockOf("{}"), second: lockOf("{}"), want: "--force", change: func(t *testing.T, out string, c *plan.Cell, opts *Options, e *imageExec) {
			opts.Force = true
		}},
		{name: "script changed", first: lockOf("{}"), second: lockOf("{}"), want: "script changed", change: func(t *testing.T, out string, c *plan.Cell, opts *Options, e *imageExec) {
			c.Script += " # changed"
		}},
		{name: "image changed", first: lockOf("{}"), second: lockOf("{}"), want: "image changed", change: func(t *testing.T, out string, c *plan.Cell, opts *Options, e *imageExec) {
			e.id = "sha256:" + strings.Repeat("cd", 32)
		}},
		{name: "env and mounts changed", first: lockOf("{}"), second: lockOf("{}"), want: "env and mounts changed", change: func(t *testing.T, out string, c *plan.Cell, opts *Options, e *imageExec) {
			c.Env = []plan.EnvVar{{Name: "X", Value: "1"}}
			c.Mounts = []plan.Mount{{Type: plan.MountBind, Source: "/etc", Target: "/x"}}
		}},
		{name: "lock files changed", first: lockOf("{}"), second: lockOf(`{"v":2}`), want: "lock files changed"},
		{name: "artifact modified", first: lockOf("{}"), second: lockOf("{}"), want: "artifact modified", change: func(t *testing.T, out string, c *plan.Cell, opts *Options, e *imageExec) {
			data, err := os.ReadFile(filepath.Join(out, "a.tar.gz"))
			if err != nil {
				t.Fatal(err)
			}
			data[len(data)/2] ^= 1 // the same size, other bytes
			if err := os.WriteFile(filepath.Join(out, "a.tar.gz"), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "artifact missing", first: lockOf("{}"), second: lockOf("{}"), want: "artifact missing", change: func(t *testing.T, out string, c *plan.Cell, opts *Options, e *imageExec) {
			if err := os.Remove(filepath.Join(out, "a.tar.gz")); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "artifact a link", first: lockOf("{}"), second: lockOf("{}"), want: "artifact not a regular file", change: func(t *testing.T, out string, c *plan.Cell, opts *Options, e *imageExec) {
			p := filepath.Join(out, "a.tar.gz")
			if err := os.Rename(p, p+".elsewhere"); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("a.tar.gz.elsewhere", p); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "test changed", first: lockOf("{}"), second: lockOf("{}"), retested: true, change: func(t *testing.T, out string, c *plan.Cell, opts *Options, e *imageExec) {
			test := *c.Test
			test.Script = "node -e 2"
			c.Test = &test
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := cells("a.tar.gz")
			cs[0].LockFiles = []string{"package-lock.json"}
			cs[0].Test = &plan.Test{Image: "rt", Workdir: "/test", Script: "node -e 1", Timeout: time.Minute}
			opts := options(t)
			opts.RunID, opts.Locked = "first", tc.first
			if _, err := readAndRun(context.Background(), []executor.Executor{&fakeExec{}}, cs, opts); err != nil {
				t.Fatal(err)
			}
			first, err := manifest.Read(opts.OutDir)
			if err != nil {
				t.Fatal(err)
			}
			if got := first.Artifacts[0].BuildReason; got != "no earlier artifact" {
				t.Errorf("the first build's reason: %q", got)
			}
			opts.RunID, opts.Locked = "second", tc.second
			if tc.first == nil && tc.second != nil {
				opts.LockedSHA256 = map[string]string{"a.tar.gz": first.Artifacts[0].SHA256}
			}
			var progress bytes.Buffer
			opts.Progress = &progress
			tested := 0
			e := &imageExec{fakeExec: &fakeExec{test: func(ctx context.Context, job executor.TestJob) error { tested++; return nil }}}
			if tc.change != nil {
				tc.change(t, opts.OutDir, &cs[0], &opts, e)
			}
			results, err := readAndRun(context.Background(), []executor.Executor{e}, cs, opts)
			if err != nil {
				t.Fatalf("%v\n%s", err, progress.String())
			}
			m, err := manifest.Read(opts.OutDir)
			if err != nil {
				t.Fatal(err)
			}
			a := m.Artifacts[0]
			built := e.calls("a.tar.gz")
			switch {
			case tc.want == "" && !tc.retested:
				if built != 0 || tested != 0 || e.runnable != 0 || a.RunID != "first" || results[0].Artifact.RunID != "first" {
					t.Errorf("not reused: %d builds, %d tests, %d probes, record of run %s\n%s", built, tested, e.runnable, a.RunID, progress.String())
				}
			case tc.retested:
				if built != 0 || tested != 1 || a.RunID != "first" || a.Test.RunID != "second" {
					t.Errorf("not retested: %d builds, %d tests, record of run %s\n%s", built, tested, a.RunID, progress.String())
				}
			default:
				if built != 1 || a.RunID != "second" || !strings.HasPrefix(a.BuildReason, tc.want) {
					t.Errorf("%d builds, record of run %s, build_reason %q; want built because %q\n%s", built, a.RunID, a.BuildReason, tc.want, progress.String())
				}
				line := "matrix: building a.tar.gz: " + tc.want
				if !strings.Contains(progress.String(), line) {
					t.Errorf("the progress output does not say %q:\n%s", line, progress.String())
				}
				if log, _ := os.ReadFile(filepath.Join(opts.OutDir, "logs", "a.tar.gz.log")); !strings.Contains(string(log), line) {
					t.Errorf("the log does not say %q:\n%s", line, log)
				}
			}
		})
	}
}

func TestChangedInputs(t *testing.T) {
	was := map[string]string{"script": "1", "env": "1", "image_id": "1", "format": "1", "prefix": "1"}
	for _, tc := range []struct {
		now  map[string]string
		want string
	}{
		{map[string]string{"script": "2", "env": "1", "image_id": "1", "format": "1", "prefix": "1"}, "script changed"},
		{map[string]string{"script": "2", "env": "2", "image_id": "2", "format": "1", "prefix": "1"}, "image, env and script changed"},
		{map[string]string{"script": "1", "env": "1", "image_id": "1", "format": "2", "prefix": "2"}, "format changed"},
		{map[string]string{"script": "1", "env": "1", "image_id": "1", "format": "1", "prefix": "1"}, "inputs changed"},
	} {
		if got := changedInputs(was, tc.now); got != tc.want {
			t.Errorf("changedInputs(%v, %v) = %q, want %q", was, tc.now, got, tc.want)
		}
	}
	if got := changedInputs(nil, was); got != "inputs changed" {
		t.Errorf("without earlier parts: %q", got)
	}
}
