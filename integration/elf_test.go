package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestRunFailsAnArtifactOfAnotherCPU runs real binaries through the ELF check: a real
// executable of another CPU (cross-compiled by the Go toolchain) in a cell of this
// machine's platform fails it before its test, naming the file in the artifact; the
// image's own /bin/ls fails a cell that declares a glibc older than the one it needs;
// the same copied into a cell that declares a recent enough one is built, tested and
// recorded with what it needs.
func TestRunFailsAnArtifactOfAnotherCPU(t *testing.T) {
	e := needDocker(t)
	w := newWorkspace(t)
	foreign, native := "arm64", "amd64"
	if runtime.GOARCH == "arm64" {
		foreign, native = "amd64", "arm64"
	}
	bins := filepath.Join(w.dir, "bins")
	os.MkdirAll(bins, 0o755)
	writeFile(t, filepath.Join(bins, "main.go"), "package main\n\nfunc main() {}\n")
	build := exec.Command("go", "build", "-o", "foreign", "main.go")
	build.Dir = bins
	build.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+foreign, "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("cross-compiling for %s: %v\n%s", foreign, err, out)
	}
	mount := "  platform = \"linux/" + native + "\"\n  mount {\n    source = \"" + bins + "\"\n    target = \"/bins\"\n    read_only = true\n  }\n" +
		"  test {\n    script = \"test -x out/bin/ls\"\n  }\n"
	specPath := w.spec(t, target("cpu", `mkdir -p out/sharp/build/Release
		cp /bins/foreign out/sharp/build/Release/sharp.node`, mount)+
		target("old-glibc", `mkdir -p out/bin; cp /bin/ls out/bin/ls`, mount+"  glibc = \"2.17\"\n")+
		target("glibc", `mkdir -p out/bin; cp /bin/ls out/bin/ls`, mount+"  glibc = \"2.99\"\n"))
	res := w.matrix(t, nil, "run", "--keep-going", "--out", w.out, specPath)
	m := checkRun(t, e, w, res.stderr, want{
		ok: []string{"glibc.tar.gz"},
		failed: map[string][]string{
			"cpu.tar.gz":       {"out/sharp/build/Release/sharp.node is built for " + foreign + "; the cell's CPU is " + native},
			"old-glibc.tar.gz": {"out/bin/ls needs GLIBC_2.", "the runtime has 2.17"},
		},
	})
	if t.Failed() {
		t.Logf("stderr:\n%s", res.stderr)
	}
	for _, f := range m.Failed {
		if f.ELF == nil || len(f.ELF.Files) != 1 || f.Test != nil {
			t.Errorf("%s: recorded ELF %+v and test %+v; want the one file and no test", f.Artifact, f.ELF, f.Test)
		}
	}
	if len(m.Artifacts) != 1 {
		return
	}
	if a := m.Artifacts[0]; a.ELF == nil || a.ELF.FloorFile != "out/bin/ls" || a.ELF.Libc != "glibc" || strings.Join(a.ELF.Machines, ",") != native || a.Test == nil || !a.Test.Passed {
		t.Errorf("the artifact's record: ELF %+v, test %+v", a.ELF, a.Test)
	}
}
