package engine

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
)

// fakeContainers are containers of this tool on this host and another, of this
// process and of processes that are gone, and one of another tool.
func fakeContainers() []container.Summary {
	host, _ := os.Hostname()
	own := fmt.Sprint(os.Getpid())
	c := func(id, host, pid string) container.Summary {
		return container.Summary{ID: id, Labels: map[string]string{
			LabelTool: toolValue, LabelHost: host, LabelPID: pid, LabelRun: "run-" + id, LabelCell: "cell " + id}}
	}
	foreign := c("foreign", host, "999999999")
	foreign.Labels[LabelTool] = "other"
	return []container.Summary{
		c("dead", host, "999999999"),
		c("own", host, own),
		c("elsewhere", "another-host", "999999999"),
		c("elsewhere-own-pid", "another-host", own),
		c("unlabelled-pid", host, ""),
		c("init", host, "1"), // alive: not the tool's, but its number is in use
		foreign,
	}
}

func TestRemoveLeftoversAndOwn(t *testing.T) {
	tests := []struct {
		name      string
		removeErr error
		own       bool
		want      []string
	}{
		{"leftovers: this host, process gone", nil, false, []string{"dead", "unlabelled-pid"}},
		{"own: this host, this process", nil, true, []string{"own"}},
		{"removed by another client meanwhile", fmt.Errorf("in progress: %w", cerrdefs.ErrConflict), false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake()
			fake.containers = fakeContainers()
			fake.removeErr = tc.removeErr
			e := fakeEngine(fake, PullNever)
			var removed []Leftover
			var err error
			if tc.own {
				removed, err = e.RemoveOwn()
			} else {
				removed, err = e.RemoveLeftovers(context.Background())
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, l := range removed {
				if l.Run != "run-"+l.ID || l.Cell != "cell "+l.ID {
					t.Errorf("leftover %+v: run and cell not from its labels", l)
				}
				ids = append(ids, l.ID)
			}
			if !slices.Equal(ids, tc.want) || tc.removeErr == nil && !slices.Equal(fake.removed, tc.want) {
				t.Errorf("removed %q (engine: %q), want %q", ids, fake.removed, tc.want)
			}
		})
	}
}

func TestProcessAlive(t *testing.T) {
	tests := []struct {
		pid  string
		want bool
	}{
		{fmt.Sprint(os.Getpid()), true},
		{"1", true}, // not ours to signal (EPERM where not root), but alive
		{"999999999", false},
		{"0", false},
		{"-1", false},
		{"", false},
		{"abc", false},
	}
	for _, tc := range tests {
		if got := processAlive(tc.pid); got != tc.want {
			t.Errorf("processAlive(%q) = %v, want %v", tc.pid, got, tc.want)
		}
	}
}

func TestRemoveLeftoversListFails(t *testing.T) {
	fake := newFake()
	fake.listErr = fmt.Errorf("daemon: %w", cerrdefs.ErrUnavailable)
	if _, err := fakeEngine(fake, PullNever).RemoveLeftovers(context.Background()); errKind(err) != "transient" {
		t.Errorf("err = %v, want a transient listing error", err)
	}
}
