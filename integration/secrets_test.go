package integration

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestSecretsNeverWritten passes a host variable to a cell whose script prints it to
// stdout and stderr: the container gets it, and its value appears in no file of out/
// (manifest.json, SHA256SUMS, logs, artifacts), in the run's stdout or stderr, or in
// `matrix plan` and `matrix plan --json`.
func TestSecretsNeverWritten(t *testing.T) {
	e := needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	secret := "s3cret-" + randomHex(t, 12)
	env := []string{"MATRIX_TEST_SECRET=" + secret}
	specPath := w.spec(t, target("secret", `
		echo "value=$MATRIX_TEST_SECRET"
		echo "on stderr: $MATRIX_TEST_SECRET" >&2
		echo "len=$${#MATRIX_TEST_SECRET}"
		mkdir -p out; echo built > out/f
	`, `  pass_env = ["MATRIX_TEST_SECRET"]`))

	res := w.matrix(t, env, "run", "--out", w.out, specPath)
	if res.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", res.code, res.stderr)
	}
	checkRun(t, e, w, res.stderr, want{ok: []string{"secret.tar.gz"}})
	log, err := os.ReadFile(w.out + "/logs/secret.tar.gz.log")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"value=***", "on stderr: ***", "len=" + strconv.Itoa(len(secret))} {
		if !strings.Contains(string(log), s) {
			t.Errorf("log lacks %q (the container did not get the variable?):\n%s", s, log)
		}
	}
	assertAbsent(t, w.out, secret)
	outputs := map[string]string{"run stdout": res.stdout, "run stderr": res.stderr}
	for _, args := range [][]string{{"plan", specPath}, {"plan", "--json", specPath}, {"validate", specPath}} {
		r := w.matrix(t, env, args...)
		if r.code != 0 {
			t.Errorf("matrix %v: exit %d\n%s", args, r.code, r.stderr)
		}
		outputs[strings.Join(args[:len(args)-1], " ")+" stdout"] = r.stdout
		outputs[strings.Join(args[:len(args)-1], " ")+" stderr"] = r.stderr
	}
	if !strings.Contains(outputs["plan --json stdout"], `"MATRIX_TEST_SECRET"`) {
		t.Errorf("plan --json does not name the pass-through variable:\n%s", outputs["plan --json stdout"])
	}
	for what, s := range outputs {
		if strings.Contains(s, secret) {
			t.Errorf("%s holds the secret", what)
		}
	}
}
