package provenance_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"encoding/base64"
	"os"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/matrixbuild/matrix/provenance"
)

// sshsig builds an armored SSHSIG over message in provenance.Namespace with sig as
// its signature blob, as PROTOCOL.sshsig lays it out.
func sshsig(pub ssh.PublicKey, sigBlob []byte) []byte {
	str := func(b, s []byte) []byte {
		n := len(s)
		return append(append(b, byte(n>>24), byte(n>>16), byte(n>>8), byte(n)), s...)
	}
	blob := []byte("SSHSIG")
	blob = append(blob, 0, 0, 0, 1)
	blob = str(blob, pub.Marshal())
	blob = str(blob, []byte(provenance.Namespace))
	blob = str(blob, nil)
	blob = str(blob, []byte("sha512"))
	blob = str(blob, sigBlob)
	return []byte("-----BEGIN SSH SIGNATURE-----\n" + base64.StdEncoding.EncodeToString(blob) + "\n-----END SSH SIGNATURE-----\n")
}

// signedData is what SSHSIG signs over message, sha512.
func signedData(message []byte) []byte {
	str := func(b, s []byte) []byte {
		n := len(s)
		return append(append(b, byte(n>>24), byte(n>>16), byte(n>>8), byte(n)), s...)
	}
	sum := sha512.Sum512(message)
	out := []byte("SSHSIG")
	out = str(out, []byte(provenance.Namespace))
	out = str(out, nil)
	out = str(out, []byte("sha512"))
	return str(out, sum[:])
}

// TestVerifyIsAsStrictAsSSHKeygen: signatures that ssh-keygen -Y verify refuses are
// refused by Verify too, so that matrix verify --key never vouches for a signature
// the README's own ssh-keygen recipe rejects: an ed25519 signature with bytes after
// it inside its blob (a second, malleated encoding of a good signature), and an RSA
// signature with SHA-1 ("ssh-rsa"), which OpenSSH does not take for SSHSIG.
func TestVerifyIsAsStrictAsSSHKeygen(t *testing.T) {
	dir := t.TempDir()
	key, pub := newKey(t, dir, "builder")
	priv, _ := os.ReadFile(key)
	signer, err := ssh.ParsePrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	message := []byte(`{"_type":"https://in-toto.io/Statement/v1"}` + "\n")
	good, err := signer.Sign(rand.Reader, signedData(message))
	if err != nil {
		t.Fatal(err)
	}
	if err := provenance.Verify(pub, sshsig(signer.PublicKey(), ssh.Marshal(good)), message); err != nil {
		t.Fatalf("the test's own encoding of a good signature: %v", err)
	}
	trailing := *good
	trailing.Rest = []byte("trailing bytes")

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaSigner, err := ssh.NewSignerFromKey(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	sha1Sig, err := rsaSigner.(ssh.AlgorithmSigner).SignWithAlgorithm(rand.Reader, signedData(message), ssh.KeyAlgoRSA)
	if err != nil {
		t.Fatal(err)
	}
	rsaPub := ssh.MarshalAuthorizedKey(rsaSigner.PublicKey())

	for _, c := range []struct {
		name string
		pub  []byte
		sig  []byte
	}{
		{"ed25519 signature with trailing bytes", pub, sshsig(signer.PublicKey(), ssh.Marshal(&trailing))},
		{"RSA signature with SHA-1", rsaPub, sshsig(rsaSigner.PublicKey(), ssh.Marshal(sha1Sig))},
	} {
		if sshVerify(t, dir, c.pub, c.sig, message, provenance.Namespace) == nil {
			t.Fatalf("%s: ssh-keygen -Y verify accepts it: the case tests nothing", c.name)
		}
		if err := provenance.Verify(c.pub, c.sig, message); err == nil {
			t.Errorf("%s: Verify accepts what ssh-keygen -Y verify refuses", c.name)
		} else if !strings.Contains(err.Error(), "signature") {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
