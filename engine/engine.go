// Package engine runs cells in containers of a Docker engine. It is the only package
// that imports the Docker client; the runner sees it through executor.Executor.
package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/plan"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Labels put on every container the tool creates, so a later run can find the
// containers of a killed one.
const (
	LabelTool = "org.matrixbuild.tool"
	LabelRun  = "org.matrixbuild.run"
	LabelCell = "org.matrixbuild.cell"
	LabelPID  = "org.matrixbuild.pid"
	LabelHost = "org.matrixbuild.host"
	toolValue = "matrix"
)

// PullPolicy says when an image is pulled.
type PullPolicy string

const (
	PullMissing PullPolicy = "missing"
	PullAlways  PullPolicy = "always"
	PullNever   PullPolicy = "never"
)

// ParsePullPolicy checks a --pull value.
func ParsePullPolicy(s string) (PullPolicy, error) {
	switch p := PullPolicy(s); p {
	case PullMissing, PullAlways, PullNever:
		return p, nil
	}
	return "", fmt.Errorf("--pull %q: want missing, always or never", s)
}

// removeTimeout bounds the removal of a container, which runs on a fresh context so
// that it also happens after cancellation.
const removeTimeout = 30 * time.Second

// shell runs scripts. It replaces the image's entrypoint: the Lambda runtime images
// have one (the runtime interface emulator) that would take the script as a handler.
var shell = []string{"sh", "-c"}

// Engine is a Docker engine that builds cells.
type Engine struct {
	cli  *client.Client
	pull PullPolicy

	arch string // the engine's CPU, as images name it ("amd64")

	mu       sync.Mutex
	pulled   map[string]bool        // "ref|platform" pulled in this run: --pull=always pulls once
	refs     map[string]*sync.Mutex // per image reference, held while resolving it
	runnable map[string]error       // by image ID: why the engine cannot run it, or nil
}

// Connect connects to the engine that the environment names (DOCKER_HOST,
// DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, DOCKER_API_VERSION, or the Docker CLI's
// context: DOCKER_CONTEXT or the current one), negotiating the API version, and
// checks that it answers.
func Connect(ctx context.Context, pull PullPolicy) (*Engine, error) {
	host, err := contextHost(os.Getenv, dockerConfigDir())
	if err != nil {
		return nil, err
	}
	return ConnectHost(ctx, host, pull)
}

// ConnectHost connects to the engine at host (unix://, tcp://, ssh:// ...; "" for the
// environment's), with the environment's TLS settings, and checks that it answers.
func ConnectHost(ctx context.Context, host string, pull PullPolicy) (*Engine, error) {
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if host != "" {
		opts = append(opts, client.WithHost(host))
	}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker client for %q: %w", host, err)
	}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if _, err := cli.Ping(pctx); err != nil {
		cli.Close()
		return nil, &NotRunningError{Host: cli.DaemonHost(), Err: err}
	}
	info, err := cli.Info(pctx)
	if err != nil {
		cli.Close()
		return nil, engineErr("asking the engine at "+cli.DaemonHost()+" for its platform", err)
	}
	return &Engine{cli: cli, pull: pull, pulled: map[string]bool{}, refs: map[string]*sync.Mutex{}, runnable: map[string]error{}, arch: goArch(info.Architecture)}, nil
}

// Runnable implements executor.Executor: an image of the engine's own CPU runs; one of
// another CPU runs only where the engine has emulation (binfmt/qemu), which a
// throwaway container (`sh -c true`) finds out once per image.
func (e *Engine) Runnable(ctx context.Context, img executor.Image) error {
	if e.arch == "" || img.Architecture == "" || img.Architecture == e.arch {
		return nil
	}
	e.mu.Lock()
	err, known := e.runnable[img.ID]
	e.mu.Unlock()
	if known {
		return err
	}
	cfg := &container.Config{Image: img.ID, Entrypoint: shell, Cmd: []string{"true"}, Labels: labels("probe", "platform probe of "+img.Ref)}
	id, err := e.create(ctx, cfg, &container.HostConfig{NetworkMode: "none"}, img.Platform())
	if err == nil {
		err = e.runToExit(ctx, id, io.Discard)
		e.remove(id)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		err = fmt.Errorf("image %s is %s and this engine runs %s: it cannot run it without emulation (binfmt/qemu) (%v); "+
			"build such cells on a %s engine, or install for that CPU from an image of this engine's platform",
			img.Ref, img.Platform(), e.arch, err, img.Architecture)
	}
	e.mu.Lock()
	e.runnable[img.ID] = err
	e.mu.Unlock()
	return err
}

// goArch turns the kernel's machine name that the engine reports into the name images use.
func goArch(machine string) string {
	switch machine {
	case "x86_64":
		return "amd64"
	case "aarch64":
		return "arm64"
	}
	return machine
}

// NotRunningError says that no engine answered, and how to start one.
type NotRunningError struct {
	Host string
	Err  error
}

func (e *NotRunningError) Error() string {
	return fmt.Sprintf("no Docker engine answers at %s (%v); start one (scripts/engine.sh, or 'sudo systemctl start docker') or point DOCKER_HOST at one",
		e.Host, rootCause(e.Err))
}

func (e *NotRunningError) Unwrap() error { return e.Err }

func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// Close releases the client.
func (e *Engine) Close() error { return e.cli.Close() }

// Name implements executor.Executor: the engine's address.
func (e *Engine) Name() string { return e.cli.DaemonHost() }

// Arch implements executor.Executor: the engine's CPU, as images name it.
func (e *Engine) Arch() string { return e.arch }

// Resolve implements executor.Executor. Resolving one reference is serialised: a pull
// for one platform retags the reference, so a concurrent inspect for another
// platform could otherwise read the wrong image.
func (e *Engine) Resolve(ctx context.Context, ref, platform string) (executor.Image, error) {
	unlock := e.lockRef(ref)
	defer unlock()
	img, err := e.inspect(ctx, ref)
	missing := cerrdefs.IsNotFound(err)
	if err != nil && !missing {
		return executor.Image{}, err
	}
	// With --pull=missing, a local image of another platform than the cell's counts as
	// missing: multi-platform images are pulled per platform.
	wrongPlatform := !missing && platform != "" && !strings.HasPrefix(img.Platform()+"/", strings.TrimSuffix(platform, "/")+"/")
	key := ref + "|" + platform
	e.mu.Lock()
	pulledAlready := e.pulled[key]
	e.mu.Unlock()
	if (e.pull == PullAlways && !pulledAlready) || missing || (wrongPlatform && e.pull != PullNever) {
		if e.pull == PullNever {
			return executor.Image{}, fmt.Errorf("image %s is not on the engine and --pull=never", ref)
		}
		if err := e.doPull(ctx, ref, platform); err != nil {
			return executor.Image{}, err
		}
		e.mu.Lock()
		e.pulled[key] = true
		e.mu.Unlock()
		if img, err = e.inspect(ctx, ref); err != nil {
			return executor.Image{}, err
		}
	}
	return img, nil
}

func (e *Engine) inspect(ctx context.Context, ref string) (executor.Image, error) {
	inspect, err := e.cli.ImageInspect(ctx, ref)
	if cerrdefs.IsNotFound(err) {
		return executor.Image{}, err
	}
	if err != nil {
		return executor.Image{}, engineErr("inspecting image "+ref, err)
	}
	return executor.Image{
		Ref:          ref,
		ID:           inspect.ID,
		RepoDigests:  inspect.RepoDigests,
		OS:           inspect.Os,
		Architecture: inspect.Architecture,
		Variant:      inspect.Variant,
	}, nil
}

// lockRef serialises the resolution of one image reference.
func (e *Engine) lockRef(ref string) (unlock func()) {
	e.mu.Lock()
	m, ok := e.refs[ref]
	if !ok {
		m = &sync.Mutex{}
		e.refs[ref] = m
	}
	e.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// doPull pulls ref and reads the progress stream to its end: pull errors arrive inside it.
func (e *Engine) doPull(ctx context.Context, ref, platform string) error {
	rc, err := e.cli.ImagePull(ctx, ref, image.PullOptions{Platform: platform})
	if err != nil {
		return engineErr("pulling image "+ref, err)
	}
	defer rc.Close()
	dec := json.NewDecoder(rc)
	for {
		var msg jsonmessage.JSONMessage
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return engineErr("pulling image "+ref, err)
		}
		if msg.Error != nil {
			return fmt.Errorf("pulling image %s: %s", ref, msg.Error.Message)
		}
	}
}

// Build implements executor.Executor.
func (e *Engine) Build(ctx context.Context, job executor.Job, collect func(io.Reader) error) (executor.Files, error) {
	c := job.Cell
	cfg := &container.Config{
		Image:      job.Image.ID,
		Entrypoint: shell,
		Cmd:        []string{c.Script},
		Env:        job.Env,
		WorkingDir: c.Workdir,
		Labels:     labels(job.RunID, c.Name()),
	}
	id, err := e.create(ctx, cfg, hostConfig(c.Network, c.Mounts), c.Platform)
	if err != nil {
		return nil, err
	}
	defer e.remove(id)
	if len(job.Inputs) > 0 {
		if err := e.cli.CopyToContainer(ctx, id, c.Workdir, filesTar(job.Inputs), container.CopyToContainerOptions{}); err != nil {
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
		return nil, err
	}
	return e.readFiles(ctx, id, c.Workdir, c.LockFiles)
}

// maxLockFile bounds a captured lock file: they are kilobytes, never artifacts.
const maxLockFile = 16 << 20

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
func filesTar(files executor.Files) io.Reader {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		tw.WriteHeader(&tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(files[n]))})
		tw.Write(files[n])
	}
	tw.Close()
	return &buf
}

// Test implements executor.Executor.
func (e *Engine) Test(ctx context.Context, job executor.TestJob) error {
	t := job.Cell.Test
	cfg := &container.Config{
		Image:      job.Image.ID,
		Entrypoint: shell,
		Cmd:        []string{t.Script},
		Env:        envList(t.Env),
		WorkingDir: t.Workdir,
		Labels:     labels(job.RunID, job.Cell.Name()+" test"),
	}
	id, err := e.create(ctx, cfg, hostConfig(t.Network, t.Mounts), t.Platform)
	if err != nil {
		return err
	}
	defer e.remove(id)
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

func (e *Engine) create(ctx context.Context, cfg *container.Config, hc *container.HostConfig, platform string) (string, error) {
	var p *ocispec.Platform
	if platform != "" {
		parts := strings.Split(platform, "/")
		p = &ocispec.Platform{OS: parts[0]}
		if len(parts) > 1 {
			p.Architecture = parts[1]
		}
		if len(parts) > 2 {
			p.Variant = parts[2]
		}
	}
	resp, err := e.cli.ContainerCreate(ctx, cfg, hc, nil, p, "")
	if err != nil {
		return "", engineErr("creating a container of "+cfg.Image, err)
	}
	if err := ctx.Err(); err != nil {
		// Cancelled while the engine created it: do not leave it behind.
		e.remove(resp.ID)
		return "", err
	}
	return resp.ID, nil
}

// runToExit attaches to the container's output, starts it, streams the output to log
// and waits for it to end. Attaching before the start, as `docker run` does, is what
// guarantees that no early line is lost.
func (e *Engine) runToExit(ctx context.Context, id string, log io.Writer) error {
	att, err := e.cli.ContainerAttach(ctx, id, container.AttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		return engineErr("attaching to the container", err)
	}
	defer att.Close()
	logsDone := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(log, log, att.Reader)
		logsDone <- err
	}()
	waitC, errC := e.cli.ContainerWait(ctx, id, container.WaitConditionNextExit)
	started := time.Now()
	if err := e.cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return engineErr("starting the container", err)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case err := <-errC:
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return engineErr("waiting for the container", err)
	case res := <-waitC:
		// The attached stream ends when the container does; wait for its last lines.
		select {
		case <-logsDone:
		case <-time.After(10 * time.Second):
		case <-ctx.Done():
			return ctx.Err()
		}
		if res.Error != nil && res.Error.Message != "" {
			return &executor.TransientError{Err: fmt.Errorf("waiting for the container: %s", res.Error.Message)}
		}
		if res.StatusCode != 0 {
			if err := e.explainKill(id, res.StatusCode, started); err != nil {
				return err
			}
			return &executor.ExitError{Code: int(res.StatusCode)}
		}
		return nil
	}
}

// explainKill tells a script that died of a signal from a container that something
// outside killed: an engine that stops (a restart, an upgrade) kills its containers,
// which is worth a retry, and the kernel's OOM killer is worth saying so. The
// engine's events tell them apart: it logs a "kill" event for each signal it sends,
// and none when the script died by itself. It returns nil when the status is the
// script's own.
func (e *Engine) explainKill(id string, status int64, started time.Time) error {
	if status != 128+9 && status != 128+15 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	inspect, err := e.cli.ContainerInspect(ctx, id)
	if err == nil && inspect.State != nil && inspect.State.OOMKilled {
		return fmt.Errorf("the script was killed for running out of memory (status %d)", status)
	}
	killed := false
	if err == nil {
		msgs, errs := e.cli.Events(ctx, events.ListOptions{
			Since:   fmt.Sprint(started.Unix() - 1),
			Until:   fmt.Sprint(time.Now().Unix() + 1),
			Filters: filters.NewArgs(filters.Arg("container", id), filters.Arg("event", string(events.ActionKill))),
		})
	read:
		for {
			select {
			case <-msgs:
				killed = true
			case err = <-errs:
				if errors.Is(err, io.EOF) {
					err = nil
				}
				break read
			}
		}
	}
	switch {
	case err != nil:
		return &executor.TransientError{Err: fmt.Errorf("the container ended with status %d and the engine stopped answering (stopped or restarted during the build?): %w", status, err)}
	case killed:
		return &executor.TransientError{Err: fmt.Errorf("the engine killed the container (status %d): it was stopped or restarted during the build, or the container was stopped from outside", status)}
	}
	return nil
}

// remove force-removes a container with a fresh context: it must also happen when the
// run's context is cancelled.
// It reports whether this call removed it.
func (e *Engine) remove(id string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), removeTimeout)
	defer cancel()
	err := e.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	switch {
	case err == nil:
		return true
	case cerrdefs.IsNotFound(err) || cerrdefs.IsConflict(err):
		// Gone already, or another client is removing it right now.
		return false
	}
	fmt.Fprintf(os.Stderr, "matrix: could not remove container %.12s: %v (the next run removes it)\n", id, err)
	return false
}

func labels(runID, cell string) map[string]string {
	host, _ := os.Hostname()
	return map[string]string{
		LabelTool: toolValue,
		LabelRun:  runID,
		LabelCell: cell,
		LabelPID:  fmt.Sprint(os.Getpid()),
		LabelHost: host,
	}
}

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

// engineErr wraps an engine API error, marking the ones worth retrying.
func engineErr(what string, err error) error {
	err = fmt.Errorf("%s: %w", what, err)
	if isTransient(err) {
		return &executor.TransientError{Err: err}
	}
	return err
}

func isTransient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	return client.IsErrConnectionFailed(err) || cerrdefs.IsUnavailable(err) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.As(err, &ne)
}

// Leftover is a container of a run whose process is gone.
type Leftover struct {
	ID, Run, Cell string
}

// RemoveLeftovers removes the containers of earlier runs on this host whose process
// no longer exists (a run killed with SIGKILL cannot clean up after itself).
func (e *Engine) RemoveLeftovers(ctx context.Context) ([]Leftover, error) {
	list, err := e.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", LabelTool+"="+toolValue))})
	if err != nil {
		return nil, engineErr("listing containers", err)
	}
	host, _ := os.Hostname()
	var removed []Leftover
	for _, c := range list {
		if c.Labels[LabelHost] != host || processAlive(c.Labels[LabelPID]) {
			continue
		}
		if e.remove(c.ID) {
			removed = append(removed, Leftover{ID: c.ID, Run: c.Labels[LabelRun], Cell: c.Labels[LabelCell]})
		}
	}
	return removed, nil
}

// RemoveOwn removes every container this process created that is still there. Each
// build removes its own; this catches what a cancellation can leave behind, such as
// a container the engine created after the request that asked for it was cancelled.
// It uses a fresh context: it runs when the run's may be cancelled.
func (e *Engine) RemoveOwn() ([]Leftover, error) {
	ctx, cancel := context.WithTimeout(context.Background(), removeTimeout)
	defer cancel()
	list, err := e.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(
		filters.Arg("label", LabelTool+"="+toolValue),
		filters.Arg("label", fmt.Sprintf("%s=%d", LabelPID, os.Getpid())),
	)})
	if err != nil {
		return nil, engineErr("listing this run's containers", err)
	}
	host, _ := os.Hostname()
	var removed []Leftover
	for _, c := range list {
		if c.Labels[LabelHost] == host && e.remove(c.ID) {
			removed = append(removed, Leftover{ID: c.ID, Run: c.Labels[LabelRun], Cell: c.Labels[LabelCell]})
		}
	}
	return removed, nil
}

// RunContainers lists the IDs of the containers labelled with runID (for tests and checks).
func (e *Engine) RunContainers(ctx context.Context, runID string) ([]string, error) {
	list, err := e.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", LabelRun+"="+runID))})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(list))
	for i, c := range list {
		ids[i] = c.ID
	}
	return ids, nil
}

func processAlive(pid string) bool {
	var n int
	if _, err := fmt.Sscan(pid, &n); err != nil || n <= 0 {
		return false
	}
	if n == os.Getpid() {
		return true
	}
	err := syscall.Kill(n, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
