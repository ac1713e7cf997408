package provenance

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/manifest"
)

// maxKey bounds a private key file read: an OpenSSH ed25519 key is ~400 bytes.
const maxKey = 64 << 10

// SignDir signs dir's statement with the private key file keyPath and writes the
// signature as provenance.intoto.jsonl.sig (atomically). It signs only a directory
// that verifies: the records complete (no run stopped halfway), the statement the
// one the manifest records, every recorded artifact as recorded, no entry that no
// record lists (Check would find it added); what it signs is
// exactly the bytes of the statement, as `ssh-keygen -Y sign -n Namespace` would.
// It returns the signature's path.
func SignDir(ctx context.Context, dir, keyPath string) (string, error) {
	key, err := atomicfile.ReadFile(keyPath, maxKey)
	if err != nil {
		return "", fmt.Errorf("--key: %w", err)
	}
	rec, err := manifest.ReadRecord(dir)
	if err != nil {
		return "", err
	}
	switch {
	case rec.Manifest == nil:
		return "", fmt.Errorf("%s: no %s: nothing to sign", dir, manifest.FileName)
	case rec.Pending != "":
		return "", fmt.Errorf("%s: a run stopped before its records were complete; the next matrix run completes them, then sign", dir)
	case rec.Manifest.ProvenanceSHA256 == "":
		return "", fmt.Errorf("%s: its records name no %s (written by an older matrix): run matrix run again, then sign", dir, FileName)
	}
	rep, err := manifest.Verify(ctx, dir)
	if err != nil {
		return "", err
	}
	if len(rep.Problems) > 0 {
		return "", fmt.Errorf("%s does not verify (%s, and %d more problem(s)): matrix verify %s says what; matrix sign signs only what verifies", dir, rep.Problems[0], len(rep.Problems)-1, dir)
	}
	if n := len(rep.Unlisted); n > 0 {
		// verify --key holds every entry beside the subjects (the tool's own aside)
		// to be added: a signature over this directory would fail its own check.
		return "", fmt.Errorf("%s holds entries that no record lists (%s, %d in all): matrix verify --key would report them as added to what is signed; remove them, then sign",
			dir, strings.Join(rep.Unlisted[:min(n, 5)], ", "), n)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return "", err
	}
	defer root.Close()
	data, err := atomicfile.ReadRegular(root, FileName, manifest.MaxSize)
	if err != nil {
		return "", err
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != rec.Manifest.ProvenanceSHA256 {
		return "", fmt.Errorf("%s: %s is not the statement %s records", dir, FileName, manifest.FileName)
	}
	sig, err := Sign(key, data)
	if err != nil {
		return "", fmt.Errorf("--key %s: %w", keyPath, err)
	}
	path := filepath.Join(dir, manifest.SignatureName)
	if err := atomicfile.Write(path, sig); err != nil {
		return "", err
	}
	return path, nil
}
