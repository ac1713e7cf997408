package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/matrixbuild/matrix/archdiff"
	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/internal/terminal"
	"github.com/matrixbuild/matrix/lock"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/provenance"
	"github.com/matrixbuild/matrix/runner"
	"github.com/matrixbuild/matrix/spec"
)

// verifyFlags are verify's flags beyond DIR: --key, and --rebuild with what a
// rebuild needs that the records cannot give (the matrix file, sensitive variables).
type verifyFlags struct {
	key     string
	rebuild bool
	file    string
	cells   []string
	spec    specFlags
	engines []string
}

func (f *verifyFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.key, "key", "", "also check the signed statement (matrix sign) with this SSH public key file (KEY.pub)")
	fl.BoolVar(&f.rebuild, "rebuild", false, "rebuild the recorded artifacts from --file and its lock file (--locked) in a temporary directory and report each as reproduced or not")
	fl.StringVar(&f.file, "file", "", "with --rebuild: the matrix file the records name (its sha256 must be the recorded one)")
	fl.StringArrayVar(&f.cells, "cell", nil, "with --rebuild: rebuild only this cell (its ID, as plan shows it, or its artifact's file name); repeatable")
	fl.StringArrayVar(&f.engines, "engine", nil, "with --rebuild: build on this Docker engine; default: the environment's")
	f.spec.registerVars(cmd)
}

// check refuses rebuild flags without --rebuild, and --rebuild without --file.
func (f *verifyFlags) check() error {
	if f.rebuild && f.file == "" {
		return usageError{errors.New("--rebuild needs --file: the matrix file the records name")}
	}
	if !f.rebuild && (f.file != "" || f.cells != nil || f.engines != nil || f.spec.vars != nil || f.spec.varFiles != nil || f.spec.lockFile != "") {
		return usageError{errors.New("--file, --cell, --engine, --var, --var-file and --lock-file go with --rebuild")}
	}
	return nil
}

// verifySigned prints the problems of dir's signed statement checked with the public
// key file pub, and returns how many there were; the error is for a statement that
// cannot be checked at all (no signature, a bad one), already printed.
func verifySigned(cmd *cobra.Command, dir, pub string) (int, error) {
	key, err := atomicfile.ReadFile(pub, 64<<10)
	if err != nil {
		return 0, fmt.Errorf("--key: %w", err)
	}
	problems, err := provenance.Check(cmd.Context(), dir, key)
	if err != nil {
		return 0, fmt.Errorf("verify %s: signed statement: %w", dir, err)
	}
	for _, p := range problems {
		fmt.Fprintf(cmd.ErrOrStderr(), "%s: signed statement: %s\n", terminal.Escape(dir), terminal.Escape(p.String()))
	}
	if len(problems) == 0 {
		fmt.Fprintf(cmd.OutOrStdout(), "ok: %s is signed by %s and vouches for exactly the artifacts in %s\n", manifest.ProvenanceName, terminal.Escape(pub), terminal.Escape(dir))
	}
	return len(problems), nil
}

// verifySignedOnly checks a directory without records by its signed statement alone.
func verifySignedOnly(cmd *cobra.Command, dir, pub string) error {
	fmt.Fprintf(cmd.ErrOrStderr(), "%s: no %s: checking the artifacts against the signed statement alone\n", terminal.Escape(dir), manifest.FileName)
	n, err := verifySigned(cmd, dir, pub)
	if err != nil {
		return err
	}
	if n > 0 {
		return reportedError{fmt.Errorf("%d problem(s)", n)}
	}
	return nil
}

// maxDiffs is how many differing entries a rebuild shows per artifact.
const maxDiffs = 5

// rebuild builds dir's recorded artifacts again from vf.file with --locked into a
// temporary directory and reports each one as reproduced or not.
func rebuild(cmd *cobra.Command, dir string, vf verifyFlags) error {
	ctx := cmd.Context()
	out, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	m, err := manifest.Read(dir)
	if err != nil {
		return err
	}
	arts := m.Artifacts
	if vf.cells != nil {
		for _, name := range vf.cells {
			if !slices.ContainsFunc(arts, func(a manifest.Artifact) bool { return a.File == name || a.CellID == name }) {
				return usageError{fmt.Errorf("--cell %s: %s records no such artifact", name, filepath.Join(dir, manifest.FileName))}
			}
		}
		arts = slices.DeleteFunc(slices.Clone(arts), func(a manifest.Artifact) bool {
			return !slices.Contains(vf.cells, a.File) && (a.CellID == "" || !slices.Contains(vf.cells, a.CellID))
		})
	}
	if len(arts) == 0 {
		return fmt.Errorf("--rebuild: %s records no artifact", filepath.Join(dir, manifest.FileName))
	}
	if err := sameSpec(vf.file, m, arts); err != nil {
		return err
	}
	st := readStatement(dir)
	if st != nil {
		noteLock(stderr, vf, st)
	}
	tmp, err := os.MkdirTemp("", "matrix-rebuild-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	vars, err := os.MkdirTemp("", "matrix-rebuild-vars-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(vars)
	epoch := time.Unix(m.SourceEpoch, 0).UTC()
	f := runFlags{
		spec:          vf.spec,
		out:           tmp,
		jobs:          runner.DefaultJobs,
		keepGoing:     true,
		pull:          "missing",
		skipTests:     true, // a test changes no byte of an artifact
		quiet:         true,
		allowDrift:    true, // compared here, with the archive's entries named
		allowDangling: st != nil && st.Predicate.BuildDefinition.ExternalParameters.Flags.AllowDangling,
		engines:       vf.engines,
		epoch:         &epoch,
	}
	f.spec.locked = true
	f.progress.mode = "auto" // the flag's default, which runBuild checks
	how := "with --locked"
	if st != nil && !runReadLock(st) && !lockExists(vf) {
		// The run read no lock file and its cells recorded none: there is nothing to
		// install from, and nothing to record (a lock written aside is dropped).
		f.spec.locked, f.spec.lockFile = false, filepath.Join(vars, lock.FileName)
		how = "(no lock file: the run read none)"
	}
	if st != nil && len(st.Predicate.BuildDefinition.ExternalParameters.Variables) > 0 {
		// The run's variables, as its statement records them, under what is given
		// here: the sensitive ones (recorded by name only) and any --var win.
		data, err := spec.VarFile(st.Predicate.BuildDefinition.ExternalParameters.Variables)
		if err != nil {
			return fmt.Errorf("--rebuild: the variables %s records: %w", filepath.Join(dir, provenance.FileName), err)
		}
		path := filepath.Join(vars, "recorded.hcl")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return err
		}
		f.spec.varFiles = append([]string{path}, f.spec.varFiles...)
	}
	for _, a := range arts {
		f.artifacts = append(f.artifacts, a.File)
	}
	fmt.Fprintf(stderr, "matrix: rebuilding %s from %s %s into %s\n", plural(len(arts), "artifact"), terminal.Escape(vf.file), how, tmp)
	// The rebuild's own summary is progress here: stdout is for the comparison.
	cmd.SetOut(stderr)
	berr := runBuild(cmd, []string{vf.file}, f, false)
	cmd.SetOut(out)
	rebuilt, rerr := manifest.Read(tmp)
	if rerr != nil {
		if berr != nil && errors.Is(rerr, fs.ErrNotExist) {
			return fmt.Errorf("--rebuild: nothing was rebuilt: %w", berr) // it stopped before building
		}
		return errors.Join(berr, rerr)
	}
	byFile := map[string]manifest.Artifact{}
	for _, a := range rebuilt.Artifacts {
		byFile[a.File] = a
	}
	failed := 0
	for _, a := range arts {
		b, ok := byFile[a.File]
		shown := terminal.Escape(a.File)
		switch {
		case !ok:
			failed++
			fmt.Fprintf(out, "NOT REBUILT     %s: %s\n", shown, terminal.Escape(failureOf(rebuilt, a.File)))
		case b.SHA256 == a.SHA256:
			fmt.Fprintf(out, "reproduced      %s  sha256:%s\n", shown, a.SHA256)
		default:
			failed++
			fmt.Fprintf(out, "NOT REPRODUCED  %s: recorded sha256:%s, rebuilt sha256:%s\n", shown, a.SHA256, b.SHA256)
			showDiff(ctx, out, filepath.Join(dir, a.File), filepath.Join(tmp, a.File), a.Format)
		}
	}
	if failed > 0 {
		err := fmt.Errorf("%d of %d artifact(s) not reproduced", failed, len(arts))
		fmt.Fprintf(stderr, "matrix: %v\n", err)
		return reportedError{err}
	}
	fmt.Fprintf(out, "ok: %s reproduced bit for bit\n", plural(len(arts), "artifact"))
	return nil
}

// sameSpec checks that file is the matrix file the records name for arts.
func sameSpec(file string, m *manifest.Manifest, arts []manifest.Artifact) error {
	data, err := atomicfile.ReadFile(file, 64<<20)
	if err != nil {
		return fmt.Errorf("--file: %w", err)
	}
	sum := sha256.Sum256(data)
	got := hex.EncodeToString(sum[:])
	for _, a := range arts {
		want := m.Spec
		if a.Spec != nil {
			want = *a.Spec
		}
		if want.SHA256 != got {
			return fmt.Errorf("--file %s: sha256 %s, but %s was built from %s of sha256 %s: rebuild from that file (a checkout of the commit the statement records)",
				file, got, a.File, want.Path, want.SHA256)
		}
	}
	return nil
}

// readStatement reads dir's statement for the flags and lock it records; nil when
// there is none or it cannot be read (the records alone then decide).
func readStatement(dir string) *provenance.Statement {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil
	}
	defer root.Close()
	data, err := atomicfile.ReadRegular(root, provenance.FileName, manifest.MaxSize)
	if err != nil {
		return nil
	}
	st, err := provenance.Parse(data)
	if err != nil {
		return nil
	}
	return st
}

// noteLock says when the lock file a rebuild reads is not the one the run read.
func noteLock(stderr interface{ Write([]byte) (int, error) }, vf verifyFlags, st *provenance.Statement) {
	path := vf.spec.lockFile
	if path == "" {
		path = lock.PathFor(vf.file)
	}
	for _, d := range st.Predicate.BuildDefinition.ResolvedDependencies {
		if d.Annotations["role"] != "lock file" {
			continue
		}
		data, err := atomicfile.ReadFile(path, lock.MaxSize)
		if errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(stderr, "matrix: note: %s is missing; the run read a lock file of sha256 %s\n", terminal.Escape(path), d.Digest["sha256"])
			return
		}
		if err != nil {
			return
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != d.Digest["sha256"] {
			fmt.Fprintf(stderr, "matrix: note: %s changed since the run read it (sha256 %s then; a run without --locked records its cells' entries after reading it): the rebuild installs from it as it is now\n", terminal.Escape(path), d.Digest["sha256"])
		}
	}
}

// runReadLock reports whether the run of st read a lock file (it names one).
func runReadLock(st *provenance.Statement) bool {
	return slices.ContainsFunc(st.Predicate.BuildDefinition.ResolvedDependencies, func(d provenance.ResourceDescriptor) bool {
		return d.Annotations["role"] == "lock file"
	})
}

// lockExists reports whether the lock file a rebuild reads is there (anything but
// "does not exist" counts: --locked then says what is wrong with it).
func lockExists(vf verifyFlags) bool {
	path := vf.spec.lockFile
	if path == "" {
		path = lock.PathFor(vf.file)
	}
	_, err := os.Lstat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

func failureOf(m *manifest.Manifest, file string) string {
	for _, f := range m.Failed {
		if f.Artifact == file {
			return firstLine(f.Error)
		}
	}
	return "no cell of the file builds it now"
}

// showDiff prints the first entries where the recorded and rebuilt archives differ.
func showDiff(ctx context.Context, out interface{ Write([]byte) (int, error) }, recorded, rebuilt, format string) {
	res, err := archdiff.Diff(ctx, recorded, rebuilt, format, maxDiffs)
	if err != nil {
		fmt.Fprintf(out, "    (the archives cannot be compared: %s)\n", terminal.EscapeLines(err.Error()))
		return
	}
	if len(res.Differences) == 0 {
		fmt.Fprintf(out, "    every entry is alike (%d): the archives differ in their framing (compression, headers)\n", res.EntriesA)
		return
	}
	fmt.Fprintf(out, "    first differing entries (recorded | rebuilt):\n")
	for _, d := range res.Differences {
		fmt.Fprintf(out, "    %s\n", terminal.Escape(d.String()))
	}
	if res.More {
		fmt.Fprintf(out, "    and more\n")
	}
}
