package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/matrixbuild/matrix/executor"
)

func TestIsTransient(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"connection failed", connectionFailed(t), true},
		{"unavailable", fmt.Errorf("daemon: %w", cerrdefs.ErrUnavailable), true},
		{"refused", &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, true},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{"cut short", fmt.Errorf("reading the stream: %w", io.ErrUnexpectedEOF), true},
		{"network timeout", &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, true},
		{"cancelled", fmt.Errorf("request: %w", context.Canceled), false},
		{"deadline, also a net.Error", fmt.Errorf("request: %w", context.DeadlineExceeded), false},
		{"not found", fmt.Errorf("no such image: %w", cerrdefs.ErrNotFound), false},
		{"conflict", cerrdefs.ErrConflict, false},
		{"a refusal", errors.New("invalid reference format"), false},
		{"end of stream", io.EOF, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := isTransient(tc.err); got != tc.want {
				t.Errorf("isTransient(%v) = %v, want %v", tc.err, got, tc.want)
			}
			err := engineErr("pulling image x", tc.err)
			if executor.IsTransient(err) != tc.want || !errors.Is(err, tc.err) || !strings.HasPrefix(err.Error(), "pulling image x: ") {
				t.Errorf("engineErr = %#v (%v)", err, err)
			}
		})
	}
}

func TestNotRunningError(t *testing.T) {
	cause := os.NewSyscallError("connect", syscall.ENOENT)
	err := &NotRunningError{Host: "unix:///var/run/docker.sock", Err: fmt.Errorf("ping: %w", &net.OpError{Op: "dial", Err: cause})}
	want := "no Docker engine answers at unix:///var/run/docker.sock (no such file or directory); start one"
	if !strings.HasPrefix(err.Error(), want) || !errors.Is(err, syscall.ENOENT) {
		t.Errorf("err = %q, want it to start %q and wrap the cause", err, want)
	}
}
