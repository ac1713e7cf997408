package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/client"
	"github.com/matrixbuild/matrix/executor"
)

// NotRunningError says that no engine answered, and how to start one.
type NotRunningError struct {
	Host string
	Err  error
}

func (e *NotRunningError) Error() string {
	if isSSH(e.Host) {
		return fmt.Sprintf("no Docker engine answers at %s (%v); the ssh login must need no prompt (a key or an agent, the host key known) and the remote user must reach a running engine with the docker CLI",
			e.Host, rootCause(e.Err))
	}
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

// engineErr wraps an engine API error, marking the ones worth retrying.
func engineErr(what string, err error) error {
	err = fmt.Errorf("%s: %w", what, err)
	if isTransient(err) {
		return &executor.TransientError{Err: err}
	}
	return err
}

// isTransient tells an engine that could not be reached, or dropped the connection,
// from one that answered with a refusal.
func isTransient(err error) bool {
	// A deadline is also a net.Error; neither it nor a cancellation is the engine's doing.
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	return client.IsErrConnectionFailed(err) || cerrdefs.IsUnavailable(err) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.As(err, &ne)
}
