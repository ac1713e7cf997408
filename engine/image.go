package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/pkg/jsonmessage"
	"github.com/matrixbuild/matrix/executor"
)

// Resolve implements executor.Executor. Resolving one reference is serialised: a pull
// for one platform retags the reference, so a concurrent inspect for another
// platform could otherwise read the wrong image.
func (e *Engine) Resolve(ctx context.Context, ref, platform string) (executor.Image, error) {
	unlock := e.serializeRef(ref)
	defer unlock()
	img, err := e.inspect(ctx, ref)
	missing := cerrdefs.IsNotFound(err)
	if err != nil && !missing {
		return executor.Image{}, err
	}
	key := ref + "|" + platform
	e.mu.Lock()
	pulledAlready := e.pulled[key]
	e.mu.Unlock()
	pull, err := pullNeeded(e.pull, missing, !missing && !platformMatches(img, platform), pulledAlready)
	if err != nil {
		return executor.Image{}, fmt.Errorf("image %s %w", ref, err)
	}
	if !pull {
		return img, nil
	}
	if err := e.doPull(ctx, ref, platform); err != nil {
		return executor.Image{}, err
	}
	e.mu.Lock()
	e.pulled[key] = true
	e.mu.Unlock()
	return e.inspect(ctx, ref)
}

// errNeverPull is the refusal to pull a missing image under --pull=never.
var errNeverPull = errors.New("is not on the engine and --pull=never")

// pullNeeded is the pull policy: whether Resolve pulls an image that is missing, or
// is local but of another platform than the cell's, or was already pulled in this
// run (--pull=always pulls once per run). With --pull=missing, a local image of
// another platform counts as missing: multi-platform images are pulled per platform.
func pullNeeded(policy PullPolicy, missing, wrongPlatform, pulledThisRun bool) (bool, error) {
	switch {
	case missing && policy == PullNever:
		return false, errNeverPull
	case policy == PullNever:
		return false, nil
	}
	return missing || wrongPlatform || (policy == PullAlways && !pulledThisRun), nil
}

// platformMatches reports whether img is of platform ("os/arch[/variant]"; "" is any);
// a platform without a variant matches every variant.
func platformMatches(img executor.Image, platform string) bool {
	return platform == "" || strings.HasPrefix(img.Platform()+"/", strings.TrimSuffix(platform, "/")+"/")
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

// serializeRef waits until no other Resolve of ref runs and returns the function that
// lets the next one in.
func (e *Engine) serializeRef(ref string) (done func()) {
	e.mu.Lock()
	m, ok := e.refMus[ref]
	if !ok {
		m = &sync.Mutex{}
		e.refMus[ref] = m
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
	err = e.probe(ctx, img)
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

// probe runs `sh -c true` in a throwaway container of img.
func (e *Engine) probe(ctx context.Context, img executor.Image) error {
	cfg := &container.Config{Image: img.ID, Entrypoint: shell, Cmd: []string{"true"}, Labels: labels("probe", "platform probe of "+img.Ref)}
	id, err := e.create(ctx, cfg, &container.HostConfig{NetworkMode: "none"}, img.Platform())
	if err != nil {
		return err
	}
	defer e.remove(id)
	return e.runToExit(ctx, id, io.Discard)
}
