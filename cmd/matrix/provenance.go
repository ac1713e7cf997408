package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/internal/terminal"
	"github.com/matrixbuild/matrix/lock"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/provenance"
)

// provenanceOf returns the run's hook that makes provenance.intoto.jsonl (runner
// Options.Provenance) from what the command knows: the targets named, the file's
// variables that are not sensitive, the lock file as the run read it, the matrix
// file's commit, and each artifact's package-lock.json (the build's, or its lock
// entry's for an artifact this run did not build).
func provenanceOf(p *project, specPath string, targets []string, f runFlags, lockRead *manifest.SpecFile, stderr io.Writer) (func(*manifest.Manifest, map[string]executor.Files) ([]byte, error), error) {
	vars, sensitive := p.file.Variables()
	in := provenance.Inputs{
		Targets:            targets,
		Variables:          vars,
		SensitiveVariables: sensitive,
		Locked:             f.spec.locked,
		AllowDangling:      f.allowDangling,
	}
	if lockRead != nil {
		in.Lock = *lockRead
	}
	commit, err := provenance.GitCommit(filepath.Dir(specPath))
	switch {
	case err == nil:
		in.GitCommit = commit
	case !errors.Is(err, provenance.ErrNoRepository):
		fmt.Fprintf(stderr, "matrix: warning: %s records no commit of the matrix file's repository: %s\n", manifest.ProvenanceName, terminal.EscapeLines(err.Error()))
	}
	return func(m *manifest.Manifest, built map[string]executor.Files) ([]byte, error) {
		in := in
		in.NpmLocks = map[string][]byte{}
		for _, a := range m.Artifacts {
			files := built[a.File]
			if files == nil {
				if e := p.lock.file.Cells[a.File]; e != nil {
					files = executor.Files{}
					for name, c := range e.Files {
						files[name] = c
					}
				}
			}
			for name, data := range files {
				if path.Base(name) == "package-lock.json" {
					in.NpmLocks[a.File] = data
				}
			}
		}
		return provenance.Build(m, in)
	}, nil
}

// lockAsRead is the project's lock file as the run reads it, before the run records
// anything in it: its path and sha256, for the manifest and the statement; nil when
// there is none.
func lockAsRead(p *project) (*manifest.SpecFile, error) {
	if !p.lock.exists {
		return nil, nil
	}
	data, err := atomicfile.ReadFile(p.lock.path, lock.MaxSize)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	return &manifest.SpecFile{Path: p.lock.path, SHA256: hex.EncodeToString(sum[:])}, nil
}
