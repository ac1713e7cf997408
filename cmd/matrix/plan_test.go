package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/plan"
)

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// exampleFile and exampleVars are copies of the root matrix.hcl and offline.hcl, kept in
// spec/testdata so that editing the example does not break these tests; only
// TestRootMatrixFileValidates reads the root files.
const (
	exampleFile = "../../spec/testdata/matrix.hcl"
	exampleVars = "../../spec/testdata/offline.hcl"
)

// TestRootMatrixFileValidates: the example matrix file at the root of the repository,
// alone and with its offline variables, is valid.
func TestRootMatrixFileValidates(t *testing.T) {
	for _, args := range [][]string{
		{"validate", "../../matrix.hcl"},
		{"validate", "--var-file", "../../offline.hcl", "../../matrix.hcl"},
	} {
		if code, out, stderr := runCmd(t, args...); code != 0 || !strings.HasPrefix(out, "valid: 1 target, ") {
			t.Errorf("%v: exit %d, %q\n%s", args, code, out, stderr)
		}
	}
}

func TestPlanJSONStable(t *testing.T) {
	for _, args := range [][]string{
		{"plan", "--json", exampleFile},
		{"plan", "--json", "--var-file", exampleVars, exampleFile},
	} {
		code, first, stderr := runCmd(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		for range 5 {
			if _, again, _ := runCmd(t, args...); again != first {
				t.Fatalf("%v: output differs between runs", args)
			}
		}
		var cells []map[string]any
		if err := json.Unmarshal([]byte(first), &cells); err != nil {
			t.Fatal(err)
		}
		for _, c := range cells {
			for _, k := range []string{"target", "name", "id", "axes", "image", "platform", "workdir", "env", "pass_env", "mounts", "script", "collect", "artifact", "format", "timeout", "max_size", "retries", "test"} {
				if _, ok := c[k]; !ok {
					t.Errorf("%v: cell lacks %q: %v", args, k, c)
				}
			}
		}
	}
}

func TestPlanExampleFile(t *testing.T) {
	code, out, stderr := runCmd(t, "plan", exampleFile)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 19 { // header and 3 sharp x 3 node x 2 arch
		t.Fatalf("%d lines, want 19:\n%s", len(lines), out)
	}
	if !strings.HasPrefix(lines[0], "#") || !strings.Contains(lines[0], "SHARP") || !strings.Contains(lines[0], "ARTIFACT") {
		t.Errorf("header: %q", lines[0])
	}
	if f := strings.Fields(lines[1]); len(f) < 9 || f[1] != "sharp-lambda-x64-20-0.33.5-955138a1" || f[3] != "0.33.5" || f[4] != "20" || f[5] != "x64" ||
		f[6] != "public.ecr.aws/sam/build-nodejs20.x" || f[8] != "sharp-0.33.5-node20-linux-x64.tar.gz" {
		t.Errorf("first row: %q", lines[1])
	}

	code, out, stderr = runCmd(t, "plan", "--var-file", exampleVars, exampleFile)
	if code != 0 {
		t.Fatalf("offline: exit %d: %s", code, stderr)
	}
	if n := strings.Count(out, "local/node:"); n != 9 {
		t.Errorf("offline plan has %d local/node images, want 9:\n%s", n, out)
	}
	code, out, _ = runCmd(t, "plan", "--json", "--var-file", exampleVars, exampleFile)
	if code != 0 || !strings.Contains(out, `"NODE_EXTRA_CA_CERTS"`) || !strings.Contains(out, `"network": "host"`) ||
		!strings.Contains(out, `"source": "/etc/ssl/certs/ca-certificates.crt"`) {
		t.Errorf("offline plan lacks the CA bundle mount or host network:\n%s", out)
	}
}

func TestPlanTargetsAndErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "m.hcl")
	src := `
target "a" {
  matrix   = { v = ["1", "2"] }
  image    = "img"
  script   = "true"
  artifact = "a-${matrix.v}.zip"
  pass_env = ["SECRET_TOKEN"]
}
target "b" {
  image    = "img"
  script   = "true"
  artifact = "b.zip"
}
`
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SECRET_TOKEN", "do-not-print")
	code, out, stderr := runCmd(t, "plan", "--json", file, "b")
	if code != 0 || !strings.Contains(out, `"b.zip"`) || strings.Contains(out, `"a-1.zip"`) {
		t.Errorf("plan b: exit %d\n%s%s", code, out, stderr)
	}
	code, out, _ = runCmd(t, "plan", "--json", file)
	if code != 0 || strings.Contains(out, "do-not-print") || !strings.Contains(out, "SECRET_TOKEN") {
		t.Errorf("plan: exit %d, pass_env value printed or name missing:\n%s", code, out)
	}
	code, _, stderr = runCmd(t, "plan", file, "nope")
	if code != 1 || !strings.Contains(stderr, `no target named "nope"`) || !strings.Contains(stderr, "Its targets are: a, b.") {
		t.Errorf("unknown target: exit %d: %s", code, stderr)
	}
	if code, _, stderr = runCmd(t, "plan", "--bogus", file); code != 2 {
		t.Errorf("unknown flag: exit %d: %s", code, stderr)
	}
	if code, _, stderr = runCmd(t, "plan", filepath.Join(dir, "missing.hcl")); code != 1 || !strings.Contains(stderr, "missing.hcl") {
		t.Errorf("missing file: exit %d: %s", code, stderr)
	}
}

func TestValidate(t *testing.T) {
	code, out, stderr := runCmd(t, "validate", exampleFile)
	if code != 0 || out != "valid: 1 target, 18 cells\n" {
		t.Errorf("validate: exit %d, %q %s", code, out, stderr)
	}
	code, out, _ = runCmd(t, "validate", "--var-file", exampleVars, "--var", "nodes=[22]", exampleFile)
	if code != 0 || out != "valid: 1 target, 3 cells\n" {
		t.Errorf("validate offline: exit %d, %q", code, out)
	}
	code, out, stderr = runCmd(t, "validate", "--var", `archs=["ppc64"]`, exampleFile)
	if code != 1 || out != "" || !strings.Contains(stderr, "Lambda runs x64 and arm64 only.") ||
		!strings.Contains(stderr, "matrix.hcl:30:") || !strings.Contains(stderr, "^~~") {
		t.Errorf("validate bad var: exit %d, %q\n%s", code, out, stderr)
	}
	if code, _, stderr = runCmd(t, "validate", exampleFile, "extra"); code != 2 {
		t.Errorf("two args: exit %d: %s", code, stderr)
	}
	if code, _, stderr = runCmd(t, "validate", "--var", "nope=1", exampleFile); code != 1 || !strings.Contains(stderr, "undeclared variable") {
		t.Errorf("undeclared var: exit %d: %s", code, stderr)
	}
}

func TestValidateDefaultFile(t *testing.T) {
	dir := t.TempDir()
	src := "target \"t\" {\n  image = \"i\"\n  script = \"s\"\n  artifact = \"a.zip\"\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "matrix.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	if code, out, stderr := runCmd(t, "validate"); code != 0 || out != "valid: 1 target, 1 cell\n" {
		t.Errorf("exit %d, %q %s", code, out, stderr)
	}
	// A directory stands for its matrix.hcl ("is a directory" before).
	t.Chdir(t.TempDir())
	if code, out, stderr := runCmd(t, "validate", dir); code != 0 || out != "valid: 1 target, 1 cell\n" {
		t.Errorf("validate DIR: exit %d, %q %s", code, out, stderr)
	}
	if code, out, stderr := runCmd(t, "plan", dir, "t"); code != 0 || !strings.Contains(out, "a.zip") {
		t.Errorf("plan DIR TARGET: exit %d, %q %s", code, out, stderr)
	}
}

// TestSingleDashVarFlags: Terraform's spellings -var and -var-file, which messages and
// issue 2 use, work as --var and --var-file do.
func TestSingleDashVarFlags(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "m.hcl")
	src := `
variable "x" { default = "0" }
variable "y" { default = "0" }
target "t" {
  image    = "img:${var.x}-${var.y}"
  script   = "true"
  artifact = "a.zip"
}
`
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	varFile := filepath.Join(dir, "v.hcl")
	if err := os.WriteFile(varFile, []byte("y = \"5\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"plan", "-var", "x=1", file}, "img:1-0"},
		{[]string{"plan", file, "-var=x=2"}, "img:2-0"},
		{[]string{"plan", "-var-file", varFile, file}, "img:0-5"},
		{[]string{"plan", "-var-file=" + varFile, "--var", "x=3", file}, "img:3-5"},
		{[]string{"plan", "--json", "-var", "x=4", file, "t"}, `"image": "img:4-0"`},
		{[]string{"validate", "-var", "x=1", file}, "valid: 1 target, 1 cell"},
	}
	for _, tt := range tests {
		code, out, stderr := runCmd(t, tt.args...)
		if code != 0 || !strings.Contains(out, tt.want) {
			t.Errorf("%v: exit %d, want %q in:\n%s%s", tt.args, code, tt.want, out, stderr)
		}
	}
	// Usage errors stay usage errors, and other single-dash words are not rewritten.
	for _, args := range [][]string{
		{"plan", "-var"},
		{"plan", "-variable", "x=1", file},
		{"validate", "-var", "x=1", file, "extra"},
		{"plan", "--nope", file},
	} {
		if code, _, stderr := runCmd(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2: %s", args, code, stderr)
		}
	}
	if code, out, _ := runCmd(t, "plan", "--help"); code != 0 || !strings.Contains(out, "--var-file") {
		t.Errorf("plan --help: exit %d:\n%s", code, out)
	}
}

func TestSingleDashVarArgs(t *testing.T) {
	tests := []struct{ in, want []string }{
		{[]string{"-var", "a=1"}, []string{"--var", "a=1"}},
		{[]string{"-var=a=1", "-var-file=f"}, []string{"--var=a=1", "--var-file=f"}},
		{[]string{"-var-file", "f", "x.hcl"}, []string{"--var-file", "f", "x.hcl"}},
		{[]string{"--var", "-var", "-v"}, []string{"--var", "-var", "-v"}}, // a value stays as written
		{[]string{"-variable", "-var-files", "-vars"}, []string{"-variable", "-var-files", "-vars"}},
		{[]string{"x.hcl", "--", "-var"}, []string{"x.hcl", "--", "-var"}},
	}
	for _, tt := range tests {
		if got := singleDashVarArgs(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("%q: got %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestPlanSkipped: the table lists skipped cells after the others, unnumbered, with
// their reason; --json keeps them in plan order with only what was evaluated; validate
// counts them among the cells.
func TestPlanSkipped(t *testing.T) {
	file := filepath.Join(t.TempDir(), "m.hcl")
	src := `
target "sharp" {
  matrix = { sharp = ["0.33.5", "0.34.3"], node = [18, 22] }
  skip {
    condition = matrix.sharp == "0.34.3" && matrix.node == 18
    reason    = "sharp ${matrix.sharp} needs Node.js >=20.3.0"
  }
  image    = "node:${matrix.node}"
  script   = "true"
  artifact = "sharp-${matrix.sharp}-node${matrix.node}.zip"
}
`
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	const table = `#  ID                        TARGET  SHARP   NODE  IMAGE    PLATFORM  ARTIFACT
1  sharp-18-0.33.5-66ae3c64  sharp   0.33.5  18    node:18  -         sharp-0.33.5-node18.zip
2  sharp-22-0.33.5-14358eb0  sharp   0.33.5  22    node:22  -         sharp-0.33.5-node22.zip
3  sharp-22-0.34.3-17104058  sharp   0.34.3  22    node:22  -         sharp-0.34.3-node22.zip
-  sharp-18-0.34.3-2494a704  sharp   0.34.3  18    skipped: sharp 0.34.3 needs Node.js >=20.3.0
`
	if code, out, stderr := runCmd(t, "plan", file); code != 0 || out != table {
		t.Errorf("plan: exit %d\n%s\nwant\n%s%s", code, out, table, stderr)
	}
	const skippedJSON = `  {
    "name": "sharp[sharp=0.34.3,node=18]",
    "id": "sharp-18-0.34.3-2494a704",
    "target": "sharp",
    "axes": [
      {
        "name": "sharp",
        "value": "0.34.3"
      },
      {
        "name": "node",
        "value": 18
      }
    ],
    "skipped": "sharp 0.34.3 needs Node.js >=20.3.0"
  },
`
	code, out, stderr := runCmd(t, "plan", "--json", file)
	var cells []map[string]any
	if err := json.Unmarshal([]byte(out), &cells); code != 0 || err != nil || len(cells) != 4 {
		t.Fatalf("plan --json: exit %d, %v\n%s%s", code, err, out, stderr)
	}
	if !strings.Contains(out, skippedJSON) || cells[2]["skipped"] == nil || cells[1]["skipped"] != nil || cells[3]["skipped"] != nil {
		t.Errorf("plan --json: the third cell is not the skipped one as\n%s\n%s", skippedJSON, out)
	}
	if code, out, stderr := runCmd(t, "validate", file); code != 0 || out != "valid: 1 target, 4 cells, 1 skipped\n" {
		t.Errorf("validate: exit %d, %q %s", code, out, stderr)
	}
}

func TestPlanTableEscapesControls(t *testing.T) {
	cells := []plan.Cell{{
		Target:   "t",
		Axes:     []plan.Axis{{Name: "branch", Value: "\x1b]0;PWNED\x07\x1b[2J\r\x1b[Kfake\tok\n\xff"}},
		Image:    "node:22",
		Artifact: "a.zip",
	}, {
		// A right-to-left override would reverse the rest of the row on the terminal.
		Target:   "t",
		Axes:     []plan.Axis{{Name: "branch", Value: "\u202emain\u2066x\u2069\u200f"}},
		Image:    "node:22",
		Artifact: "b.zip",
	}}
	var out bytes.Buffer
	if err := writePlanTable(&out, cells); err != nil {
		t.Fatal(err)
	}
	const want = `#  ID                              TARGET  BRANCH                                             IMAGE    PLATFORM  ARTIFACT
1  t-0-pwned-2j-kfake-ok-54a4963d  t       \x1b]0;PWNED\x07\x1b[2J\x0d\x1b[Kfake\tok\x0a\xff  node:22  -         a.zip
2  t-main-x-9352a510               t       \u202emain\u2066x\u2069\u200f                      node:22  -         b.zip
`
	if out.String() != want {
		t.Errorf("table:\n%s\nwant\n%s", out.String(), want)
	}
}
