package engine

import (
	"archive/tar"
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/system"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// fakeDocker stands in for the Docker client: the fields say how it answers, and it
// records what the engine asked of it. Its zero value (through newFake) is an engine
// with no images on which every container exits 0 without output.
type fakeDocker struct {
	mu sync.Mutex

	pingErr, infoErr error
	machine          string // what Info reports as the CPU
	host             string // what DaemonHost reports; "" for unix:///fake/docker.sock
	closed           bool

	images     map[string]image.InspectResponse // by reference
	pullErr    error                            // ImagePull's own error
	pullStream string                           // the progress stream; "" pulls the platform asked for
	pulls      []string                         // "ref|platform" of each pull

	onCreate   func() // called while a container is created
	createErr  error
	created    []createdContainer
	output     string // what every container writes to stdout
	attachErr  error
	startErr   error
	wait       container.WaitResponse
	statusOf   func(cfg *container.Config) int64 // when set, each container's exit status
	waitErr    error
	state      *container.State // what ContainerInspect reports
	inspectErr error
	kills      int   // kill events the engine logged for the container
	eventsErr  error // how the event stream ends; nil: io.EOF
	removeErr  error
	removed    []string

	containers []container.Summary // what ContainerList lists, before its filters
	listErr    error
	copiedIn   map[string][]byte // "id:dir" -> the tar stream copied there
	files      map[string][]byte // container path -> copy-from-container tar stream
	inspects   int               // ImageInspect calls
}

type createdContainer struct {
	cfg      *container.Config
	hc       *container.HostConfig
	platform *ocispec.Platform
}

func newFake() *fakeDocker {
	return &fakeDocker{machine: "x86_64", images: map[string]image.InspectResponse{},
		copiedIn: map[string][]byte{}, files: map[string][]byte{}}
}

// fakeEngine is an engine of the engine's own CPU, amd64, on fake.
func fakeEngine(fake *fakeDocker, pull PullPolicy) *Engine {
	return newEngine(fake, pull, "amd64")
}

// fakeImage is an image of platform "os/arch[/variant]" whose ID names it.
func fakeImage(platform string) image.InspectResponse {
	p := ociPlatform(platform)
	return image.InspectResponse{ID: "sha256:" + platform, Os: p.OS, Architecture: p.Architecture, Variant: p.Variant}
}

// tarOf is a copy-from-container stream of one entry.
func tarOf(h tar.Header, content string) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	h.Size = int64(len(content))
	if h.Typeflag != tar.TypeReg {
		h.Size = 0
	}
	tw.WriteHeader(&h)
	tw.Write([]byte(content))
	tw.Close()
	return buf.Bytes()
}

func (f *fakeDocker) Ping(context.Context) (types.Ping, error) { return types.Ping{}, f.pingErr }

func (f *fakeDocker) Info(context.Context) (system.Info, error) {
	return system.Info{Architecture: f.machine}, f.infoErr
}

func (f *fakeDocker) DaemonHost() string { return cmp.Or(f.host, "unix:///fake/docker.sock") }

func (f *fakeDocker) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

func (f *fakeDocker) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (image.InspectResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inspects++
	img, ok := f.images[ref]
	if !ok {
		return image.InspectResponse{}, fmt.Errorf("no such image: %s: %w", ref, cerrdefs.ErrNotFound)
	}
	return img, nil
}

// ImageList lists the fake's images, by reference, oldest first.
func (f *fakeDocker) ImageList(context.Context, image.ListOptions) ([]image.Summary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []image.Summary
	for ref := range f.images {
		out = append(out, image.Summary{ID: ref, RepoTags: []string{ref}})
	}
	slices.SortFunc(out, func(a, b image.Summary) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func (f *fakeDocker) ImagePull(_ context.Context, ref string, opts image.PullOptions) (io.ReadCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pulls = append(f.pulls, ref+"|"+opts.Platform)
	if f.pullErr != nil {
		return nil, f.pullErr
	}
	if f.pullStream != "" {
		return io.NopCloser(strings.NewReader(f.pullStream)), nil
	}
	platform := opts.Platform
	if platform == "" {
		platform = "linux/amd64"
	}
	f.images[ref] = fakeImage(platform) // a pull retags ref
	return io.NopCloser(strings.NewReader(`{"status":"Pulling from ` + ref + `"}` + "\n" + `{"status":"Downloaded newer image"}`)), nil
}

func (f *fakeDocker) ContainerCreate(_ context.Context, cfg *container.Config, hc *container.HostConfig, _ *network.NetworkingConfig, p *ocispec.Platform, _ string) (container.CreateResponse, error) {
	if f.onCreate != nil {
		f.onCreate()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.createErr != nil {
		return container.CreateResponse{}, f.createErr
	}
	f.created = append(f.created, createdContainer{cfg, hc, p})
	return container.CreateResponse{ID: fmt.Sprintf("container%d", len(f.created))}, nil
}

func (f *fakeDocker) ContainerAttach(context.Context, string, container.AttachOptions) (types.HijackedResponse, error) {
	if f.attachErr != nil {
		return types.HijackedResponse{}, f.attachErr
	}
	var framed bytes.Buffer
	stdcopy.NewStdWriter(&framed, stdcopy.Stdout).Write([]byte(f.output))
	conn, peer := net.Pipe()
	peer.Close()
	return types.HijackedResponse{Conn: conn, Reader: bufio.NewReader(&framed)}, nil
}

func (f *fakeDocker) ContainerStart(context.Context, string, container.StartOptions) error {
	return f.startErr
}

func (f *fakeDocker) ContainerWait(_ context.Context, id string, _ container.WaitCondition) (<-chan container.WaitResponse, <-chan error) {
	waitC, errC := make(chan container.WaitResponse, 1), make(chan error, 1)
	res := f.wait
	if f.statusOf != nil {
		var n int
		fmt.Sscanf(id, "container%d", &n)
		f.mu.Lock()
		res.StatusCode = f.statusOf(f.created[n-1].cfg)
		f.mu.Unlock()
	}
	if f.waitErr != nil {
		errC <- f.waitErr
	} else {
		waitC <- res
	}
	return waitC, errC
}

func (f *fakeDocker) ContainerInspect(context.Context, string) (container.InspectResponse, error) {
	return container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{State: f.state}}, f.inspectErr
}

// Events sends the kill events, then the end of the stream, as the client does: on
// unbuffered channels, from a goroutine.
func (f *fakeDocker) Events(ctx context.Context, _ events.ListOptions) (<-chan events.Message, <-chan error) {
	msgs, errs := make(chan events.Message), make(chan error, 1)
	go func() {
		defer close(errs)
		for range f.kills {
			select {
			case msgs <- events.Message{Action: events.ActionKill}:
			case <-ctx.Done():
				errs <- ctx.Err()
				return
			}
		}
		if f.eventsErr != nil {
			errs <- f.eventsErr
			return
		}
		errs <- io.EOF
	}()
	return msgs, errs
}

func (f *fakeDocker) ContainerRemove(_ context.Context, id string, _ container.RemoveOptions) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.removeErr != nil {
		return f.removeErr
	}
	f.removed = append(f.removed, id)
	return nil
}

// ContainerList applies the label filters, as the engine does.
func (f *fakeDocker) ContainerList(_ context.Context, opts container.ListOptions) ([]container.Summary, error) {
	if f.listErr != nil {
		return nil, f.listErr
	}
	var out []container.Summary
	for _, c := range f.containers {
		if opts.Filters.MatchKVList("label", c.Labels) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeDocker) CopyToContainer(_ context.Context, id, dst string, content io.Reader, _ container.CopyToContainerOptions) error {
	data, err := io.ReadAll(content)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.copiedIn[id+":"+dst] = data
	return err
}

func (f *fakeDocker) CopyFromContainer(_ context.Context, _, src string) (io.ReadCloser, container.PathStat, error) {
	data, ok := f.files[src]
	if !ok {
		return nil, container.PathStat{}, fmt.Errorf("no such path %s: %w", src, cerrdefs.ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(data)), container.PathStat{}, nil
}

// connectionFailed is the error of a client whose engine is not there.
func connectionFailed(t *testing.T) error {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.WithHost("unix://" + t.TempDir() + "/no-engine.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	_, err = cli.Ping(context.Background())
	if !client.IsErrConnectionFailed(err) {
		t.Fatalf("ping without an engine: %v", err)
	}
	return err
}
