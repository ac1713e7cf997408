package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/matrixbuild/matrix/executor"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// errKind names what an error is, for tables: "nil", "exit N", "transient", "cancelled"
// or "plain".
func errKind(err error) string {
	var exit *executor.ExitError
	switch {
	case err == nil:
		return "nil"
	case errors.As(err, &exit):
		return fmt.Sprintf("exit %d", exit.Code)
	case executor.IsTransient(err):
		return "transient"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	return "plain"
}

func TestRunToExit(t *testing.T) {
	engineGone := connectionFailed(t)
	tests := []struct {
		name  string
		setup func(*fakeDocker)
		ended bool // the container ran to its end: all its output is in the log
		kind  string
		msg   string
	}{
		{"status 0", func(f *fakeDocker) {}, true, "nil", ""},
		{"non-zero status", func(f *fakeDocker) { f.wait.StatusCode = 3 }, true, "exit 3", "script exited with status 3"},
		{"SIGKILL of its own", func(f *fakeDocker) { f.wait.StatusCode = 137 }, true, "exit 137", "status 137"},
		{"SIGTERM from the engine", func(f *fakeDocker) { f.wait.StatusCode = 143; f.kills = 1 }, true, "transient", "the engine killed the container (status 143)"},
		{"wait answers with an error", func(f *fakeDocker) { f.wait.Error = &container.WaitExitError{Message: "engine shutting down"} }, true, "transient", "engine shutting down"},
		{"wait fails", func(f *fakeDocker) { f.waitErr = io.ErrUnexpectedEOF }, false, "transient", "waiting for the container"},
		{"start refused", func(f *fakeDocker) { f.startErr = errors.New("exec: sh: not found") }, false, "plain", "starting the container: exec: sh: not found"},
		{"attach fails", func(f *fakeDocker) { f.attachErr = engineGone }, false, "transient", "attaching to the container"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake()
			fake.output = "hello from the script\n"
			tc.setup(fake)
			var log bytes.Buffer
			err := fakeEngine(fake, PullNever).runToExit(context.Background(), "c1", &log)
			if errKind(err) != tc.kind || err != nil && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v (%s), want %s with %q", err, errKind(err), tc.kind, tc.msg)
			}
			if tc.ended && log.String() != fake.output {
				t.Errorf("log = %q, want %q", log.String(), fake.output)
			}
		})
	}
}

func TestRunToExitCancelled(t *testing.T) {
	fake := newFake()
	fake.waitErr = context.Canceled // what the client's wait says when ctx ends
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := fakeEngine(fake, PullNever).runToExit(ctx, "c1", io.Discard)
	if !errors.Is(err, context.Canceled) || executor.IsTransient(err) {
		t.Errorf("err = %v, want the cancellation, not transient", err)
	}
}

func TestExplainKill(t *testing.T) {
	tests := []struct {
		name   string
		status int64
		setup  func(*fakeDocker)
		kind   string
		msg    string
	}{
		{"not a signal", 1, func(f *fakeDocker) { f.kills = 1 }, "nil", ""},
		{"SIGSEGV is the script's", 139, func(f *fakeDocker) { f.kills = 1 }, "nil", ""},
		{"SIGKILL without a kill event", 137, func(f *fakeDocker) {}, "nil", ""},
		{"SIGKILL with a kill event", 137, func(f *fakeDocker) { f.kills = 1 }, "transient", "the engine killed the container (status 137)"},
		{"SIGTERM with kill events", 143, func(f *fakeDocker) { f.kills = 2 }, "transient", "status 143"},
		{"out of memory", 137, func(f *fakeDocker) { f.state = &container.State{OOMKilled: true}; f.kills = 1 }, "plain", "killed for running out of memory"},
		{"engine gone: inspect", 137, func(f *fakeDocker) { f.inspectErr = syscall.ECONNREFUSED }, "transient", "the engine stopped answering"},
		{"engine gone: events", 137, func(f *fakeDocker) { f.eventsErr = io.ErrUnexpectedEOF }, "transient", "the engine stopped answering"},
		{"engine gone: a status of its own", 2, func(f *fakeDocker) { f.pingErr = syscall.ECONNREFUSED }, "transient", "ended with status 2 and the engine stopped answering"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake()
			fake.state = &container.State{}
			tc.setup(fake)
			err := fakeEngine(fake, PullNever).explainKill("c1", tc.status, time.Now())
			if errKind(err) != tc.kind || err != nil && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v (%s), want %s with %q", err, errKind(err), tc.kind, tc.msg)
			}
		})
	}
}

func TestRemove(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		removed bool
		warning string
	}{
		{"removed", nil, true, ""},
		{"gone already", fmt.Errorf("no such container: %w", cerrdefs.ErrNotFound), false, ""},
		{"being removed", fmt.Errorf("removal in progress: %w", cerrdefs.ErrConflict), false, ""},
		{"engine refuses", errors.New("device busy"), false, "matrix: could not remove container 0123456789ab: device busy (the next run removes it)\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake()
			fake.removeErr = tc.err
			e := fakeEngine(fake, PullNever)
			var warnings bytes.Buffer
			e.Warnings = &warnings
			if got := e.remove("0123456789abcdef"); got != tc.removed {
				t.Errorf("remove = %v, want %v", got, tc.removed)
			}
			if warnings.String() != tc.warning {
				t.Errorf("warnings = %q, want %q", warnings.String(), tc.warning)
			}
			e.Warnings = nil
			e.remove("0123456789abcdef") // nil discards
		})
	}
}

// A container the engine created while the run was being cancelled is removed at once.
func TestCreateCancelled(t *testing.T) {
	fake := newFake()
	ctx, cancel := context.WithCancel(context.Background())
	fake.onCreate = cancel
	_, err := fakeEngine(fake, PullNever).create(ctx, &container.Config{Image: "x"}, &container.HostConfig{}, "")
	if !errors.Is(err, context.Canceled) || len(fake.removed) != 1 || fake.removed[0] != "container1" {
		t.Errorf("err = %v, removed %q; want the cancellation and container1 removed", err, fake.removed)
	}
}

func TestOCIPlatform(t *testing.T) {
	tests := []struct {
		in   string
		want *ocispec.Platform
	}{
		{"", nil},
		{"linux", &ocispec.Platform{OS: "linux"}},
		{"linux/arm64", &ocispec.Platform{OS: "linux", Architecture: "arm64"}},
		{"linux/arm/v7", &ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}},
	}
	for _, tc := range tests {
		got := ociPlatform(tc.in)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ociPlatform(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}
