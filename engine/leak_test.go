package engine

import (
	"bytes"
	"context"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/executor"
)

// slowCreateProxy forwards a unix socket to the engine's, holding back the answer to
// a container create for two seconds: the create is done by the engine while the
// request's context is already cancelled.
func slowCreateProxy(t *testing.T, engineSocket string) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "d.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			d, err := net.Dial("unix", engineSocket)
			if err != nil {
				c.Close()
				continue
			}
			var creating atomic.Bool
			go func() {
				buf := make([]byte, 32<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						if bytes.Contains(buf[:n], []byte("/containers/create")) {
							creating.Store(true)
						}
						d.Write(buf[:n])
					}
					if err != nil {
						d.Close()
						return
					}
				}
			}()
			go func() {
				buf := make([]byte, 32<<10)
				for {
					n, err := d.Read(buf)
					if n > 0 {
						if creating.Swap(false) {
							time.Sleep(2 * time.Second)
						}
						c.Write(buf[:n])
					}
					if err != nil {
						c.Close()
						return
					}
				}
			}()
		}
	}()
	return "unix://" + sock
}

// TestRemoveOwnCatchesCancelledCreate: a container that the engine creates after
// the request's context was cancelled has no ID on the client's side; RemoveOwn,
// which the CLI runs at the end of every run, finds it by this process's label.
func TestRemoveOwnCatchesCancelledCreate(t *testing.T) {
	real := connect(t, PullNever)
	socket, ok := strings.CutPrefix(real.Name(), "unix://")
	if !ok {
		t.Skipf("the engine is at %s, not a unix socket", real.Name())
	}
	t.Setenv("DOCKER_HOST", slowCreateProxy(t, socket))
	e, err := Connect(context.Background(), PullNever)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	runID := newRunID(t)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err = e.Build(ctx, executor.Job{RunID: runID, Cell: cell("true"), Image: resolve(t, real, testImage()), Log: io.Discard},
		func(io.Reader) error { return nil })
	if err == nil {
		t.Fatal("a build cancelled during create succeeded")
	}
	time.Sleep(3 * time.Second) // the engine finishes the create
	removed, err := real.RemoveOwn()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range removed {
		found = found || strings.Contains(l.Run, runID)
	}
	if !found {
		t.Errorf("RemoveOwn removed %+v, not the container of run %s", removed, runID)
	}
	assertNoContainers(t, real, runID)
}
