package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
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
// environment's DOCKER_HOST), with the environment's TLS settings (none for ssh://),
// and checks that it answers.
func ConnectHost(ctx context.Context, host string, pull PullPolicy) (*Engine, error) {
	addr := cmp.Or(host, os.Getenv("DOCKER_HOST"))
	if err := checkAddress(addr); err != nil {
		return nil, err
	}
	if isSSH(addr) {
		cli, err := newSSHClient(addr)
		if err != nil {
			return nil, fmt.Errorf("docker client for %q: %w", RedactHost(addr), scrub(err, addr, err.Error()))
		}
		return open(ctx, cli, pull)
	}
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if host != "" {
		opts = append(opts, client.WithHost(host))
	}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker client for %q: %w", RedactHost(addr), scrub(err, addr, err.Error()))
	}
	return open(ctx, cli, pull)
}

// open checks that the engine behind cli answers and asks for its CPU. It closes cli
// when it returns an error.
func open(ctx context.Context, cli dockerAPI, pull PullPolicy) (*Engine, error) {
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	host := cli.DaemonHost()
	if _, err := cli.Ping(pctx); err != nil {
		cli.Close()
		// NotRunningError shows only the root cause: the scrubbed error's message is it,
		// without the carriage returns and the last newline of ssh's stderr in it.
		cause := strings.TrimSpace(strings.ReplaceAll(rootCause(err).Error(), "\r", ""))
		return nil, &NotRunningError{Host: RedactHost(host), Err: scrub(err, host, cause)}
	}
	info, err := cli.Info(pctx)
	if err != nil {
		cli.Close()
		return nil, engineErr("asking the engine at "+RedactHost(host)+" for its platform", scrub(err, host, err.Error()))
	}
	return newEngine(cli, pull, goArch(info.Architecture)), nil
}

// scrub returns err with the message msg, redacted of host (redact); errors.Is and
// errors.As still see err and its chain.
func scrub(err error, host, msg string) error {
	msg = redact(host, msg)
	if msg == err.Error() {
		return err
	}
	return &scrubbedError{msg: msg, err: err}
}

// scrubbedError has no Unwrap, so that code walking the chain for a message (rootCause)
// stops at the redacted one.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string        { return e.msg }
func (e *scrubbedError) Is(target error) bool { return errors.Is(e.err, target) }
func (e *scrubbedError) As(target any) bool   { return errors.As(e.err, target) }

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
