package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/matrixbuild/matrix/internal/fakeregistry"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/provenance"
)

// readStatement reads and parses OUT/provenance.intoto.jsonl, and validates it with
// the in-toto attestation types: a Statement v1 whose predicate is SLSA provenance
// v1, read strictly (no field they do not know).
func readStatement(t *testing.T, out string) (*provenance.Statement, []byte) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, manifest.ProvenanceName))
	if err != nil {
		t.Fatalf("no statement: %v", err)
	}
	st, err := provenance.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	var is intoto.Statement
	if err := protojson.Unmarshal(data, &is); err != nil {
		t.Fatalf("in-toto Statement: %v", err)
	}
	if err := is.Validate(); err != nil {
		t.Fatalf("in-toto Statement: %v", err)
	}
	pred, err := protojson.Marshal(is.GetPredicate())
	if err != nil {
		t.Fatal(err)
	}
	var p slsa.Provenance
	if err := protojson.Unmarshal(pred, &p); err != nil {
		t.Fatalf("SLSA provenance v1: %v", err)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("SLSA provenance v1: %v", err)
	}
	return st, data
}

// sshKey makes a fresh ed25519 key with the real ssh-keygen: the private key's path
// and the public key line.
func sshKey(t *testing.T, dir, name string) (string, []byte) {
	t.Helper()
	key := filepath.Join(dir, name)
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen (OpenSSH is needed): %v\n%s", err, out)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return key, pub
}

// TestProvenanceSignAndVerify: a run writes provenance.intoto.jsonl whose subjects are
// SHA256SUMS's lines; matrix sign signs it with a fresh ed25519 key so that the real
// ssh-keygen -Y verify accepts it, and matrix verify --key too. A flipped byte in one
// artifact, an edited statement, a wrong key, an added and a removed file each fail
// verify --key (exit 1) saying what. A published copy without manifest.json verifies
// by its signed statement alone.
func TestProvenanceSignAndVerify(t *testing.T) {
	needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	specPath := w.spec(t, goodTarget()+target("other", "mkdir -p out; echo other > out/o", ""))
	res := w.matrix(t, nil, "run", "--out", w.out, specPath)
	if res.code != 0 {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	st, statement := readStatement(t, w.out)
	sums, _ := os.ReadFile(filepath.Join(w.out, manifest.SumsName))
	var lines string
	for _, s := range st.Subject {
		lines += s.Digest["sha256"] + "  " + s.Name + "\n"
	}
	if lines != string(sums) || len(st.Subject) != 2 {
		t.Fatalf("subjects\n%s\nSHA256SUMS\n%s", lines, sums)
	}
	keys := t.TempDir()
	key, pub := sshKey(t, keys, "builder")
	_, otherPub := sshKey(t, keys, "other")
	otherPubPath := filepath.Join(keys, "other.pub")
	pubPath := key + ".pub"

	res = w.matrix(t, nil, "sign", "--key", key, w.out)
	if res.code != 0 || !strings.Contains(res.stdout, "signed: ") {
		t.Fatalf("sign: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	sigPath := filepath.Join(w.out, manifest.SignatureName)
	allowed := filepath.Join(keys, "allowed_signers")
	writeFile(t, allowed, "builder@example "+string(pub))
	verify := exec.Command("ssh-keygen", "-Y", "verify", "-f", allowed, "-I", "builder@example", "-n", provenance.Namespace, "-s", sigPath)
	verify.Stdin = bytes.NewReader(statement)
	if out, err := verify.CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -Y verify: %v\n%s", err, out)
	}
	res = w.matrix(t, nil, "verify", "--key", pubPath, w.out)
	if res.code != 0 || !strings.Contains(res.stdout, "is signed by") {
		t.Fatalf("verify --key: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	assertNoPartialFiles(t, w.out)

	artifact := filepath.Join(w.out, "good.tar.gz")
	original, _ := os.ReadFile(artifact)
	statementPath := filepath.Join(w.out, manifest.ProvenanceName)
	extra := filepath.Join(w.out, "extra.tar.gz")
	cases := []struct {
		name   string
		pub    string
		change func()
		undo   func()
		want   string
	}{
		{"flipped byte", pubPath, func() {
			flipped := bytes.Clone(original)
			flipped[len(flipped)/2] ^= 1
			os.WriteFile(artifact, flipped, 0o644)
		}, func() { os.WriteFile(artifact, original, 0o644) }, "good.tar.gz: changed: sha256"},
		{"edited statement", pubPath, func() {
			os.WriteFile(statementPath, bytes.Replace(statement, []byte(`"skipTests":false`), []byte(`"skipTests":true `), 1), 0o644)
		}, func() { os.WriteFile(statementPath, statement, 0o644) }, "does not match the statement"},
		{"wrong key", otherPubPath, func() {}, func() {}, "signed by another key"},
		{"added file", pubPath, func() { os.WriteFile(extra, []byte("x"), 0o644) }, func() { os.Remove(extra) }, "extra.tar.gz: not a subject of the signed statement (added)"},
		{"removed file", pubPath, func() { os.Remove(artifact) }, func() { os.WriteFile(artifact, original, 0o644) }, "good.tar.gz: missing (removed)"},
	}
	_ = otherPub
	for _, c := range cases {
		c.change()
		res := w.matrix(t, nil, "verify", "--key", c.pub, w.out)
		if res.code != 1 || !strings.Contains(res.stderr, c.want) {
			t.Errorf("%s: exit %d, want 1 and %q\n%s%s", c.name, res.code, c.want, res.stdout, res.stderr)
		}
		c.undo()
	}
	if res := w.matrix(t, nil, "verify", "--key", pubPath, w.out); res.code != 0 {
		t.Fatalf("restored: exit %d\n%s", res.code, res.stderr)
	}
	// A published copy of the artifacts, SHA256SUMS and the signed statement alone.
	published := filepath.Join(w.dir, "published")
	os.Mkdir(published, 0o755)
	for _, name := range []string{"good.tar.gz", "other.tar.gz", manifest.SumsName, manifest.ProvenanceName, manifest.SignatureName} {
		data, _ := os.ReadFile(filepath.Join(w.out, name))
		writeFile(t, filepath.Join(published, name), string(data))
	}
	if res := w.matrix(t, nil, "verify", "--key", pubPath, published); res.code != 0 || !strings.Contains(res.stdout, "vouches for exactly the artifacts") {
		t.Errorf("a published copy without manifest.json: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	os.WriteFile(filepath.Join(published, "other.tar.gz"), []byte("other bytes"), 0o644)
	if res := w.matrix(t, nil, "verify", "--key", pubPath, published); res.code != 1 || !strings.Contains(res.stderr, "other.tar.gz: changed") {
		t.Errorf("a changed artifact of a published copy: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	// A new run writes a new statement: the old signature is removed with it.
	res = w.matrix(t, nil, "run", "--out", w.out, specPath)
	if _, err := os.Stat(sigPath); res.code != 0 || !os.IsNotExist(err) {
		t.Errorf("a new run: exit %d, the earlier signature: %v", res.code, err)
	}
}

// TestProvenanceHoldsNoSecret: a run with a pass_env secret, a sensitive variable and
// a registry token in .npmrc (home and project), which the registry call of the file
// sends, records the variable's name and the others' values in the statement, and
// none of the secrets in any file of OUT or the lock file.
func TestProvenanceHoldsNoSecret(t *testing.T) {
	needDocker(t)
	t.Parallel()
	fake := fakeregistry.New(t)
	w := newWorkspace(t)
	passed := "pass-" + randomHex(t, 12)
	sensitive := "sens-" + randomHex(t, 12)
	token := "npm_" + randomHex(t, 16)
	for _, dir := range []string{w.home, w.dir} {
		writeFile(t, filepath.Join(dir, ".npmrc"), fmt.Sprintf("%s:_authToken=%s\n", strings.TrimPrefix(fake.URL(), "http:"), token))
	}
	specPath := w.spec(t, `
variable "token" {
  sensitive = true
  default   = ""
}
variable "flavour" { default = "plain" }
`+target("secret", `echo "$MATRIX_TEST_SECRET" | wc -c; mkdir -p out; echo "$SHARP" > out/f`, `  pass_env = ["MATRIX_TEST_SECRET"]
  env = { FLAVOUR = var.flavour, SHARP = npm_package("sharp", "0.34.5").version }`))
	env := []string{"MATRIX_TEST_SECRET=" + passed, "MATRIX_VAR_token=" + sensitive, "npm_config_registry=" + fake.URL()}
	res := w.matrix(t, env, "run", "--out", w.out, specPath)
	if res.code != 0 {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	if auth := strings.Join(fake.Headers("Authorization"), " "); !strings.Contains(auth, token) {
		t.Fatalf("the registry call did not send the token (%q): the test proves nothing", auth)
	}
	st, data := readStatement(t, w.out)
	ext := st.Predicate.BuildDefinition.ExternalParameters
	if string(ext.Variables["flavour"]) != `"plain"` || len(ext.SensitiveVariables) != 1 || ext.SensitiveVariables[0] != "token" {
		t.Errorf("variables %s, sensitive %v", ext.Variables, ext.SensitiveVariables)
	}
	if _, ok := ext.Variables["token"]; ok {
		t.Error("the sensitive variable is among the recorded values")
	}
	lockData, _ := os.ReadFile(filepath.Join(w.dir, "matrix.lock.json"))
	for _, s := range []string{passed, sensitive, token} {
		assertAbsent(t, w.out, s)
		if strings.Contains(res.stdout+res.stderr, s) || bytes.Contains(lockData, []byte(s)) {
			t.Errorf("the run's output or the lock file holds %q", s)
		}
	}
	if !json.Valid(data) {
		t.Error("not JSON")
	}
}

// rebuildSpec has a real npm package installed by an npm block (is-number: small, no
// native code, so the test stays quick) and a cell whose script writes the date into
// its artifact.
func rebuildSpec() string {
	return fmt.Sprintf(`
target "isnum" {
  image    = %q
  network  = "host"
  env      = { NODE_EXTRA_CA_CERTS = "/etc/ssl/certs/matrix-ca.crt" }
  mount {
    source    = "/etc/ssl/certs/ca-certificates.crt"
    target    = "/etc/ssl/certs/matrix-ca.crt"
    read_only = true
  }
  mount {
    type   = "cache"
    source = "npm"
    target = "/root/.npm"
  }
  npm {
    install = ["is-number@7.0.0"]
  }
  artifact = "isnum.tar.gz"
  timeout  = "3m"
  retries  = 0
}
`, nodeImage) + target("dated", "mkdir -p out; echo same > out/same; date +%s%N > out/stamp", "  lock_files = []")
}

// TestVerifyRebuild: matrix verify --rebuild rebuilds every recorded artifact from the
// matrix file and its lock with --locked in a temporary directory: the npm cell is
// reproduced bit for bit, the cell that writes the date is not, named with its
// differing entry (out/stamp), and the exit is 1; --cell rebuilds that one only; a matrix file that is not the recorded one is refused, naming both
// sha256s. The statement lists the npm tarball by package URL with its integrity.
func TestVerifyRebuild(t *testing.T) {
	needDocker(t)
	needImage(t, nodeImage)
	t.Parallel()
	w := newWorkspace(t)
	specPath := w.spec(t, rebuildSpec())
	res := w.matrix(t, nil, "run", "--out", w.out, specPath)
	if res.code != 0 {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	st, _ := readStatement(t, w.out)
	found := false
	for _, d := range st.Predicate.BuildDefinition.ResolvedDependencies {
		if d.URI == "pkg:npm/is-number@7.0.0" && len(d.Digest["sha512"]) == 128 {
			found = true
		}
	}
	if !found {
		t.Errorf("the statement does not list is-number@7.0.0 with its sha512: %+v", st.Predicate.BuildDefinition.ResolvedDependencies)
	}

	start := time.Now()
	res = w.matrix(t, nil, "verify", "--rebuild", "--file", specPath, w.out)
	t.Logf("verify --rebuild of 2 cells took %v", time.Since(start).Round(time.Millisecond))
	for _, want := range []string{"reproduced      isnum.tar.gz", "NOT REPRODUCED  dated.tar.gz", "out/stamp: content differ", "1 of 2 artifact(s) not reproduced"} {
		if res.code != 1 || !strings.Contains(res.stdout+res.stderr, want) {
			t.Errorf("verify --rebuild: exit %d, want 1 and %q\n%s%s", res.code, want, res.stdout, res.stderr)
		}
	}
	if strings.Contains(res.stdout, "out/same") {
		t.Errorf("an entry that is alike is reported:\n%s", res.stdout)
	}
	// One cell: only it is rebuilt (the npm cell, slower, is not).
	res = w.matrix(t, nil, "verify", "--rebuild", "--file", specPath, "--cell", "dated.tar.gz", w.out)
	if res.code != 1 || !strings.Contains(res.stdout, "NOT REPRODUCED  dated.tar.gz") || strings.Contains(res.stdout+res.stderr, "isnum") ||
		!strings.Contains(res.stderr, "1 of 1 artifact(s) not reproduced") {
		t.Errorf("verify --rebuild --cell: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if entries, _ := os.ReadDir(w.tmp); len(entries) > 0 {
		t.Errorf("verify --rebuild left %v in TMPDIR", entries)
	}
	other := filepath.Join(w.dir, "other.hcl")
	writeFile(t, other, rebuildSpec()+"\n# edited\n")
	res = w.matrix(t, nil, "verify", "--rebuild", "--file", other, w.out)
	if res.code != 1 || !strings.Contains(res.stderr, "was built from") || !strings.Contains(res.stderr, st.Predicate.BuildDefinition.ExternalParameters.Spec.SHA256) {
		t.Errorf("another matrix file: exit %d\n%s", res.code, res.stderr)
	}
	if res := w.matrix(t, nil, "verify", "--rebuild", w.out); res.code != 2 {
		t.Errorf("--rebuild without --file: exit %d, want 2", res.code)
	}
}

// needImage fails (in CI) or skips the test when image is not on the engine.
func needImage(t *testing.T, image string) {
	t.Helper()
	e := needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := e.Resolve(ctx, image, ""); err != nil {
		if os.Getenv("CI") != "" || os.Getenv("MATRIX_REQUIRE_DOCKER") != "" {
			t.Fatalf("image %s: %v (run scripts/images.sh)", image, err)
		}
		t.Skipf("image %s: %v (run scripts/images.sh)", image, err)
	}
}
