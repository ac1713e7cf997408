// Package engine runs cells in containers of a Docker engine. It is the only package
// that imports the Docker client; the runner sees it through executor.Executor.
package engine

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/system"
	"github.com/docker/docker/client"
	"github.com/matrixbuild/matrix/executor"
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

// dockerAPI is the part of the Docker client the engine uses; tests put a fake in
// its place to check the engine's decisions without an engine.
type dockerAPI interface {
	Ping(ctx context.Context) (types.Ping, error)
	Info(ctx context.Context) (system.Info, error)
	DaemonHost() string
	Close() error

	ImageInspect(ctx context.Context, ref string, opts ...client.ImageInspectOption) (image.InspectResponse, error)
	ImagePull(ctx context.Context, ref string, opts image.PullOptions) (io.ReadCloser, error)
	ImageList(ctx context.Context, opts image.ListOptions) ([]image.Summary, error)

	ContainerCreate(ctx context.Context, cfg *container.Config, hc *container.HostConfig, nc *network.NetworkingConfig, p *ocispec.Platform, name string) (container.CreateResponse, error)
	ContainerAttach(ctx context.Context, id string, opts container.AttachOptions) (types.HijackedResponse, error)
	ContainerStart(ctx context.Context, id string, opts container.StartOptions) error
	ContainerWait(ctx context.Context, id string, cond container.WaitCondition) (<-chan container.WaitResponse, <-chan error)
	ContainerInspect(ctx context.Context, id string) (container.InspectResponse, error)
	ContainerRemove(ctx context.Context, id string, opts container.RemoveOptions) error
	ContainerList(ctx context.Context, opts container.ListOptions) ([]container.Summary, error)
	CopyToContainer(ctx context.Context, id, dst string, content io.Reader, opts container.CopyToContainerOptions) error
	CopyFromContainer(ctx context.Context, id, src string) (io.ReadCloser, container.PathStat, error)
	Events(ctx context.Context, opts events.ListOptions) (<-chan events.Message, <-chan error)
}

var (
	_ dockerAPI         = (*client.Client)(nil)
	_ executor.Executor = (*Engine)(nil)
)

// Engine is a Docker engine that builds cells.
type Engine struct {
	// Warnings receives, a line each, the failures the engine gets past without
	// failing a build (a container it could not remove). Nil, the default, discards
	// them. Set it before the engine is used. One engine writes one line at a time;
	// engines that share a writer need one safe for concurrent use (an *os.File is).
	Warnings io.Writer
	warnMu   sync.Mutex

	cli  dockerAPI
	pull PullPolicy

	arch string // the engine's CPU, as images name it ("amd64")

	// removals are the removals of finished build and test containers under way in
	// the background (removeLater): whatever lists or sweeps the run's containers,
	// and Close, wait for them first.
	removals sync.WaitGroup

	mu       sync.Mutex
	pulled   map[string]bool           // "ref|platform" pulled in this run: --pull=always pulls once
	resolved map[string]executor.Image // "ref|platform": what Resolve found, inspected once per run
	refMus   map[string]*sync.Mutex    // per image reference, held while resolving it
	runnable map[string]error          // by image ID: why the engine cannot run it, or nil
	// emulation holds, by platform ("linux/arm64"), why the engine cannot run programs
	// of that platform, or nil when it can (Runnable).
	emulation map[string]error
}

func newEngine(cli dockerAPI, pull PullPolicy, arch string) *Engine {
	return &Engine{cli: cli, pull: pull, arch: arch,
		pulled: map[string]bool{}, resolved: map[string]executor.Image{}, refMus: map[string]*sync.Mutex{}, runnable: map[string]error{},
		emulation: map[string]error{}}
}

// Close releases the client.
func (e *Engine) Close() error {
	e.removals.Wait()
	return e.cli.Close()
}

// Name implements executor.Executor: the engine's address.
func (e *Engine) Name() string { return RedactHost(e.cli.DaemonHost()) }

// Arch implements executor.Executor: the engine's CPU, as images name it.
func (e *Engine) Arch() string { return e.arch }

// warnf writes a line to e.Warnings; builds run concurrently, so lines are written
// one at a time.
func (e *Engine) warnf(format string, args ...any) {
	if e.Warnings == nil {
		return
	}
	e.warnMu.Lock()
	defer e.warnMu.Unlock()
	fmt.Fprintf(e.Warnings, format, args...)
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
