package provenance

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Namespace is the SSHSIG namespace of the statement's signature: what
// `ssh-keygen -Y sign -n` and `-Y verify -n` are given, so that a signature made for
// anything else (a git commit, a file) is never taken for one of a statement.
const Namespace = "matrix-provenance-v1"

// SSHSIG, as OpenSSH's PROTOCOL.sshsig defines it.
const (
	sigMagic   = "SSHSIG"
	sigVersion = 1
	sigHash    = "sha512"
	armorBegin = "-----BEGIN SSH SIGNATURE-----"
	armorEnd   = "-----END SSH SIGNATURE-----"
	armorWidth = 70 // ssh-keygen's line length
	// maxSignature bounds an armored signature read: an ed25519 one is ~300 bytes.
	maxSignature = 64 << 10
)

// ErrEncryptedKey is Sign's error for a private key protected by a passphrase.
var ErrEncryptedKey = errors.New("the private key is protected by a passphrase, which matrix sign does not ask for: sign with ssh-keygen -Y sign -n " + Namespace + " instead, or use a key without one")

// Sign signs message with the OpenSSH ed25519 private key privPEM and returns the
// armored SSHSIG signature, the bytes `ssh-keygen -Y sign -n Namespace` writes.
func Sign(privPEM, message []byte) ([]byte, error) {
	signer, err := ssh.ParsePrivateKey(privPEM)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		return nil, ErrEncryptedKey
	}
	if err != nil {
		return nil, fmt.Errorf("not an SSH private key: %w", err)
	}
	if t := signer.PublicKey().Type(); t != ssh.KeyAlgoED25519 {
		return nil, fmt.Errorf("a %s key: matrix sign signs with ed25519 keys (ssh-keygen -t ed25519)", t)
	}
	sig, err := signer.Sign(rand.Reader, signedData(Namespace, message))
	if err != nil {
		return nil, err
	}
	blob := []byte(sigMagic)
	blob = appendUint32(blob, sigVersion)
	blob = appendString(blob, signer.PublicKey().Marshal())
	blob = appendString(blob, []byte(Namespace))
	blob = appendString(blob, nil) // reserved
	blob = appendString(blob, []byte(sigHash))
	blob = appendString(blob, ssh.Marshal(sig))
	return armor(blob), nil
}

// Verify checks that armored, an SSHSIG signature, signs message in Namespace with
// the public key pubLine (an authorized_keys line, as in KEY.pub).
func Verify(pubLine, armored, message []byte) error {
	want, _, _, _, err := ssh.ParseAuthorizedKey(pubLine)
	if err != nil {
		return fmt.Errorf("not an SSH public key: %w", err)
	}
	blob, err := unarmor(armored)
	if err != nil {
		return err
	}
	rest, ok := bytes.CutPrefix(blob, []byte(sigMagic))
	if !ok {
		return errors.New("not an SSH signature: no SSHSIG magic")
	}
	var version uint32
	if version, rest, ok = readUint32(rest); !ok || version != sigVersion {
		return fmt.Errorf("SSH signature version %d, want %d", version, sigVersion)
	}
	var fields [5][]byte
	for i := range fields {
		if fields[i], rest, ok = readString(rest); !ok {
			return errors.New("not an SSH signature: truncated")
		}
	}
	if len(rest) != 0 {
		return errors.New("not an SSH signature: trailing bytes")
	}
	pubBlob, namespace, hashAlg, sigBlob := fields[0], string(fields[1]), string(fields[3]), fields[4]
	if namespace != Namespace {
		return fmt.Errorf("signed in namespace %q, not %q: not a signature of a statement", namespace, Namespace)
	}
	if hashAlg != sigHash && hashAlg != "sha256" {
		return fmt.Errorf("hash algorithm %q: want sha512 or sha256", hashAlg)
	}
	pub, err := ssh.ParsePublicKey(pubBlob)
	if err != nil {
		return fmt.Errorf("the signature's public key: %w", err)
	}
	if !bytes.Equal(pub.Marshal(), want.Marshal()) {
		return fmt.Errorf("signed by another key (%s), not by %s", ssh.FingerprintSHA256(pub), ssh.FingerprintSHA256(want))
	}
	var sig ssh.Signature
	if err := ssh.Unmarshal(sigBlob, &sig); err != nil {
		return fmt.Errorf("the signature: %w", err)
	}
	// As ssh-keygen -Y verify: nothing after the signature but a security key's
	// flags and counter, and never RSA with SHA-1.
	if len(sig.Rest) != 0 && !strings.HasPrefix(pub.Type(), "sk-") {
		return errors.New("not an SSH signature: trailing bytes after the signature")
	}
	if sig.Format == ssh.KeyAlgoRSA {
		return errors.New("an RSA signature with SHA-1 (ssh-rsa), which SSHSIG does not accept: sign with ed25519")
	}
	data := signedDataHash(namespace, hashAlg, message)
	if err := pub.Verify(data, &sig); err != nil {
		return fmt.Errorf("the signature does not match the statement (%s signed other bytes): %w", ssh.FingerprintSHA256(pub), err)
	}
	return nil
}

// ReadSignature reads an armored signature of at most maxSignature bytes.
func ReadSignature(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSignature+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxSignature {
		return nil, fmt.Errorf("more than %d bytes: not an SSH signature", maxSignature)
	}
	return data, nil
}

// signedData is what SSHSIG signs: the magic, namespace, reserved, hash algorithm
// and the message's hash.
func signedData(namespace string, message []byte) []byte {
	return signedDataHash(namespace, sigHash, message)
}

func signedDataHash(namespace, hashAlg string, message []byte) []byte {
	var sum []byte
	if hashAlg == "sha256" {
		h := sha256.Sum256(message)
		sum = h[:]
	} else {
		h := sha512.Sum512(message)
		sum = h[:]
	}
	out := []byte(sigMagic)
	out = appendString(out, []byte(namespace))
	out = appendString(out, nil)
	out = appendString(out, []byte(hashAlg))
	return appendString(out, sum)
}

func armor(blob []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(blob)
	var b strings.Builder
	b.WriteString(armorBegin + "\n")
	for len(enc) > armorWidth {
		b.WriteString(enc[:armorWidth] + "\n")
		enc = enc[armorWidth:]
	}
	b.WriteString(enc + "\n" + armorEnd + "\n")
	return []byte(b.String())
}

func unarmor(data []byte) ([]byte, error) {
	text := strings.TrimSpace(string(data))
	body, ok := strings.CutPrefix(text, armorBegin)
	if ok {
		body, ok = strings.CutSuffix(body, armorEnd)
	}
	if !ok {
		return nil, fmt.Errorf("not an armored SSH signature (%s ... %s)", armorBegin, armorEnd)
	}
	blob, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(body), ""))
	if err != nil {
		return nil, fmt.Errorf("not an armored SSH signature: %w", err)
	}
	return blob, nil
}

func appendUint32(b []byte, v uint32) []byte {
	return append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

func appendString(b, s []byte) []byte {
	return append(appendUint32(b, uint32(len(s))), s...)
}

func readUint32(b []byte) (uint32, []byte, bool) {
	if len(b) < 4 {
		return 0, nil, false
	}
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]), b[4:], true
}

func readString(b []byte) ([]byte, []byte, bool) {
	n, rest, ok := readUint32(b)
	if !ok || uint64(n) > uint64(len(rest)) {
		return nil, nil, false
	}
	return rest[:n], rest[n:], true
}
