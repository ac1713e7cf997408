package engine

import (
	"net/http"
	"strings"

	"github.com/docker/cli/cli/connhelper"
	"github.com/docker/docker/client"
)

// sshFlags go to every ssh that reaches an engine: no prompt for a password, a
// passphrase or an unknown host key, which would hang a run that starts several ssh
// at once with no terminal (ssh runs in a session of its own).
var sshFlags = []string{"-o", "BatchMode=yes"}

// isSSH tells an ssh://[user@]host[:port][/socket] engine address.
func isSSH(host string) bool {
	return len(host) >= len("ssh://") && strings.EqualFold(host[:len("ssh://")], "ssh://")
}

// newSSHClient returns a client of the engine at an ssh:// address. The Docker client
// has no ssh transport: as the Docker CLI does, each connection is an
// `ssh [-l user] [-p port] -- host docker system dial-stdio` process (the Docker CLI's
// connhelper), the HTTP going over its stdin and stdout; closing the connection ends
// the process. The remote user needs the docker CLI on its PATH and access to the
// engine there. A password in the address is refused, never passed on.
func newSSHClient(host string) (*sshClient, error) {
	helper, err := connhelper.GetConnectionHelperWithSSHOpts(host, sshFlags)
	if err != nil {
		return nil, err
	}
	cli, err := client.NewClientWithOpts(
		client.WithHTTPClient(&http.Client{Transport: &http.Transport{DialContext: helper.Dialer}}),
		client.WithHost(helper.Host),
		client.WithDialContext(helper.Dialer), // attach (hijacked connections) dials through ssh too
		client.WithVersionFromEnv(),
		client.WithAPIVersionNegotiation(),
	)
	if err != nil {
		return nil, err
	}
	return &sshClient{Client: cli, host: host}, nil
}

// sshClient is a client whose HTTP goes over ssh. Its own DaemonHost is a placeholder
// URL; the engine is named by its ssh:// address in messages and in the manifest.
type sshClient struct {
	*client.Client
	host string
}

func (c *sshClient) DaemonHost() string { return c.host }
