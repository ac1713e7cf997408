package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"sort"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/plan"
)

// maxLockFile bounds a captured lock file: they are kilobytes, never artifacts.
const maxLockFile = 16 << 20

// Build implements executor.Executor.
func (e *Engine) Build(ctx context.Context, job executor.Job, collect func(io.Reader) error) (executor.Files, error) {
	c := job.Cell
	cfg := scriptConfig(job.Image, c.Script, c.Workdir, job.Env, labels(job.RunID, c.Name()))
	id, err := e.create(ctx, cfg, hostConfig(c.Network, c.Mounts), c.Platform)
	if err != nil {
		return nil, err
	}
	defer e.removeLater(id)
	if len(job.Inputs) > 0 {
		inputs, err := filesTar(job.Inputs)
		if err != nil {
			return nil, fmt.Errorf("packing the locked files: %w", err)
		}
		if err := e.cli.CopyToContainer(ctx, id, c.Workdir, inputs, container.CopyToContainerOptions{}); err != nil {
			return nil, engineErr("copying the locked files into the container", err)
		}
	}
	if err := e.runToExit(ctx, id, job.Log); err != nil {
		return nil, err
	}
	rc, _, err := e.cli.CopyFromContainer(ctx, id, c.Collect)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return nil, fmt.Errorf("collect path %s does not exist in the container after the script ran", c.Collect)
		}
		return nil, engineErr("copying "+c.Collect+" out of the container", err)
	}
	err = collect(rc)
	rc.Close()
	if err != nil {
		return nil, e.unlessGone(ctx, err)
	}
	return e.readFiles(ctx, id, c.Workdir, c.LockFiles)
}

// unlessGone returns err, or a TransientError when the engine no longer answers: an
// engine that shuts down cuts what it sends short (an empty copy stream), which is
// the engine's failure, not the cell's.
func (e *Engine) unlessGone(ctx context.Context, err error) error {
	if ctx.Err() != nil || executor.IsTransient(err) {
		return err
	}
	pctx, cancel := context.WithTimeout(context.Background(), explainTimeout)
	defer cancel()
	if _, perr := e.cli.Ping(pctx); perr != nil {
		return &executor.TransientError{Err: fmt.Errorf("%w; the engine stopped answering (stopped or restarted during the build?): %v", err, perr)}
	}
	return err
}

// Test implements executor.Executor.
func (e *Engine) Test(ctx context.Context, job executor.TestJob) error {
	t := job.Cell.Test
	cfg := scriptConfig(job.Image, t.Script, t.Workdir, envList(t.Env), labels(job.RunID, job.Cell.Name()+" test"))
	id, err := e.create(ctx, cfg, hostConfig(t.Network, t.Mounts), t.Platform)
	if err != nil {
		return err
	}
	defer e.removeLater(id)
	tree, err := job.Tree()
	if err != nil {
		return fmt.Errorf("reading the artifact: %w", err)
	}
	defer tree.Close()
	// The workdir exists in the created container (the engine makes it); the tree is
	// extracted into it before the test starts.
	if err := e.cli.CopyToContainer(ctx, id, t.Workdir, tree, container.CopyToContainerOptions{}); err != nil {
		return engineErr("copying the artifact into the test container", err)
	}
	return e.runToExit(ctx, id, job.Log)
}

// scriptConfig is a container of img that runs script with the shell in workdir.
func scriptConfig(img executor.Image, script, workdir string, env []string, lbl map[string]string) *container.Config {
	return &container.Config{
		Image:      img.ID,
		Entrypoint: shell,
		Cmd:        []string{script},
		Env:        env,
		WorkingDir: workdir,
		Labels:     lbl,
	}
}

// readFiles copies the named files (relative to dir) out of a stopped container;
// files that do not exist are left out.
func (e *Engine) readFiles(ctx context.Context, id, dir string, names []string) (executor.Files, error) {
	files := executor.Files{}
	for _, name := range names {
		p := path.Join(dir, name)
		rc, _, err := e.cli.CopyFromContainer(ctx, id, p)
		if cerrdefs.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, engineErr("copying "+p+" out of the container", err)
		}
		data, err := singleFile(rc, maxLockFile)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("reading %s from the container: %w", p, err)
		}
		files[name] = data
	}
	return files, nil
}

// singleFile reads the one regular file of a copy-from-container stream.
func singleFile(r io.Reader, limit int64) ([]byte, error) {
	tr := tar.NewReader(r)
	h, err := tr.Next()
	if err != nil {
		return nil, err
	}
	if h.Typeflag != tar.TypeReg {
		return nil, fmt.Errorf("not a regular file (type %q)", h.Typeflag)
	}
	if h.Size > limit {
		return nil, fmt.Errorf("%d bytes, more than the %d a lock file may have", h.Size, limit)
	}
	return io.ReadAll(io.LimitReader(tr, limit))
}

// filesTar is a tar stream of files, owned by root, as copy-to-container takes it.
// Lock files are small: the stream is built in memory.
func filesTar(files executor.Files) (io.Reader, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(files[n]))}); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		if _, err := tw.Write(files[n]); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return &buf, nil
}

// hostConfig is a container's network and mounts.
func hostConfig(network string, mounts []plan.Mount) *container.HostConfig {
	hc := &container.HostConfig{NetworkMode: container.NetworkMode(network)}
	for _, m := range mounts {
		if m.Type == plan.MountCache {
			// A named volume: the engine creates it on first use, and it outlives the run.
			hc.Mounts = append(hc.Mounts, mount.Mount{Type: mount.TypeVolume, Source: CacheVolume(m.Source), Target: m.Target, ReadOnly: m.ReadOnly})
			continue
		}
		hc.Mounts = append(hc.Mounts, mount.Mount{Type: mount.TypeBind, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
	}
	return hc
}

// CacheVolume is the engine volume that holds the cache named id; remove it with
// `docker volume rm` to start cold.
func CacheVolume(id string) string { return "matrix-cache-" + id }

func envList(env []plan.EnvVar) []string {
	out := make([]string, len(env))
	for i, v := range env {
		out[i] = v.Name + "=" + v.Value
	}
	return out
}
