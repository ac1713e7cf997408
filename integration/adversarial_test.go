package integration

import (
	"os"
	"strings"
	"testing"
)

// The cases of a second adversarial pass over the binary (issue 10's review): each
// failed before its fix.

// TestEngineAddressPasswordsRefused: an engine address holding a password, in any
// scheme, from --engine or DOCKER_HOST, percent-encoded too, makes the run exit 1
// before anything connects or is written, naming the address without its password
// (http:// showed it in the wrapped lookup error; ssh://user%3Apw@ ran ssh -l user:pw).
func TestEngineAddressPasswordsRefused(t *testing.T) {
	t.Parallel()
	const password = "hunter2pw"
	for _, tc := range []struct{ address, shown string }{
		{"http://user:" + password + "@127.0.0.1:1", "http://user:xxxxx@127.0.0.1:1"},
		{"https://user:" + password + "@127.0.0.1:1", "https://user:xxxxx@127.0.0.1:1"},
		{"tcp://user:" + password + "@127.0.0.1:1", "tcp://user:xxxxx@127.0.0.1:1"},
		{"ssh://user%3A" + password + "@127.0.0.1:1", "ssh://user%3Axxxxx@127.0.0.1:1"},
		{"http://user:hunter%2F2pw@127.0.0.1:1", "http://user:xxxxx@127.0.0.1:1"},
	} {
		for _, via := range []string{"--engine", "DOCKER_HOST"} {
			t.Run(via+" "+tc.address, func(t *testing.T) {
				w := newWorkspace(t)
				specPath := w.spec(t, target("cell", `mkdir -p out; echo x > out/x`, ""))
				args := []string{"run", "--out", w.out, specPath}
				env := []string{"DOCKER_CONTEXT="}
				if via == "--engine" {
					args = append([]string{"run", "--engine", tc.address}, args[1:]...)
				} else {
					env = append(env, "DOCKER_HOST="+tc.address)
				}
				res := w.matrix(t, env, args...)
				if res.code != 1 || !strings.Contains(res.stderr, tc.shown) || !strings.Contains(res.stderr, "holds a password") {
					t.Errorf("exit %d, want 1 and a refusal naming %s:\n%s", res.code, tc.shown, res.stderr)
				}
				for _, s := range []string{password, "hunter/2pw", "hunter%2F2pw"} {
					if strings.Contains(res.stdout+res.stderr, s) {
						t.Errorf("the output shows %q:\n%s", s, res.stderr)
					}
				}
				if _, err := os.Stat(w.out); err == nil {
					t.Error("out/ written though no engine was connected")
				}
			})
		}
	}
}
