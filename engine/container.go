package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/matrixbuild/matrix/executor"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Timeouts of the steps that end a container's life.
const (
	// logDrain bounds the wait for the last lines of a container that has exited.
	logDrain = 10 * time.Second
	// explainTimeout bounds the questions explainKill asks the engine.
	explainTimeout = 5 * time.Second
)

func (e *Engine) create(ctx context.Context, cfg *container.Config, hc *container.HostConfig, platform string) (string, error) {
	resp, err := e.cli.ContainerCreate(ctx, cfg, hc, nil, ociPlatform(platform), "")
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

// ociPlatform parses "os[/arch[/variant]]"; "" is nil, the engine's own.
func ociPlatform(platform string) *ocispec.Platform {
	if platform == "" {
		return nil
	}
	parts := strings.Split(platform, "/")
	p := &ocispec.Platform{OS: parts[0]}
	if len(parts) > 1 {
		p.Architecture = parts[1]
	}
	if len(parts) > 2 {
		p.Variant = parts[2]
	}
	return p
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
		case <-time.After(logDrain):
		case <-ctx.Done():
			return ctx.Err()
		}
		return e.exitErr(id, res, started)
	}
}

// exitErr is the error of a container that ended with res: nil for status 0.
func (e *Engine) exitErr(id string, res container.WaitResponse, started time.Time) error {
	if res.Error != nil && res.Error.Message != "" {
		return &executor.TransientError{Err: fmt.Errorf("waiting for the container: %s", res.Error.Message)}
	}
	if res.StatusCode == 0 {
		return nil
	}
	if err := e.explainKill(id, res.StatusCode, started); err != nil {
		return err
	}
	return &executor.ExitError{Code: int(res.StatusCode)}
}

// explainKill tells a script that died of a signal from a container that something
// outside killed: an engine that stops (a restart, an upgrade) kills its containers,
// which is worth a retry, and the kernel's OOM killer is worth saying so. The
// engine's events tell them apart: it logs a "kill" event for each signal it sends,
// and none when the script died by itself. It returns nil when the status is the
// script's own.
func (e *Engine) explainKill(id string, status int64, started time.Time) error {
	ctx, cancel := context.WithTimeout(context.Background(), explainTimeout)
	defer cancel()
	if status != 128+9 && status != 128+15 {
		// The script's own status, unless the engine no longer answers: one that shuts
		// down ends its containers however they take it, and says so over connections
		// already open (a failover to another engine is then in order).
		if _, err := e.cli.Ping(ctx); err != nil {
			return &executor.TransientError{Err: fmt.Errorf("the container ended with status %d and the engine stopped answering (stopped or restarted during the build?): %w", status, err)}
		}
		return nil
	}
	inspect, err := e.cli.ContainerInspect(ctx, id)
	if err == nil && inspect.State != nil && inspect.State.OOMKilled {
		return fmt.Errorf("the script was killed for running out of memory (status %d)", status)
	}
	killed := false
	if err == nil {
		killed, err = e.killedSince(ctx, id, started)
	}
	switch {
	case err != nil:
		return &executor.TransientError{Err: fmt.Errorf("the container ended with status %d and the engine stopped answering (stopped or restarted during the build?): %w", status, err)}
	case killed:
		return &executor.TransientError{Err: fmt.Errorf("the engine killed the container (status %d): it was stopped or restarted during the build, or the container was stopped from outside", status)}
	}
	return nil
}

// killedSince reports whether the engine logged a kill event for the container since
// started.
func (e *Engine) killedSince(ctx context.Context, id string, started time.Time) (bool, error) {
	msgs, errs := e.cli.Events(ctx, events.ListOptions{
		Since:   fmt.Sprint(started.Unix() - 1),
		Until:   fmt.Sprint(time.Now().Unix() + 1),
		Filters: filters.NewArgs(filters.Arg("container", id), filters.Arg("event", string(events.ActionKill))),
	})
	killed := false
	for {
		select {
		case <-msgs:
			killed = true
		case err := <-errs:
			// The stream ends with io.EOF once it reaches Until.
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return killed, err
		}
	}
}

// removeLater removes a finished container in the background (remove): its cell goes
// on to its test, or gives up its slot, without waiting for the engine to delete the
// container's files. RemoveOwn, RunContainers and Close wait for it.
func (e *Engine) removeLater(id string) {
	e.removals.Go(func() { e.remove(id) })
}

// remove force-removes a container with a fresh context: it must also happen when the
// run's context is cancelled. A failure is reported on e.Warnings.
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
	e.warnf("matrix: could not remove container %.12s: %v (the next run removes it)\n", id, err)
	return false
}
