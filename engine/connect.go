package engine

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/docker/docker/client"
)

// pingTimeout bounds the first exchange with an engine, which tells whether it answers.
const pingTimeout = 15 * time.Second

// Connect connects to the engine that the environment names (DOCKER_HOST,
// DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, DOCKER_API_VERSION, or the Docker CLI's
// context: DOCKER_CONTEXT or the current one), negotiating the API version, and
// checks that it answers.
func Connect(ctx context.Context, pull PullPolicy) (*Engine, error) {
	host, err := contextHost(os.Getenv, dockerConfigDir())
	if err != nil {
		return nil, err
	}
	return ConnectHost(ctx, host, pull)
}

// ConnectHost connects to the engine at host (unix://, tcp://, ssh:// ...; "" for the
// environment's), with the environment's TLS settings, and checks that it answers.
func ConnectHost(ctx context.Context, host string, pull PullPolicy) (*Engine, error) {
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if host != "" {
		opts = append(opts, client.WithHost(host))
	}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker client for %q: %w", host, err)
	}
	return open(ctx, cli, pull)
}

// open checks that the engine behind cli answers and asks for its CPU. It closes cli
// when it returns an error.
func open(ctx context.Context, cli dockerAPI, pull PullPolicy) (*Engine, error) {
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if _, err := cli.Ping(pctx); err != nil {
		cli.Close()
		return nil, &NotRunningError{Host: cli.DaemonHost(), Err: err}
	}
	info, err := cli.Info(pctx)
	if err != nil {
		cli.Close()
		return nil, engineErr("asking the engine at "+cli.DaemonHost()+" for its platform", err)
	}
	return newEngine(cli, pull, goArch(info.Architecture)), nil
}

// goArch turns the kernel's machine name that the engine reports into the name images use.
func goArch(machine string) string {
	switch machine {
	case "x86_64":
		return "amd64"
	case "aarch64":
		return "arm64"
	}
	return machine
}
