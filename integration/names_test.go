package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/engine"
	"github.com/matrixbuild/matrix/internal/filename"
	"github.com/matrixbuild/matrix/lock"
)

// namedTarget is a target building /build/out whose artifact has the given name.
func namedTarget(name, artifact, extra string) string {
	return fmt.Sprintf(`
target %q {
  image    = %q
  network  = "host"
  workdir  = "/build"
  script   = "mkdir -p out && echo built > out/file.txt"
  collect  = "/build/out"
  timeout  = "2m"
  retries  = 0
  artifact = %s
%s
}
`, name, testImage, artifact, extra)
}

// TestNamesReserved: an artifact named like an entry the tool writes into the output
// directory (manifest.json, SHA256SUMS, report.html, the logs directory, in any case) is refused by
// validate and by run, with exit 1, the reason and the place in the file; run creates
// no output directory.
func TestNamesReserved(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ artifact, format, own string }{
		{"manifest.json", "zip", "manifest.json"},
		{"SHA256SUMS", "tar.gz", "SHA256SUMS"},
		{"Logs", "tar.gz", "logs"},
		{"Report.HTML", "zip", "report.html"},
		// The claim file, and a name like the temporaries a later run removes.
		{".matrix.lock", "zip", ""},
		{".a.tar.gz.tmp-123", "tar.gz", ""},
	} {
		t.Run(tc.artifact, func(t *testing.T) {
			t.Parallel()
			w := newWorkspace(t)
			specPath := w.spec(t, namedTarget("t", strconv.Quote(tc.artifact), fmt.Sprintf("  format   = %q", tc.format)))
			why := fmt.Sprintf("The artifact name %q is not a plain file name: it is the tool's own %q in the output directory", tc.artifact, tc.own)
			if tc.own == "" {
				why = fmt.Sprintf("The artifact name %q is not a plain file name: it starts with '.', which marks the tool's own hidden and temporary files", tc.artifact)
			}
			for _, args := range [][]string{{"validate", specPath}, {"run", "--out", w.out, specPath}} {
				res := w.matrix(t, nil, args...)
				if res.code != 1 || !strings.Contains(res.stderr, why) || !strings.Contains(res.stderr, "matrix.hcl:10:14") {
					t.Errorf("matrix %s: exit %d, want 1 and %q at matrix.hcl:10:14\n%s%s", args[0], res.code, why, res.stdout, res.stderr)
				}
			}
			if _, err := os.Stat(w.out); !os.IsNotExist(err) {
				t.Errorf("a refused run made the output directory: %v", err)
			}
		})
	}
}

// TestNamesNotUTF8FromVariables: an artifact name that is not valid UTF-8, given by
// --var or MATRIX_VAR_*, is refused by validate at the artifact attribute.
func TestNamesNotUTF8FromVariables(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	specPath := w.spec(t, `variable "name" {
  default = "a.tar.gz"
}
`+namedTarget("t", "var.name", ""))
	bad := "a\xffb.tar.gz"
	for _, tc := range []struct {
		env  []string
		args []string
	}{
		{nil, []string{"validate", "--var", "name=" + bad, specPath}},
		{[]string{"MATRIX_VAR_name=" + bad}, []string{"validate", specPath}},
	} {
		res := w.matrix(t, tc.env, tc.args...)
		if res.code != 1 || !strings.Contains(res.stderr, `The artifact name "a\xffb.tar.gz" is not a plain file name: it is not valid UTF-8`) ||
			!strings.Contains(res.stderr, "matrix.hcl:13:14") {
			t.Errorf("matrix %v (env %q): exit %d\n%s%s", tc.args, tc.env, res.code, res.stdout, res.stderr)
		}
	}
}

// TestNamesLongestBuilds: an artifact name of filename.MaxLen bytes is built, tested,
// logged and verified: every name the run derives from it fits the file system. And
// every entry the run made in the output directory besides the artifact is one that
// the name rule refuses, so no artifact can take its place.
func TestNamesLongestBuilds(t *testing.T) {
	e := needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	name := strings.Repeat("é", (filename.MaxLen-len(".tar.gz"))/2)
	name = strings.Repeat("x", filename.MaxLen-len(".tar.gz")-len(name)) + name + ".tar.gz"
	if len(name) != filename.MaxLen {
		t.Fatalf("name of %d bytes", len(name))
	}
	specPath := w.spec(t, namedTarget("longest", strconv.Quote(name), ""))
	res := w.matrix(t, nil, "run", "--out", w.out, specPath)
	if res.code != 0 {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	checkRun(t, e, w, res.stderr, want{ok: []string{name}})
	if _, err := os.Stat(filepath.Join(w.out, "logs", name+".log")); err != nil {
		t.Errorf("log: %v", err)
	}
	entries, err := os.ReadDir(w.out)
	if err != nil {
		t.Fatal(err)
	}
	own := 0
	for _, d := range entries {
		if d.Name() == name {
			continue
		}
		own++
		if filename.Why(d.Name()) == "" {
			t.Errorf("the run wrote %s into the output directory, a name an artifact may have", d.Name())
		}
	}
	if own < 4 { // manifest.json, SHA256SUMS, logs, .matrix.lock
		t.Errorf("the output directory holds %v", entries)
	}
}

// TestNamesLockedExtraFile: a lock entry edited to hold an .npmrc beside the cell's
// lock_files makes `run --locked` fail before anything is built, naming the entry and
// the file: no run starts, no container is created, no output directory is made and
// the lock file is left as it is.
func TestNamesLockedExtraFile(t *testing.T) {
	needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	cellName := "planted-" + randomHex(t, 4) // unique among the engine's containers
	artifact := cellName + ".tar.gz"
	script := `mkdir -p out
		echo '{"name":"x"}' > package.json
		echo '{"lockfileVersion":3}' > package-lock.json
		cp package-lock.json out/`
	specPath := w.spec(t, target(cellName, script, ""))
	lockStart := time.Now()
	if res := w.matrix(t, nil, "lock", specPath); res.code != 0 {
		t.Fatalf("matrix lock: exit %d\n%s", res.code, res.stderr)
	}
	lockEnd := time.Now()
	lockPath := filepath.Join(w.dir, lock.FileName)
	locks, err := lock.Read(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	entry := locks.Cells[artifact]
	if entry == nil {
		t.Fatalf("no entry for %s", artifact)
	}
	entry.Files[".npmrc"] = lock.Content("registry=http://127.0.0.1:9/\n")
	if err := locks.Write(lockPath); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(lockPath)

	start := time.Now()
	res := w.matrix(t, nil, "run", "--locked", "--out", w.out, specPath)
	end := time.Now()
	if res.code != 1 || !strings.Contains(res.stderr, artifact+": the lock entry holds what a build never records") ||
		!strings.Contains(res.stderr, `".npmrc", which is not one of the cell's lock_files`) {
		t.Errorf("run --locked with an .npmrc in the entry: exit %d\n%s", res.code, res.stderr)
	}
	if id := runID(res.stderr); id != "" {
		t.Errorf("run %s started", id)
	}
	if _, err := os.Stat(w.out); !os.IsNotExist(err) {
		t.Errorf("a refused --locked run made the output directory: %v", err)
	}
	if after, _ := os.ReadFile(lockPath); string(after) != string(before) {
		t.Error("a refused --locked run changed the lock file")
	}
	// The engine's own record: the lock run created the cell's container, the refused
	// run none.
	if n := containersCreated(t, cellName, lockStart.Add(-time.Second), lockEnd); n == 0 {
		t.Errorf("no container creation of %s seen during matrix lock: the engine's events are not read right", cellName)
	}
	if n := containersCreated(t, cellName, start, end); n != 0 {
		t.Errorf("the refused --locked run created %d container(s)", n)
	}
}

// containersCreated counts the engine's container create events between two times
// for containers of the tool labelled with the cell.
func containersCreated(t *testing.T, cell string, since, until time.Time) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	unix := func(at time.Time) string { return fmt.Sprintf("%d.%09d", at.Unix(), at.Nanosecond()) }
	out, err := exec.CommandContext(ctx, "docker", "events", "--since", unix(since), "--until", unix(until.Add(time.Second)),
		"--filter", "type=container", "--filter", "event=create",
		"--filter", "label="+engine.LabelCell+"="+cell, "--format", "{{.ID}}").Output()
	if err != nil {
		t.Fatalf("docker events: %v", err)
	}
	return len(strings.Fields(string(out)))
}
