package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEngineFailover stops the second of two engines in the middle of a run, while it
// builds cells: the engine leaves the pool, its cells are built again on the first,
// and the run ends with every cell built, the manifest naming the first engine for
// each artifact, and the same SHA256SUMS as a run on one engine. matrix engines lists
// both engines while they answer, and the stopped one as not reachable (exit 1).
func TestEngineFailover(t *testing.T) {
	e := needDocker(t)
	d2 := startSecondEngine(t)
	w := newWorkspace(t)
	first := "unix:///var/run/docker.sock"
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		first = h
	}

	res := w.matrix(t, nil, "engines", "--json", "--engine", first, "--engine", d2.host)
	var rows []struct {
		Address   string   `json:"address"`
		Reachable bool     `json:"reachable"`
		Version   string   `json:"version"`
		Platform  string   `json:"platform"`
		Emulates  []string `json:"emulates"`
		Emulation string   `json:"emulation"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &rows); res.code != 0 || err != nil || len(rows) != 2 ||
		rows[1].Address != d2.host || !rows[0].Reachable || !rows[1].Reachable || rows[1].Version == "" || rows[1].Platform == "" ||
		!strings.HasPrefix(rows[1].Emulation, "probed ") {
		t.Errorf("matrix engines: exit %d, %v, rows %+v\n%s", res.code, err, rows, res.stderr)
	}

	// The cells wait until the test lets them end, so that the second engine is
	// stopped while it builds some of them.
	gate := filepath.Join(w.dir, "gate")
	if err := os.Mkdir(gate, 0o755); err != nil {
		t.Fatal(err)
	}
	hcl := `
target "cell" {
  image    = "` + testImage + `"
  network  = "host"
  workdir  = "/build"
  matrix   = { n = [1, 2, 3, 4] }
  env      = { N = matrix.n }
  mount {
    source = "` + gate + `"
    target = "/gate"
  }
  script   = <<-EOT
    echo started
    while [ ! -e /gate/open ]; do sleep 0.1; done
    mkdir -p out
    echo "cell $N" > out/n
  EOT
  collect  = "/build/out"
  artifact = "cell-${matrix.n}.tar.gz"
  timeout  = "2m"
  retries  = 1
}
`
	specPath := w.spec(t, hcl)
	p := w.start(t, nil, "run", "-j", "2", "--engine", first, "--engine", d2.host, "--out", w.out, specPath)
	p.waitFor(t, time.Minute, "matrix: building on "+d2.host)
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(p.stderr.String(), "] started") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	d2.stop()
	writeFile(t, filepath.Join(gate, "open"), "")
	if code := p.wait(t, 3*time.Minute); code != 0 {
		t.Fatalf("the run with an engine stopped: exit %d\n%s", code, p.stderr.String())
	}
	stderr := p.stderr.String()
	for _, want := range []string{"matrix: engine " + d2.host + " leaves the pool for the rest of the run", "building again on another engine"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	m := checkRun(t, e, w, stderr, want{ok: []string{"cell-1.tar.gz", "cell-2.tar.gz", "cell-3.tar.gz", "cell-4.tar.gz"}})
	for _, a := range m.Artifacts {
		if a.Engine != first {
			t.Errorf("%s: engine %q, want %s, the one left", a.File, a.Engine, first)
		}
	}

	one := filepath.Join(w.dir, "one")
	if res := w.matrix(t, nil, "run", "--quiet", "--engine", first, "--out", one, specPath); res.code != 0 {
		t.Fatalf("the one-engine run: exit %d\n%s", res.code, res.stderr)
	}
	if a, b := readFile(t, filepath.Join(w.out, "SHA256SUMS")), readFile(t, filepath.Join(one, "SHA256SUMS")); a != b {
		t.Errorf("SHA256SUMS differ between the run that failed over and a one-engine run:\n%s\n%s", a, b)
	}

	res = w.matrix(t, nil, "engines", "--engine", first, "--engine", d2.host)
	if res.code != 1 || !strings.Contains(res.stdout, d2.host) || !strings.Contains(res.stderr, "matrix: "+d2.host+": ") {
		t.Errorf("matrix engines with one engine stopped: exit %d, want 1 naming it\n%s%s", res.code, res.stdout, res.stderr)
	}
}
