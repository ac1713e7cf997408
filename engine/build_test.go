package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/mount"
	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/plan"
)

func TestHostConfig(t *testing.T) {
	tests := []struct {
		name    string
		network string
		mounts  []plan.Mount
		want    []mount.Mount
	}{
		{"no mounts", "host", nil, nil},
		{"bind", "none",
			[]plan.Mount{{Type: plan.MountBind, Source: "/etc/ssl/certs", Target: "/certs", ReadOnly: true}},
			[]mount.Mount{{Type: mount.TypeBind, Source: "/etc/ssl/certs", Target: "/certs", ReadOnly: true}}},
		{"cache volume", "host",
			[]plan.Mount{{Type: plan.MountCache, Source: "npm-node22", Target: "/root/.npm"}},
			[]mount.Mount{{Type: mount.TypeVolume, Source: "matrix-cache-npm-node22", Target: "/root/.npm"}}},
		{"both, in order", "host",
			[]plan.Mount{
				{Type: plan.MountCache, Source: "npm", Target: "/root/.npm", ReadOnly: true},
				{Type: plan.MountBind, Source: "/src", Target: "/src"},
			},
			[]mount.Mount{
				{Type: mount.TypeVolume, Source: "matrix-cache-npm", Target: "/root/.npm", ReadOnly: true},
				{Type: mount.TypeBind, Source: "/src", Target: "/src"},
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hc := hostConfig(tc.network, tc.mounts)
			if string(hc.NetworkMode) != tc.network || !reflect.DeepEqual(hc.Mounts, tc.want) {
				t.Errorf("hostConfig = %s %+v, want %s %+v", hc.NetworkMode, hc.Mounts, tc.network, tc.want)
			}
		})
	}
}

func TestEnvList(t *testing.T) {
	got := envList([]plan.EnvVar{{Name: "A", Value: "1"}, {Name: "B", Value: "x=y z"}, {Name: "C"}})
	if want := []string{"A=1", "B=x=y z", "C="}; !slices.Equal(got, want) {
		t.Errorf("envList = %q, want %q", got, want)
	}
}

// readTar lists a tar stream as "name mode uid:gid type content" lines.
func readTar(t *testing.T, r io.Reader) []string {
	t.Helper()
	lines, err := tarLines(r, func(h *tar.Header, data []byte) string {
		return fmt.Sprintf("%s %o %d:%d %c %s", h.Name, h.Mode, h.Uid, h.Gid, h.Typeflag, data)
	})
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// tarLines describes each entry of a tar stream with line.
func tarLines(r io.Reader, line func(h *tar.Header, data []byte) string) ([]string, error) {
	var out []string
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return out, err
		}
		out = append(out, line(h, data))
	}
}

func TestFilesTar(t *testing.T) {
	tests := []struct {
		name  string
		files executor.Files
		want  []string
	}{
		{"none", executor.Files{}, nil},
		{"sorted, root's, 0644", executor.Files{"package-lock.json": []byte("{}\n"), "a/b.lock": []byte("x"), "empty": nil},
			[]string{"a/b.lock 644 0:0 0 x", "empty 644 0:0 0 ", "package-lock.json 644 0:0 0 {}\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := filesTar(tc.files)
			if err != nil {
				t.Fatal(err)
			}
			if got := readTar(t, r); !slices.Equal(got, tc.want) {
				t.Errorf("filesTar = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSingleFile(t *testing.T) {
	tests := []struct {
		name   string
		stream []byte
		limit  int64
		want   string
		err    string
	}{
		{"small", tarOf(tar.Header{Name: "lock.json", Typeflag: tar.TypeReg}, "{}"), 16, "{}", ""},
		{"at the limit", tarOf(tar.Header{Name: "lock.json", Typeflag: tar.TypeReg}, "0123456789"), 10, "0123456789", ""},
		{"over the limit", tarOf(tar.Header{Name: "lock.json", Typeflag: tar.TypeReg}, "0123456789!"), 10, "", "11 bytes, more than the 10 a lock file may have"},
		{"a directory", tarOf(tar.Header{Name: "lock.json/", Typeflag: tar.TypeDir}, ""), 10, "", `not a regular file (type '5')`},
		{"a symlink", tarOf(tar.Header{Name: "lock.json", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}, ""), 10, "", "not a regular file"},
		{"no entry", nil, 10, "", "EOF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := singleFile(bytes.NewReader(tc.stream), tc.limit)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Errorf("singleFile = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func fakeCell() plan.Cell {
	return plan.Cell{
		Target: "t", Image: "node:22", Platform: "linux/amd64", Workdir: "/build", Network: "host",
		Script: "npm ci", Collect: "/build/node_modules", Artifact: "a.tar.gz", Timeout: time.Minute,
		LockFiles: []string{"package-lock.json", "absent.lock"},
		Mounts:    []plan.Mount{{Type: plan.MountCache, Source: "npm", Target: "/root/.npm"}},
	}
}

func TestBuildOnFake(t *testing.T) {
	fake := newFake()
	fake.output = "added 13 packages\n"
	fake.files["/build/node_modules"] = tarOf(tar.Header{Name: "node_modules/", Typeflag: tar.TypeDir}, "")
	fake.files["/build/package-lock.json"] = tarOf(tar.Header{Name: "package-lock.json", Typeflag: tar.TypeReg}, "locked out")
	job := executor.Job{RunID: "run1", Cell: fakeCell(), Image: executor.Image{ID: "sha256:node"}, Env: []string{"A=1"},
		Inputs: executor.Files{"package-lock.json": []byte("locked in")}, Log: io.Discard}
	var collected []string
	e := fakeEngine(fake, PullNever)
	files, err := e.Build(context.Background(), job, func(r io.Reader) error {
		collected = readTar(t, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(fake.created) != 1 {
		t.Fatalf("%d containers created", len(fake.created))
	}
	c := fake.created[0]
	if c.cfg.Image != "sha256:node" || !slices.Equal(c.cfg.Entrypoint, shell) || !slices.Equal(c.cfg.Cmd, []string{"npm ci"}) ||
		!slices.Equal(c.cfg.Env, job.Env) || c.cfg.WorkingDir != "/build" || c.cfg.Labels[LabelRun] != "run1" || c.cfg.Labels[LabelCell] != job.Cell.Name() {
		t.Errorf("config = %+v", c.cfg)
	}
	if c.hc.NetworkMode != "host" || len(c.hc.Mounts) != 1 || c.hc.Mounts[0].Source != "matrix-cache-npm" || c.platform.Architecture != "amd64" {
		t.Errorf("host config = %+v, platform %+v", c.hc, c.platform)
	}
	if got := readTar(t, bytes.NewReader(fake.copiedIn["container1:/build"])); !slices.Equal(got, []string{"package-lock.json 644 0:0 0 locked in"}) {
		t.Errorf("copied in: %q", got)
	}
	if !slices.Equal(collected, []string{"node_modules/ 0 0:0 5 "}) {
		t.Errorf("collected %q", collected)
	}
	if len(files) != 1 || string(files["package-lock.json"]) != "locked out" {
		t.Errorf("files = %q, want package-lock.json only", files)
	}
	e.removals.Wait() // the container is removed in the background
	if !slices.Equal(fake.removed, []string{"container1"}) {
		t.Errorf("removed %q", fake.removed)
	}
}

func TestBuildOnFakeFailures(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(*fakeDocker)
		collect error
		err     string
	}{
		{"script fails", func(f *fakeDocker) { f.wait.StatusCode = 1 }, nil, "script exited with status 1"},
		{"no collect path", func(f *fakeDocker) {}, nil, "collect path /build/node_modules does not exist in the container after the script ran"},
		{"collect fails", func(f *fakeDocker) {
			f.files["/build/node_modules"] = tarOf(tar.Header{Name: "x", Typeflag: tar.TypeReg}, "")
		},
			errors.New("dangling symlink"), "dangling symlink"},
		{"collect cut short by an engine that goes away", func(f *fakeDocker) {
			f.files["/build/node_modules"] = tarOf(tar.Header{Name: "x", Typeflag: tar.TypeReg}, "")
			f.pingErr = errors.New("connection refused")
		},
			errors.New("pack: empty tar stream"), "pack: empty tar stream; the engine stopped answering"},
		{"lock file is a directory", func(f *fakeDocker) {
			f.files["/build/node_modules"] = tarOf(tar.Header{Name: "x", Typeflag: tar.TypeReg}, "")
			f.files["/build/package-lock.json"] = tarOf(tar.Header{Name: "package-lock.json/", Typeflag: tar.TypeDir}, "")
		}, nil, "reading /build/package-lock.json from the container: not a regular file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake()
			tc.setup(fake)
			job := executor.Job{RunID: "run1", Cell: fakeCell(), Image: executor.Image{ID: "sha256:node"}, Log: io.Discard}
			e := fakeEngine(fake, PullNever)
			_, err := e.Build(context.Background(), job, func(io.Reader) error { return tc.collect })
			e.removals.Wait() // the container is removed in the background
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("err = %v, want %q", err, tc.err)
			}
			if executor.IsTransient(err) != (fake.pingErr != nil) {
				t.Errorf("err = %v: transient %v, want it transient only when the engine stopped answering", err, executor.IsTransient(err))
			}
			if _, copied := fake.copiedIn["container1:/build"]; copied {
				t.Error("copied inputs in without any")
			}
			if !slices.Equal(fake.removed, []string{"container1"}) {
				t.Errorf("removed %q", fake.removed)
			}
		})
	}
}

func TestTestOnFake(t *testing.T) {
	fake := newFake()
	c := fakeCell()
	c.Test = &plan.Test{Image: "node:22", Workdir: "/test", Network: "none", Script: "node -e 1",
		Env: []plan.EnvVar{{Name: "NODE_ENV", Value: "test"}}}
	tree := tarOf(tar.Header{Name: "node_modules/x.js", Typeflag: tar.TypeReg}, "found")
	e := fakeEngine(fake, PullNever)
	err := e.Test(context.Background(), executor.TestJob{RunID: "run1", Cell: c, Image: executor.Image{ID: "sha256:node"},
		Tree: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(tree)), nil }, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	cfg := fake.created[0].cfg
	if !slices.Equal(cfg.Cmd, []string{"node -e 1"}) || !slices.Equal(cfg.Env, []string{"NODE_ENV=test"}) || cfg.WorkingDir != "/test" ||
		cfg.Labels[LabelCell] != c.Name()+" test" || fake.created[0].hc.NetworkMode != "none" {
		t.Errorf("config = %+v", cfg)
	}
	if !bytes.Equal(fake.copiedIn["container1:/test"], tree) {
		t.Error("the tree was not copied into the test workdir")
	}
	e.removals.Wait() // the container is removed in the background
	if !slices.Equal(fake.removed, []string{"container1"}) {
		t.Errorf("removed %q", fake.removed)
	}
}
