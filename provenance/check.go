package provenance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/matrixbuild/matrix/internal/ctxio"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/manifest"
)

// Problem is one thing of an output directory that its signed statement does not
// vouch for.
type Problem = manifest.Problem

// Check verifies dir's signed statement with the public key pub (an
// authorized_keys line): the signature (provenance.intoto.jsonl.sig, SSHSIG in
// Namespace) over provenance.intoto.jsonl, every subject against its file byte for
// byte (its sha256, read as a regular file only), the subjects against the lines of
// SHA256SUMS, and the directory's entries against the subjects: nothing added,
// nothing removed (the tool's own files and temporaries aside). The error is for a
// directory that cannot be checked at all: no statement, no signature, a signature
// that does not verify.
func Check(ctx context.Context, dir string, pub []byte) ([]Problem, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	data, err := atomicfile.ReadRegular(root, FileName, manifest.MaxSize)
	if err != nil {
		return nil, fmt.Errorf("the statement: %w", err)
	}
	sigFile, err := atomicfile.OpenRegular(root, manifest.SignatureName, os.O_RDONLY)
	if err != nil {
		return nil, fmt.Errorf("the signature (matrix sign writes it): %w", err)
	}
	sig, err := ReadSignature(sigFile)
	sigFile.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, manifest.SignatureName), err)
	}
	if err := Verify(pub, sig, data); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, manifest.SignatureName), err)
	}
	st, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, FileName), err)
	}
	var problems []Problem
	subjects := map[string]string{}
	var lines bytes.Buffer
	for _, s := range st.Subject {
		if _, dup := subjects[s.Name]; dup {
			problems = append(problems, Problem{File: s.Name, Reason: "a subject twice in the statement"})
		}
		subjects[s.Name] = s.Digest["sha256"]
		fmt.Fprintf(&lines, "%s  %s\n", s.Digest["sha256"], s.Name)
	}
	sums, err := atomicfile.ReadRegular(root, manifest.SumsName, manifest.MaxSize)
	switch {
	case err != nil:
		problems = append(problems, Problem{File: manifest.SumsName, Reason: err.Error()})
	case !bytes.Equal(sums, lines.Bytes()):
		problems = append(problems, Problem{File: manifest.SumsName, Reason: "its lines are not the signed statement's subjects"})
	}
	for _, s := range st.Subject {
		if err := ctx.Err(); err != nil {
			return problems, err
		}
		if p := checkSubject(ctx, root, s); p != nil {
			problems = append(problems, *p)
		}
	}
	// Nothing added: every entry that is not the tool's own is a subject.
	listed := &manifest.Manifest{}
	for name := range subjects {
		listed.Artifacts = append(listed.Artifacts, manifest.Artifact{File: name})
	}
	unlisted, err := manifest.Unlisted(root, listed)
	if err != nil {
		return problems, err
	}
	for _, name := range unlisted {
		problems = append(problems, Problem{File: name, Reason: "not a subject of the signed statement (added)"})
	}
	return problems, nil
}

// checkSubject hashes the subject's file, a regular file, and says why it is not
// the signed one, if it is not.
func checkSubject(ctx context.Context, root *os.Root, s Subject) *Problem {
	f, err := atomicfile.OpenRegular(root, s.Name, os.O_RDONLY)
	if errors.Is(err, fs.ErrNotExist) {
		return &Problem{File: s.Name, Reason: "missing (removed): a subject of the signed statement"}
	}
	if err != nil {
		return &Problem{File: s.Name, Reason: err.Error()}
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, ctxio.Reader(ctx, f)); err != nil {
		return &Problem{File: s.Name, Reason: err.Error()}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != s.Digest["sha256"] {
		return &Problem{File: s.Name, Reason: fmt.Sprintf("changed: sha256 %s, the signed statement says %s", got, s.Digest["sha256"])}
	}
	return nil
}
