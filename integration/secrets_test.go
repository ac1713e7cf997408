package integration

import (
	"encoding/base64"
	"os"
	"path/filepath"
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

// TestSecretsInEveryShape passes a PEM-like key of several lines and a token to cells
// that print them in the shapes a script prints secrets: the key by cat, unquoted
// (echo $KEY), with CRLF line ends and JSON-escaped; the token and the key across the
// log's 64 KiB line cut; both in the last lines of a failing script, which the error
// repeats; the token as the name of an entry the packer refuses; the token in a
// test's output. Values of 1 and 3 bytes, and one that is not valid UTF-8 (the
// engine's API would hand the container U+FFFD for its bad bytes, so the output
// would not match the host's bytes), fail their cells before the script runs.
// No value, and no line of the key, appears in OUT/logs/*, manifest.json, SHA256SUMS,
// or the run's stdout and stderr.
func TestSecretsInEveryShape(t *testing.T) {
	e := needDocker(t)
	t.Parallel()
	w := newWorkspace(t)
	key := pemLikeKey(t)
	token := "s3cret-" + randomHex(t, 12)
	short1, short3 := "\x1d", "\x1c\x1d\x1e" // bytes no output of the run holds otherwise
	badMiddle := "SEC\x1bRET" + randomHex(t, 8)
	notUTF8 := "\xff" + badMiddle + "\xfe"
	env := []string{"MATRIX_TEST_KEY=" + key, "MATRIX_TEST_TOKEN=" + token,
		"MATRIX_TEST_SHORT1=" + short1, "MATRIX_TEST_SHORT3=" + short3, "MATRIX_TEST_BYTES=" + notUTF8}
	both := `  pass_env = ["MATRIX_TEST_KEY", "MATRIX_TEST_TOKEN"]`
	specPath := w.spec(t, target("pem", `
		printf '%s\n' "$MATRIX_TEST_KEY" > /tmp/key.pem
		echo "cat:"; cat /tmp/key.pem
		echo "unquoted:"; echo $MATRIX_TEST_KEY
		echo "crlf:"; sed 's/$/\r/' /tmp/key.pem
		echo "json:"; printf '"'; awk '{printf "%s\\n", $0}' /tmp/key.pem; echo '"'
		echo "len=$${#MATRIX_TEST_KEY}"
		mkdir -p out; echo built > out/f
	`, both)+target("cut", `
		head -c 65530 /dev/zero | tr '\0' x; printf '%s\n' "$MATRIX_TEST_TOKEN"
		head -c 65526 /dev/zero | tr '\0' y; printf '%s\n' "$MATRIX_TEST_KEY"
		mkdir -p out; echo built > out/f
	`, both)+target("tail", `
		echo "npm ERR! 401 Unauthorized, token $MATRIX_TEST_TOKEN"
		printf '%s\n' "$MATRIX_TEST_KEY"
		exit 1
	`, both)+target("entry", `
		mkdir -p out; mkfifo "out/$MATRIX_TEST_TOKEN"
	`, both)+target("tested", `
		mkdir -p out; printf '%s\n' "$MATRIX_TEST_TOKEN" > out/token
	`, both+"\n  test {\n    script = \"echo token=$(cat out/token)\"\n  }")+target("short1", `
		echo "short=$MATRIX_TEST_SHORT1"; mkdir -p out; echo built > out/f
	`, `  pass_env = ["MATRIX_TEST_SHORT1"]`)+target("short3", `
		echo "short=$MATRIX_TEST_SHORT3"; mkdir -p out; echo built > out/f
	`, `  pass_env = ["MATRIX_TEST_SHORT3"]`)+target("bytes", `
		printf 'A%sB\n' "$MATRIX_TEST_BYTES"; printf 'A%sB\n' "$MATRIX_TEST_BYTES" >&2; exit 1
	`, `  pass_env = ["MATRIX_TEST_BYTES"]`))

	res := w.matrix(t, env, "run", "--keep-going", "--out", w.out, specPath)
	if res.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", res.code, res.stderr)
	}
	m := checkRun(t, e, w, res.stderr, want{
		ok: []string{"cut.tar.gz", "pem.tar.gz", "tested.tar.gz"},
		failed: map[string][]string{
			"tail.tar.gz":   {"npm ERR! 401 Unauthorized, token ***", "last lines of logs/tail.tar.gz.log"},
			"entry.tar.gz":  {"out/***: unsupported entry type: fifo"},
			"short1.tar.gz": {"pass_env MATRIX_TEST_SHORT1: its value on this host is shorter than 4 bytes"},
			"short3.tar.gz": {"pass_env MATRIX_TEST_SHORT3: its value on this host is shorter than 4 bytes"},
			"bytes.tar.gz":  {"pass_env MATRIX_TEST_BYTES: its value on this host is not valid UTF-8"},
		},
	})
	for _, a := range m.Artifacts {
		if a.File == "tested.tar.gz" && (a.Test == nil || !strings.Contains(a.Test.Output, "token=***")) {
			t.Errorf("the test's output in the manifest: %+v", a.Test)
		}
	}

	texts := map[string]string{"run stdout": res.stdout, "run stderr": res.stderr}
	logs, _ := filepath.Glob(filepath.Join(w.out, "logs", "*"))
	for _, name := range append(logs, filepath.Join(w.out, "manifest.json"), filepath.Join(w.out, "SHA256SUMS"), filepath.Join(w.out, "report.html")) {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		texts[strings.TrimPrefix(name, w.out+"/")] = string(data)
	}
	if len(logs) != 8 {
		t.Errorf("logs %v, want one per cell", logs)
	}
	pemLog := texts["logs/pem.tar.gz.log"]
	for _, s := range []string{"cat:\n***\n", "unquoted:\n*** *** ", "crlf:\n***\n", "json:\n" + `"***\n***\n`, "len=" + strconv.Itoa(len(key))} {
		if !strings.Contains(pemLog, s) {
			t.Errorf("the pem log lacks %q (the container did not get the key?):\n%s", s, pemLog)
		}
	}
	cutLog := texts["logs/cut.tar.gz.log"]
	if !strings.Contains(cutLog, "xxx***\n") || !strings.Contains(cutLog, "yyy***\n") {
		t.Errorf("the cut log lacks the redacted values at the cut")
	}
	if strings.Contains(texts["logs/short1.tar.gz.log"], "short=") {
		t.Errorf("the script of a refused cell ran:\n%s", texts["logs/short1.tar.gz.log"])
	}
	for what, s := range texts {
		for _, secret := range append(strings.Split(strings.TrimSpace(key), "\n"), key, token, short1, short3, notUTF8, badMiddle, strings.ReplaceAll(badMiddle, "\x1b", `\x1b`)) {
			if strings.Contains(s, secret) {
				t.Errorf("%s holds %q", what, secret)
			}
		}
	}
}

// pemLikeKey is a made-up key of the shape of a PEM private key: header, lines of 64
// base64 characters, footer and a trailing newline.
func pemLikeKey(t *testing.T) string {
	lines := []string{"-----BEGIN PRIVATE KEY-----"}
	for range 5 {
		lines = append(lines, base64.StdEncoding.EncodeToString([]byte(randomHex(t, 24))))
	}
	return strings.Join(append(lines, "-----END PRIVATE KEY-----"), "\n") + "\n"
}
