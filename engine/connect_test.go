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

// TestEngineAddressesShowNoPassword: an engine address with a password, in any
// scheme and any spelling a URL parser would decode (percent-encoded, a "/" or "?"
// in it), is refused before anything connects, from --engine and from DOCKER_HOST,
// and no error shows the password; RedactHost and redact mask it wherever shown.
func TestEngineAddressesShowNoPassword(t *testing.T) {
	const password = "s3cr3tpass"
	for in, want := range map[string]string{
		"tcp://user:s3cr3tpass@127.0.0.1:1":      "tcp://user:xxxxx@127.0.0.1:1",
		"ssh://user:s3cr3tpass@host/path?x=a@b":  "ssh://user:xxxxx@b",
		"user:s3cr3tpass@127.0.0.1:1":            "user:xxxxx@127.0.0.1:1",
		"tcp://user@127.0.0.1:1":                 "tcp://user@127.0.0.1:1",
		"unix:///var/run/docker.sock":            "unix:///var/run/docker.sock",
		"tcp://us:er:s3cr3t:pass@127.0.0.1:2376": "tcp://us:xxxxx@127.0.0.1:2376",
		"http://user:s3cr3tpass@127.0.0.1:1":     "http://user:xxxxx@127.0.0.1:1",
		"ssh://user%3As3cr3tpass@host":           "ssh://user%3Axxxxx@host",
		"ssh://user%3as3cr3tpass@host":           "ssh://user%3axxxxx@host",
		"tcp://user:s3cr/3tpass@127.0.0.1:1":     "tcp://user:xxxxx@127.0.0.1:1",
		"tcp://user:s3cr?3tpass@127.0.0.1:1":     "tcp://user:xxxxx@127.0.0.1:1",
	} {
		if got := RedactHost(in); got != want {
			t.Errorf("RedactHost(%q) = %q, want %q", in, got, want)
		}
	}

	// redact takes the password out of any text, in each form a parser may print it.
	for _, tc := range []struct{ host, text, want string }{
		{"http://user:s3cr3tpass@127.0.0.1:1", "lookup user:s3cr3tpass@127.0.0.1: no such host", "lookup user:xxxxx@127.0.0.1: no such host"},
		{"ssh://user%3As3cr3tpass@host", "ssh -l user:s3cr3tpass -- host", "ssh -l user:xxxxx -- host"},
		{"tcp://u:p%40ss%2Fw0rd@h:1", "dial p@ss/w0rd and p%40ss%2Fw0rd", "dial xxxxx and xxxxx"},
		{"tcp://u:p%20ss@h:1", "user u:p%20ss, u:p ss", "user u:xxxxx, u:xxxxx"},
		{"tcp://user@h:1", "tcp://user@h:1 is down", "tcp://user@h:1 is down"},
	} {
		if got := redact(tc.host, tc.text); got != tc.want {
			t.Errorf("redact(%q, %q) = %q, want %q", tc.host, tc.text, got, tc.want)
		}
	}

	t.Setenv("DOCKER_CONTEXT", "")
	for _, addr := range []string{
		"tcp://user:" + password + "@127.0.0.1:1",
		"http://user:" + password + "@127.0.0.1:1",
		"https://user:" + password + "@127.0.0.1:1",
		"HTTP://user:" + password + "@127.0.0.1:1",
		"ssh://user:" + password + "@127.0.0.1:1",
		"ssh://user%3A" + password + "@127.0.0.1:1",
		"ssh://user%3a" + password + "@127.0.0.1:1",
		"unix://user:" + password + "@/var/run/docker.sock",
		"user:" + password + "@127.0.0.1:1",
		"tcp://user:s3cr/3tpass@127.0.0.1:1",
		"http://user:s3cr%2F3tpass@127.0.0.1:1",
	} {
		for _, via := range []string{"--engine", "DOCKER_HOST"} {
			var err error
			if via == "--engine" {
				t.Setenv("DOCKER_HOST", "")
				_, err = ConnectHost(context.Background(), addr, PullMissing)
			} else {
				t.Setenv("DOCKER_HOST", addr)
				_, err = Connect(context.Background(), PullMissing)
			}
			if err == nil || !strings.Contains(err.Error(), "holds a password") ||
				strings.Contains(err.Error(), password) || strings.Contains(err.Error(), "3tpass") {
				t.Errorf("%s %s: %v, want a refusal without the password", via, addr, err)
			}
		}
	}

	// An address without a password fails as an engine that does not answer.
	t.Setenv("DOCKER_HOST", "tcp://user@127.0.0.1:1")
	_, err := Connect(context.Background(), PullMissing)
	var nr *NotRunningError
	if !errors.As(err, &nr) || !client.IsErrConnectionFailed(err) || !strings.Contains(err.Error(), "tcp://user@127.0.0.1:1") {
		t.Errorf("Connect: %v is not a NotRunningError of a failed connection", err)
	}
	var cli *client.Client
	cli, err = client.NewClientWithOpts(client.WithHost("tcp://user:" + password + "@127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	if name := newEngine(cli, PullMissing, "amd64").Name(); name != "tcp://user:xxxxx@127.0.0.1:1" {
		t.Errorf("Name() = %q", name)
	}
	// A password that only the engine's own error shows (an open that fails) is masked too.
	fake := newFake()
	fake.host = "http://user:" + password + "@127.0.0.1:1"
	fake.pingErr = errors.New("dial tcp: lookup user:" + password + "@127.0.0.1: no such host")
	if _, err := open(context.Background(), fake, PullMissing); err == nil || strings.Contains(err.Error(), password) {
		t.Errorf("open: %v", err)
	}
}
