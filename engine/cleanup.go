package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
)

// Leftover is a container of a run whose process is gone.
type Leftover struct {
	ID, Run, Cell string
}

// RemoveLeftovers removes the containers of earlier runs on this host whose process
// no longer exists (a run killed with SIGKILL cannot clean up after itself).
func (e *Engine) RemoveLeftovers(ctx context.Context) ([]Leftover, error) {
	return e.removeContainers(ctx, "listing containers",
		filters.NewArgs(filters.Arg("label", LabelTool+"="+toolValue)),
		func(lbl map[string]string) bool { return !processAlive(lbl[LabelPID]) })
}

// RemoveOwn removes every container this process created that is still there. Each
// build removes its own; this catches what a cancellation can leave behind, such as
// a container the engine created after the request that asked for it was cancelled.
// It uses a fresh context: it runs when the run's may be cancelled.
func (e *Engine) RemoveOwn() ([]Leftover, error) {
	e.removals.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), removeTimeout)
	defer cancel()
	return e.removeContainers(ctx, "listing this run's containers",
		filters.NewArgs(
			filters.Arg("label", LabelTool+"="+toolValue),
			filters.Arg("label", fmt.Sprintf("%s=%d", LabelPID, os.Getpid())),
		),
		func(map[string]string) bool { return true })
}

// removeContainers removes the containers that match f, were created on this host and
// whose labels stale accepts, and returns those this call removed. listing names the
// listing in its error.
func (e *Engine) removeContainers(ctx context.Context, listing string, f filters.Args, stale func(labels map[string]string) bool) ([]Leftover, error) {
	list, err := e.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return nil, engineErr(listing, err)
	}
	host, _ := os.Hostname()
	var removed []Leftover
	for _, c := range list {
		if c.Labels[LabelHost] != host || !stale(c.Labels) {
			continue
		}
		if e.remove(c.ID) {
			removed = append(removed, Leftover{ID: c.ID, Run: c.Labels[LabelRun], Cell: c.Labels[LabelCell]})
		}
	}
	return removed, nil
}

// RunContainers lists the IDs of the containers labelled with runID (for tests and checks).
func (e *Engine) RunContainers(ctx context.Context, runID string) ([]string, error) {
	e.removals.Wait()
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

// processAlive reports whether the process pid (a label's text) exists; this
// process's own counts as alive.
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
