package engine

import (
	"context"
	"strings"
	"testing"
)

func TestIsSSH(t *testing.T) {
	for host, want := range map[string]bool{
		"ssh://builder@arm64-host":      true,
		"SSH://builder@arm64-host:2222": true,
		"ssh://h/var/run/docker.sock":   true,
		"tcp://h:2376":                  false,
		"unix:///var/run/docker.sock":   false,
		"ssh:/h":                        false,
		"":                              false,
		"builder@arm64-host":            false,
	} {
		if got := isSSH(host); got != want {
			t.Errorf("isSSH(%q) = %v, want %v", host, got, want)
		}
	}
}

// The engine behind ssh is named by its ssh:// address, not by the client's
// placeholder URL: the manifest and the "given twice" check use the name.
func TestSSHClientName(t *testing.T) {
	const host = "ssh://builder@arm64-host:2222"
	cli, err := newSSHClient(host)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if name := newEngine(cli, PullMissing, "arm64").Name(); name != host {
		t.Errorf("Name() = %q, want %q", name, host)
	}
}

// An ssh:// address reaches the ssh connection whether --engine or DOCKER_HOST names
// it; a password in it is refused before any ssh starts, and never shown.
func TestSSHAddressWithPassword(t *testing.T) {
	const password = "s3cr3tpass"
	const host = "ssh://builder:" + password + "@127.0.0.1:1"
	t.Setenv("DOCKER_CONTEXT", "")
	tests := []struct {
		name    string
		connect func() error
	}{
		{"--engine", func() error {
			_, err := ConnectHost(context.Background(), host, PullMissing)
			return err
		}},
		{"DOCKER_HOST", func() error {
			t.Setenv("DOCKER_HOST", host)
			_, err := Connect(context.Background(), PullMissing)
			return err
		}},
	}
	for _, tc := range tests {
		err := tc.connect()
		if err == nil || strings.Contains(err.Error(), password) ||
			!strings.Contains(err.Error(), "ssh://builder:xxxxx@127.0.0.1:1") || !strings.Contains(err.Error(), "holds a password") {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
