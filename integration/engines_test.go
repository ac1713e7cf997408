package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/manifest"
)

// secondEngine is a dockerd of the test's own beside the machine's, with the test
// image loaded (../shared/ENVIRONMENT.md: "A second engine on the same machine").
type secondEngine struct {
	root, host string
	cmd        *exec.Cmd
}

// startSecondEngine needs root and dockerd; it runs only with
// MATRIX_TEST_SECOND_ENGINE=1 or MATRIX_TEST_ENGINE_RESTART=1 (CI sets both).
func startSecondEngine(t *testing.T) *secondEngine {
	t.Helper()
	if os.Getenv("MATRIX_TEST_SECOND_ENGINE") != "1" && os.Getenv("MATRIX_TEST_ENGINE_RESTART") != "1" {
		t.Skip("set MATRIX_TEST_SECOND_ENGINE=1 to start a second engine of the test's own")
	}
	root, err := os.MkdirTemp("", "d2-")
	if err != nil {
		t.Fatal(err)
	}
	d := &secondEngine{root: root, host: "unix://" + filepath.Join(root, "docker.sock")}
	d.start(t)
	t.Cleanup(func() {
		exec.Command("sh", "-c", "docker -H "+d.host+" ps -aq | xargs -r docker -H "+d.host+" rm -f").Run()
		d.stop()
		exec.Command("umount", filepath.Join(root, "exec", "netns", "default")).Run() // else root cannot be removed
		os.RemoveAll(root)
	})
	load := exec.Command("sh", "-c", "docker save "+testImage+" | docker -H "+d.host+" load")
	if out, err := load.CombinedOutput(); err != nil {
		t.Fatalf("loading %s into the second engine: %v\n%s", testImage, err, out)
	}
	return d
}

func (d *secondEngine) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command("dockerd", "--host", d.host, "--data-root", filepath.Join(d.root, "data"),
		"--exec-root", filepath.Join(d.root, "exec"), "--pidfile", filepath.Join(d.root, "docker.pid"),
		"--bridge=none", "--iptables=false", "--ip-forward=false", "--ip-masq=false")
	logf, _ := os.OpenFile(filepath.Join(d.root, "dockerd.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("dockerd: %v", err)
	}
	d.cmd = cmd
	for range 300 {
		if exec.Command("docker", "-H", d.host, "info").Run() == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the second dockerd does not answer")
}

// stop stops the engine as a service manager does: it stops its containers and exits.
func (d *secondEngine) stop() {
	d.cmd.Process.Signal(syscall.SIGTERM)
	d.cmd.Wait()
}

// TestTwoEngines: `--engine` twice shares the cells between two engines, each
// running --jobs at once; the manifest names the engine of each artifact, and the
// artifacts are the same bytes wherever they were built.
func TestTwoEngines(t *testing.T) {
	e := needDocker(t)
	d2 := startSecondEngine(t)
	w := newWorkspace(t)
	hcl := strings.Replace(target("cell", `sleep 1; mkdir -p out; echo "$N" > out/n`, `  env = { N = matrix.n }`),
		`target "cell" {`, "target \"cell\" {\n  matrix = { n = [1, 2, 3, 4] }", 1)
	hcl = strings.Replace(hcl, `artifact = "cell.tar.gz"`, `artifact = "cell-${matrix.n}.tar.gz"`, 1)
	specPath := w.spec(t, hcl)
	first := "unix:///var/run/docker.sock"
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		first = h
	}
	res := w.matrix(t, nil, "run", "-j", "1", "--engine", first, "--engine", d2.host, "--out", w.out, specPath)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	m := checkRun(t, e, w, res.stderr, want{ok: []string{"cell-1.tar.gz", "cell-2.tar.gz", "cell-3.tar.gz", "cell-4.tar.gz"}})
	if out, _ := exec.Command("docker", "-H", d2.host, "ps", "-aq", "--filter", "label=org.matrixbuild.tool=matrix").Output(); len(out) > 0 {
		t.Errorf("containers left on the second engine: %s", out)
	}
	used := map[string]int{}
	for _, a := range m.Artifacts {
		used[a.Engine]++
	}
	if len(used) != 2 || used[d2.host] == 0 {
		t.Errorf("artifacts per engine = %v, want both engines used", used)
	}
	// One cell at a time on each engine: four one-second cells take about two seconds.
	if res.elapsed > 15*time.Second {
		t.Errorf("took %v", res.elapsed)
	}

	// Same cells, one engine: the same bytes.
	res = w.matrix(t, nil, "run", "--engine", d2.host, "--out", filepath.Join(w.dir, "one"), specPath)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	a, _ := os.ReadFile(filepath.Join(w.out, "SHA256SUMS"))
	b, _ := os.ReadFile(filepath.Join(w.dir, "one", "SHA256SUMS"))
	if string(a) != string(b) || len(a) == 0 {
		t.Errorf("sums differ between two engines and one:\n%s\n%s", a, b)
	}
}

// sshHost is an sshd of the test's own on a loopback port, with a throwaway host key,
// letting the current user in with a throwaway key and running its commands with the
// machine's docker CLI, which reaches the machine's engine.
type sshHost struct {
	dir  string
	port int
	user string
}

// startSSHHost needs sshd (scripts/setup.sh installs it); a missing one skips the test
// locally and fails it in CI.
func startSSHHost(t *testing.T) *sshHost {
	t.Helper()
	sshd, err := exec.LookPath("sshd")
	if err != nil {
		sshd = "/usr/sbin/sshd"
	}
	if _, err := os.Stat(sshd); err != nil {
		if os.Getenv("CI") != "" || os.Getenv("MATRIX_REQUIRE_DOCKER") != "" {
			t.Fatalf("sshd needed (scripts/setup.sh installs it): %v", err)
		}
		t.Skipf("no sshd: %v", err)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	h := &sshHost{dir: t.TempDir(), user: u.Username}
	for _, key := range []string{"host_key", "id_ed25519", "other_key"} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", key, "-f", h.path(key)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	pub, err := os.ReadFile(h.path("id_ed25519.pub"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, h.path("authorized_keys"), string(pub))
	// sshd as root wants its privilege separation directory, which its service makes.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil && u.Uid == "0" {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	config := fmt.Sprintf(`ListenAddress 127.0.0.1:%d
HostKey %s
PidFile none
AuthorizedKeysFile %s
StrictModes no
AllowUsers %s
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
`, h.port, h.path("host_key"), h.path("authorized_keys"), h.user)
	if dh := os.Getenv("DOCKER_HOST"); dh != "" {
		config += "SetEnv DOCKER_HOST=" + dh + "\n"
	}
	writeFile(t, h.path("sshd_config"), config)
	cmd := exec.Command(sshd, "-D", "-e", "-f", h.path("sshd_config"))
	log := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("sshd: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		<-done
		if t.Failed() {
			t.Logf("sshd log:\n%s", log.String())
		}
	})
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", h.port)); err == nil {
			c.Close()
			break
		}
		select {
		case <-done:
			t.Fatalf("sshd ended: %s", log.String())
		case <-time.After(100 * time.Millisecond):
		}
		if i == 300 {
			t.Fatalf("sshd does not listen on port %d: %s", h.port, log.String())
		}
	}
	hostPub, err := os.ReadFile(h.path("host_key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, h.path("known_hosts"), fmt.Sprintf("[127.0.0.1]:%d %s", h.port, hostPub))
	writeFile(t, h.path("empty_known_hosts"), "")
	return h
}

func (h *sshHost) path(name string) string { return filepath.Join(h.dir, name) }

// engine is the host's address as --engine takes it.
func (h *sshHost) engine() string { return fmt.Sprintf("ssh://%s@127.0.0.1:%d", h.user, h.port) }

// clientEnv returns the PATH under which `ssh` is the real ssh reading a client
// configuration of the test's own (ssh reads ~/.ssh of the passwd entry, never of
// $HOME), with the given key and known hosts file; host keys are checked strictly.
func (h *sshHost) clientEnv(t *testing.T, key, knownHosts string) []string {
	t.Helper()
	real, err := exec.LookPath("ssh")
	if err != nil {
		t.Fatalf("ssh: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(filepath.Dir(bin), "ssh_config")
	writeFile(t, config, fmt.Sprintf(`Host *
  IdentityFile %s
  IdentitiesOnly yes
  IdentityAgent none
  UserKnownHostsFile %s
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
`, h.path(key), h.path(knownHosts)))
	if err := os.WriteFile(filepath.Join(bin, "ssh"), []byte("#!/bin/sh\nexec "+real+" -F "+config+" \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")}
}

// sshClients lists the ssh processes still running `docker system dial-stdio` through
// port, from /proc.
func sshClients(t *testing.T, port int) []string {
	t.Helper()
	paths, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue // ended since the listing
		}
		args := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
		if filepath.Base(args[0]) == "ssh" && slices.Contains(args, strconv.Itoa(port)) && strings.Contains(string(data), "dial-stdio") {
			found = append(found, strings.Join(args, " "))
		}
	}
	return found
}

// TestSSHEngine: `--engine ssh://user@host:port` builds on the engine that the ssh
// login's docker CLI reaches (`docker system dial-stdio` over the real ssh and sshd),
// and so does a Docker CLI context whose endpoint is that address; the manifest names
// the ssh:// engine, and no ssh process outlives the run.
func TestSSHEngine(t *testing.T) {
	e := needDocker(t)
	h := startSSHHost(t)
	env := h.clientEnv(t, "id_ed25519", "known_hosts")
	w := newWorkspace(t)
	specPath := w.spec(t, target("cell", `mkdir -p out; uname -m > out/arch; sleep 2`, ""))

	run := w.start(t, env, "run", "--engine", h.engine(), "--out", w.out, specPath)
	// While the cell builds, its ssh processes are there to be seen, so that seeing
	// none after the run means something.
	run.waitFor(t, time.Minute, "matrix: run ")
	for i := 0; len(sshClients(t, h.port)) == 0; i++ {
		if i == 100 {
			t.Fatalf("no ssh process seen during the run; stderr:\n%s", run.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code := run.wait(t, 3*time.Minute); code != 0 {
		t.Fatalf("exit %d\n%s", code, run.stderr.String())
	}
	stderr := run.stderr.String()
	m := checkRun(t, e, w, stderr, want{ok: []string{"cell.tar.gz"}})
	if len(m.Artifacts) == 1 && m.Artifacts[0].Engine != h.engine() {
		t.Errorf("manifest engine = %q, want %q", m.Artifacts[0].Engine, h.engine())
	}
	if !strings.Contains(stderr, h.engine()) {
		t.Errorf("stderr does not name the engine %s:\n%s", h.engine(), stderr)
	}
	for i := 0; len(sshClients(t, h.port)) > 0; i++ {
		if i == 100 {
			t.Fatalf("ssh processes left after the run:\n%s", strings.Join(sshClients(t, h.port), "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The same address as the current Docker CLI context (DOCKER_HOST unset).
	config := filepath.Join(w.dir, "docker-config")
	sum := sha256.Sum256([]byte("builder"))
	meta := filepath.Join(config, "contexts", "meta", hex.EncodeToString(sum[:]))
	if err := os.MkdirAll(meta, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(meta, "meta.json"), `{"Name":"builder","Metadata":{},"Endpoints":{"docker":{"Host":"`+h.engine()+`","SkipTLSVerify":false}}}`)
	writeFile(t, filepath.Join(config, "config.json"), `{"currentContext":"builder"}`)
	out2 := filepath.Join(w.dir, "out2")
	res := w.matrix(t, append(env, "DOCKER_HOST=", "DOCKER_CONFIG="+config), "run", "--out", out2, specPath)
	if res.code != 0 {
		t.Fatalf("context: exit %d\n%s", res.code, res.stderr)
	}
	m2, err := manifest.Read(out2)
	if err != nil {
		t.Fatal(err)
	}
	if len(m2.Artifacts) != 1 || m2.Artifacts[0].Engine != h.engine() || m2.Artifacts[0].SHA256 != m.Artifacts[0].SHA256 {
		t.Errorf("context: artifacts %+v, want one built by %s with sha256 %s", m2.Artifacts, h.engine(), m.Artifacts[0].SHA256)
	}
}

// TestSSHEngineFailures: when ssh cannot log in, matrix exits 1 at once, naming the
// engine (never its password) and showing ssh's own error line.
func TestSSHEngineFailures(t *testing.T) {
	needDocker(t)
	h := startSSHHost(t)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()
	const password = "s3cr3tpass"
	tests := []struct {
		name, engine, key, knownHosts string
		want                          []string
	}{
		{"wrong port", fmt.Sprintf("ssh://%s@127.0.0.1:%d", h.user, closedPort), "id_ed25519", "known_hosts",
			[]string{fmt.Sprintf("no Docker engine answers at ssh://%s@127.0.0.1:%d", h.user, closedPort), fmt.Sprintf("ssh: connect to host 127.0.0.1 port %d: Connection refused", closedPort)}},
		{"key refused", h.engine(), "other_key", "known_hosts",
			[]string{"no Docker engine answers at " + h.engine(), h.user + "@127.0.0.1: Permission denied (publickey)"}},
		{"unknown host key, no prompt", h.engine(), "id_ed25519", "empty_known_hosts",
			[]string{"no Docker engine answers at " + h.engine(), "Host key verification failed."}},
		{"password in the address", fmt.Sprintf("ssh://%s:%s@127.0.0.1:%d", h.user, password, h.port), "id_ed25519", "known_hosts",
			[]string{fmt.Sprintf("ssh://%s:xxxxx@127.0.0.1:%d", h.user, h.port), "holds a password"}},
		{"password behind a percent-encoded colon", fmt.Sprintf("ssh://%s%%3A%s@127.0.0.1:%d", h.user, password, h.port), "id_ed25519", "known_hosts",
			[]string{fmt.Sprintf("ssh://%s%%3Axxxxx@127.0.0.1:%d", h.user, h.port), "holds a password"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorkspace(t)
			specPath := w.spec(t, target("cell", `mkdir -p out; echo x > out/x`, ""))
			res := w.matrix(t, h.clientEnv(t, tc.key, tc.knownHosts), "run", "--engine", tc.engine, "--out", w.out, specPath)
			t.Logf("stderr: %s", res.stderr)
			if res.code != 1 {
				t.Errorf("exit %d, want 1", res.code)
			}
			for _, s := range tc.want {
				if !strings.Contains(res.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, res.stderr)
				}
			}
			if strings.Contains(res.stderr+res.stdout, password) {
				t.Errorf("output shows the password:\n%s", res.stderr)
			}
			if _, err := os.Stat(w.out); err == nil {
				t.Errorf("out/ written though no engine answered")
			}
		})
	}
}
