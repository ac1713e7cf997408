package provenance_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/provenance"
)

// newKey makes a fresh ed25519 key pair with the real ssh-keygen and returns the
// private key file's path and the public key line.
func newKey(t *testing.T, dir, name string) (string, []byte) {
	t.Helper()
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Fatal("ssh-keygen (OpenSSH) is needed: the signatures must be the ones it verifies")
	}
	key := filepath.Join(dir, name)
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return key, pub
}

// sshVerify runs ssh-keygen -Y verify of sig over message with pub as the one
// allowed signer, in namespace.
func sshVerify(t *testing.T, dir string, pub, sig, message []byte, namespace string) error {
	t.Helper()
	allowed := filepath.Join(dir, "allowed_signers")
	os.WriteFile(allowed, append([]byte("builder@example "), pub...), 0o644)
	sigFile := filepath.Join(dir, "message.sig")
	os.WriteFile(sigFile, sig, 0o644)
	cmd := exec.Command("ssh-keygen", "-Y", "verify", "-f", allowed, "-I", "builder@example", "-n", namespace, "-s", sigFile)
	cmd.Stdin = bytes.NewReader(message)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return &exec.ExitError{ProcessState: cmd.ProcessState, Stderr: out}
	}
	return nil
}

// TestSignatureIsSSHSIG: our signature verifies with the real ssh-keygen -Y verify
// and with Verify; ssh-keygen -Y sign's verifies with Verify; another message,
// another key, another namespace and a damaged signature each fail.
func TestSignatureIsSSHSIG(t *testing.T) {
	dir := t.TempDir()
	key, pub := newKey(t, dir, "builder")
	_, otherPub := newKey(t, dir, "other")
	priv, _ := os.ReadFile(key)
	message := []byte(`{"_type":"https://in-toto.io/Statement/v1"}` + "\n")

	sig, err := provenance.Sign(priv, message)
	if err != nil {
		t.Fatal(err)
	}
	if err := sshVerify(t, dir, pub, sig, message, provenance.Namespace); err != nil {
		t.Fatalf("ssh-keygen -Y verify of our signature: %v %s", err, err.(*exec.ExitError).Stderr)
	}
	if err := provenance.Verify(pub, sig, message); err != nil {
		t.Fatalf("Verify of our signature: %v", err)
	}

	// ssh-keygen's own signature.
	msgFile := filepath.Join(dir, "statement")
	os.WriteFile(msgFile, message, 0o644)
	if out, err := exec.Command("ssh-keygen", "-q", "-Y", "sign", "-f", key, "-n", provenance.Namespace, msgFile).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -Y sign: %v\n%s", err, out)
	}
	theirs, _ := os.ReadFile(msgFile + ".sig")
	if err := provenance.Verify(pub, theirs, message); err != nil {
		t.Fatalf("Verify of ssh-keygen's signature: %v", err)
	}

	edited := bytes.Replace(message, []byte("v1"), []byte("v2"), 1)
	damaged := bytes.Replace(sig, []byte("\n"), []byte("A\n"), 2)
	fail := []struct {
		name     string
		pub, sig []byte
		msg      []byte
		want     string
	}{
		{"edited statement", pub, sig, edited, "does not match"},
		{"wrong key", otherPub, sig, message, "another key"},
		{"damaged signature", pub, damaged, message, "signature"},
		{"not a signature", pub, []byte("hello"), message, "not an armored"},
	}
	for _, f := range fail {
		err := provenance.Verify(f.pub, f.sig, f.msg)
		if err == nil || !strings.Contains(err.Error(), f.want) {
			t.Errorf("%s: %v, want an error saying %q", f.name, err, f.want)
		}
		if sshVerify(t, dir, f.pub, f.sig, f.msg, provenance.Namespace) == nil {
			t.Errorf("%s: ssh-keygen -Y verify accepts it", f.name)
		}
	}
	// Another namespace: a git commit's signature is not a statement's.
	os.Remove(msgFile + ".sig")
	if out, err := exec.Command("ssh-keygen", "-q", "-Y", "sign", "-f", key, "-n", "git", msgFile).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	gitSig, _ := os.ReadFile(msgFile + ".sig")
	if err := provenance.Verify(pub, gitSig, message); err == nil || !strings.Contains(err.Error(), "namespace") {
		t.Errorf("a signature in namespace git: %v", err)
	}
}

// TestSignRefuses: a key with a passphrase and a key that is not ed25519 are refused
// with what to do instead.
func TestSignRefuses(t *testing.T) {
	dir := t.TempDir()
	enc := filepath.Join(dir, "enc")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "secret-passphrase", "-f", enc).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	rsa := filepath.Join(dir, "rsa")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", rsa).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	for path, want := range map[string]string{enc: "passphrase", rsa: "ed25519", filepath.Join(dir, "rsa.pub"): "not an SSH private key"} {
		data, _ := os.ReadFile(path)
		if _, err := provenance.Sign(data, []byte("x")); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", filepath.Base(path), err, want)
		}
	}
}
