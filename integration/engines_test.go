package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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
