package engine

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/docker/docker/client"
)

func TestOpen(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(*fakeDocker)
		arch       string
		notRunning bool
		err        string
	}{
		{"amd64", func(f *fakeDocker) {}, "amd64", false, ""},
		{"arm64", func(f *fakeDocker) { f.machine = "aarch64" }, "arm64", false, ""},
		{"other CPUs keep their name", func(f *fakeDocker) { f.machine = "riscv64" }, "riscv64", false, ""},
		{"no answer", func(f *fakeDocker) { f.pingErr = errors.New("dial unix: no such file") }, "", true, "no Docker engine answers at unix:///fake/docker.sock"},
		{"no info", func(f *fakeDocker) { f.infoErr = errors.New("forbidden") }, "", false, "asking the engine at unix:///fake/docker.sock for its platform: forbidden"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake()
			tc.setup(fake)
			e, err := open(context.Background(), fake, PullAlways)
			if tc.err != "" {
				var nr *NotRunningError
				if err == nil || !strings.Contains(err.Error(), tc.err) || errors.As(err, &nr) != tc.notRunning || !fake.closed {
					t.Fatalf("err = %v (closed %v), want %q", err, fake.closed, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.Arch() != tc.arch || e.Name() != "unix:///fake/docker.sock" || e.pull != PullAlways || fake.closed {
				t.Errorf("engine %s (%s), pull %s, closed %v", e.Name(), e.Arch(), e.pull, fake.closed)
			}
		})
	}
}

func TestParsePullPolicy(t *testing.T) {
	for _, s := range []string{"missing", "always", "never"} {
		if p, err := ParsePullPolicy(s); err != nil || string(p) != s {
			t.Errorf("ParsePullPolicy(%q) = %q, %v", s, p, err)
		}
	}
	if _, err := ParsePullPolicy("sometimes"); err == nil || !strings.Contains(err.Error(), "want missing, always or never") {
		t.Errorf("ParsePullPolicy(sometimes): %v", err)
	}
}

func TestEngineAddressesShowNoPassword(t *testing.T) {
	const password = "s3cr3tpass"
	for in, want := range map[string]string{
		"tcp://user:s3cr3tpass@127.0.0.1:1":      "tcp://user:xxxxx@127.0.0.1:1",
		"ssh://user:s3cr3tpass@host/path?x=a@b":  "ssh://user:xxxxx@host/path?x=a@b",
		"user:s3cr3tpass@127.0.0.1:1":            "user:xxxxx@127.0.0.1:1",
		"tcp://user@127.0.0.1:1":                 "tcp://user@127.0.0.1:1",
		"unix:///var/run/docker.sock":            "unix:///var/run/docker.sock",
		"tcp://us:er:s3cr3t:pass@127.0.0.1:2376": "tcp://us:xxxxx@127.0.0.1:2376",
	} {
		if got := RedactHost(in); got != want {
			t.Errorf("RedactHost(%q) = %q, want %q", in, got, want)
		}
	}

	t.Setenv("DOCKER_HOST", "tcp://user:"+password+"@127.0.0.1:1")
	t.Setenv("DOCKER_CONTEXT", "")
	_, err := Connect(context.Background(), PullMissing)
	var nr *NotRunningError
	if err == nil || strings.Contains(err.Error(), password) || !strings.Contains(err.Error(), "tcp://user:xxxxx@127.0.0.1:1") {
		t.Errorf("Connect: %v", err)
	} else if !errors.As(err, &nr) || !client.IsErrConnectionFailed(err) {
		t.Errorf("Connect: %v is not a NotRunningError of a failed connection", err)
	}
	if _, err := ConnectHost(context.Background(), "user:"+password+"@127.0.0.1:1", PullMissing); err == nil || strings.Contains(err.Error(), password) {
		t.Errorf("ConnectHost: %v", err)
	}
	var cli *client.Client
	cli, err = client.NewClientWithOpts(client.WithHost("tcp://user:" + password + "@127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	if name := newEngine(cli, PullMissing, "amd64").Name(); name != "tcp://user:xxxxx@127.0.0.1:1" {
		t.Errorf("Name() = %q", name)
	}
}
