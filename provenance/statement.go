// Package provenance makes the in-toto statement of a run, OUT/provenance.intoto.jsonl:
// an in-toto Statement v1 whose subjects are exactly the lines of SHA256SUMS, with a
// SLSA provenance v1 predicate that says how every artifact was made (the matrix
// file, its non-sensitive variables, the lock file, the images, the npm tarballs, the
// tool). It signs and verifies the statement in ssh-keygen's SSHSIG format (sshsig.go),
// so that `ssh-keygen -Y verify` checks a signature without this tool.
//
// The statement is built from what the run records and what the command knows; it
// holds no value of a sensitive variable, no pass_env value and nothing of the
// registry's configuration (its address or token): npm tarballs are named by package
// URL (pkg:npm/NAME@VERSION), never by the URL they were fetched from, and the matrix
// file's repository by its commit only, never by a remote.
package provenance

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/pack"
)

// The statement's constants; README.md, "Provenance", documents BuildType.
const (
	StatementType = "https://in-toto.io/Statement/v1"
	PredicateType = "https://slsa.dev/provenance/v1"
	// BuildType names this tool's build: a matrix file's cells, each built in a
	// container and packed reproducibly. Its parameters are the ones documented at
	// the README's anchor.
	BuildType = "https://github.com/matrixbuild/matrix/blob/main/README.md#provenance-buildtype-v1"
	// BuilderID is the builder: this tool, whose version is in builder.version.
	BuilderID = "https://github.com/matrixbuild/matrix"
	// FileName is the statement's name in an output directory.
	FileName = manifest.ProvenanceName
)

// Statement is an in-toto Statement v1 with a SLSA provenance v1 predicate. Its JSON
// field names are the specifications'.
type Statement struct {
	Type          string    `json:"_type"`
	Subject       []Subject `json:"subject"`
	PredicateType string    `json:"predicateType"`
	Predicate     Predicate `json:"predicate"`
}

// Subject is one artifact: a line of SHA256SUMS.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Predicate is SLSA provenance v1.
type Predicate struct {
	BuildDefinition BuildDefinition `json:"buildDefinition"`
	RunDetails      RunDetails      `json:"runDetails"`
}

// BuildDefinition says what was built from what.
type BuildDefinition struct {
	BuildType            string               `json:"buildType"`
	ExternalParameters   ExternalParameters   `json:"externalParameters"`
	InternalParameters   InternalParameters   `json:"internalParameters"`
	ResolvedDependencies []ResourceDescriptor `json:"resolvedDependencies"`
}

// ExternalParameters are what the user chose: the matrix file, the targets, the
// variables and the flags that change what is built.
type ExternalParameters struct {
	Spec manifest.SpecFile `json:"spec"`
	// Targets are the targets named on the command line; empty: every target.
	Targets []string `json:"targets"`
	// Variables are the values of the file's variables that are not sensitive, as
	// JSON; SensitiveVariables names the others, whose values are never recorded
	// (a rebuild must be given them again).
	Variables          map[string]json.RawMessage `json:"variables"`
	SensitiveVariables []string                   `json:"sensitiveVariables,omitempty"`
	Flags              Flags                      `json:"flags"`
}

// Flags are the command-line flags that change the artifacts or what the records say
// of them.
type Flags struct {
	Locked        bool `json:"locked"`
	SkipTests     bool `json:"skipTests"`
	AllowDangling bool `json:"allowDangling"`
	AllowDrift    bool `json:"allowDrift"`
}

// InternalParameters are what the tool chose.
type InternalParameters struct {
	ToolVersion       string `json:"toolVersion"`
	SourceDateEpoch   int64  `json:"sourceDateEpoch"`
	PackFormatVersion int    `json:"packFormatVersion"`
	// Artifacts say which cell made each subject, from which inputs, in which run
	// (an artifact a run kept was built by an earlier one).
	Artifacts []Artifact `json:"artifacts"`
}

// Artifact ties a subject to its cell.
type Artifact struct {
	File      string          `json:"file"`
	Target    string          `json:"target"`
	Axes      []manifest.Axis `json:"axes"`
	InputHash string          `json:"inputHash"`
	RunID     string          `json:"runId"`
}

// ResourceDescriptor is an in-toto ResourceDescriptor.
type ResourceDescriptor struct {
	Name        string            `json:"name,omitempty"`
	URI         string            `json:"uri,omitempty"`
	Digest      map[string]string `json:"digest,omitempty"`
	Annotations map[string]any    `json:"annotations,omitempty"`
}

// RunDetails say who ran the build, and when.
type RunDetails struct {
	Builder  Builder       `json:"builder"`
	Metadata BuildMetadata `json:"metadata"`
	// Byproducts are, for a merge (Merge), the statements of the shard runs it joined.
	Byproducts []ResourceDescriptor `json:"byproducts,omitempty"`
}

// Builder is this tool.
type Builder struct {
	ID      string            `json:"id"`
	Version map[string]string `json:"version,omitempty"`
}

// BuildMetadata is the run: its ID and times.
type BuildMetadata struct {
	InvocationID string    `json:"invocationId"`
	StartedOn    time.Time `json:"startedOn"`
	FinishedOn   time.Time `json:"finishedOn"`
}

// Inputs are what the command knows of a run beyond its manifest.
type Inputs struct {
	Targets            []string
	Variables          map[string]json.RawMessage // not sensitive only
	SensitiveVariables []string                   // names
	Locked             bool
	AllowDangling      bool
	// Lock is the lock file as the run read it: its path and sha256 ("" when there
	// was none).
	Lock manifest.SpecFile
	// GitCommit is the commit of the matrix file's repository (GitCommit); "": none.
	GitCommit string
	// NpmLocks holds per artifact file the package-lock.json its cell installed from
	// or recorded; the tarballs it lists, with their integrity, are dependencies.
	NpmLocks map[string][]byte
}

// Build returns the statement of m, the manifest a run is about to write, as one
// line of JSON ending in a newline (the .jsonl form that attestation tools read).
// Its subjects are m's artifacts sorted by file name: the lines of SHA256SUMS. A
// manifest without artifacts has no statement (nil): in-toto requires a subject.
func Build(m *manifest.Manifest, in Inputs) ([]byte, error) {
	if len(m.Artifacts) == 0 {
		return nil, nil
	}
	st, err := statement(m, in)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(st); err != nil {
		return nil, fmt.Errorf("encoding %s: %w", FileName, err)
	}
	return buf.Bytes(), nil
}

func statement(m *manifest.Manifest, in Inputs) (*Statement, error) {
	arts := slices.Clone(m.Artifacts)
	slices.SortStableFunc(arts, func(a, b manifest.Artifact) int { return strings.Compare(a.File, b.File) })
	st := &Statement{
		Type:          StatementType,
		Subject:       make([]Subject, 0, len(arts)),
		PredicateType: PredicateType,
	}
	internal := InternalParameters{
		ToolVersion:       m.ToolVersion,
		SourceDateEpoch:   m.SourceEpoch,
		PackFormatVersion: pack.FormatVersion,
		Artifacts:         make([]Artifact, 0, len(arts)),
	}
	for _, a := range arts {
		st.Subject = append(st.Subject, Subject{Name: a.File, Digest: map[string]string{"sha256": a.SHA256}})
		internal.Artifacts = append(internal.Artifacts, Artifact{File: a.File, Target: a.Target, Axes: a.Axes, InputHash: a.InputHash, RunID: a.RunID})
	}
	deps, err := dependencies(arts, in)
	if err != nil {
		return nil, err
	}
	vars := in.Variables
	if vars == nil {
		vars = map[string]json.RawMessage{}
	}
	targets := in.Targets
	if targets == nil {
		targets = []string{}
	}
	st.Predicate = Predicate{
		BuildDefinition: BuildDefinition{
			BuildType: BuildType,
			ExternalParameters: ExternalParameters{
				Spec:               m.Spec,
				Targets:            targets,
				Variables:          vars,
				SensitiveVariables: in.SensitiveVariables,
				Flags: Flags{
					Locked:        in.Locked,
					SkipTests:     m.SkipTests,
					AllowDangling: in.AllowDangling,
					AllowDrift:    m.AllowDrift,
				},
			},
			InternalParameters:   internal,
			ResolvedDependencies: deps,
		},
		RunDetails: RunDetails{
			Builder: Builder{ID: BuilderID, Version: map[string]string{"matrix": m.ToolVersion}},
			Metadata: BuildMetadata{
				InvocationID: m.RunID,
				StartedOn:    m.Started.UTC(),
				FinishedOn:   m.Finished.UTC(),
			},
		},
	}
	return st, nil
}

// dependencies are the resolved dependencies of arts: the matrix file's commit, the
// lock file, every image (build and test) once, every npm tarball once, each with the
// artifacts that used it, in a stable order.
func dependencies(arts []manifest.Artifact, in Inputs) ([]ResourceDescriptor, error) {
	deps := []ResourceDescriptor{}
	if in.GitCommit != "" {
		alg := "gitCommit"
		if len(in.GitCommit) == 64 {
			alg = "gitCommitSha256" // a SHA-256 repository's; in-toto knows no name for it
		}
		deps = append(deps, ResourceDescriptor{Name: "matrix file repository", Digest: map[string]string{alg: in.GitCommit}})
	}
	if in.Lock.SHA256 != "" {
		deps = append(deps, ResourceDescriptor{Name: in.Lock.Path, Digest: map[string]string{"sha256": in.Lock.SHA256},
			Annotations: map[string]any{"role": "lock file"}})
	}
	images := map[string]*imageUse{}
	var imageOrder []string
	use := func(img manifest.Image, role, file string) {
		if img.ID == "" && img.Ref == "" {
			return
		}
		key := img.Ref + "\x00" + img.ID
		u, ok := images[key]
		if !ok {
			u = &imageUse{img: img, roles: map[string]bool{}}
			images[key] = u
			imageOrder = append(imageOrder, key)
		}
		u.roles[role] = true
		if !slices.Contains(u.artifacts, file) {
			u.artifacts = append(u.artifacts, file)
		}
	}
	npm := map[string]*tarballUse{}
	var npmOrder []string
	for _, a := range arts {
		use(a.Image, "build", a.File)
		if a.Test != nil {
			use(a.Test.Image, "test", a.File)
		}
		for _, t := range a.Tests {
			use(t.Image, "test", a.File)
		}
		data, ok := in.NpmLocks[a.File]
		if !ok {
			continue
		}
		tarballs, err := NpmTarballs(data)
		if err != nil {
			// Not npm's lock (a lock_files entry of another tool by that name, an
			// old format): the run is no less recorded; the file itself stands in.
			sum := sha256.Sum256(data)
			deps = append(deps, ResourceDescriptor{Name: "package-lock.json of " + a.File,
				Digest:      map[string]string{"sha256": hex.EncodeToString(sum[:])},
				Annotations: map[string]any{"note": "its packages are not listed: " + err.Error(), "artifacts": []string{a.File}}})
			continue
		}
		for _, t := range tarballs {
			key := t.PURL + "\x00" + t.Integrity
			u, ok := npm[key]
			if !ok {
				u = &tarballUse{t: t}
				npm[key] = u
				npmOrder = append(npmOrder, key)
			}
			u.artifacts = append(u.artifacts, a.File)
		}
	}
	for _, k := range imageOrder {
		deps = append(deps, images[k].descriptor())
	}
	slices.Sort(npmOrder)
	for _, k := range npmOrder {
		deps = append(deps, npm[k].descriptor())
	}
	return deps, nil
}

type imageUse struct {
	img       manifest.Image
	roles     map[string]bool
	artifacts []string
}

func (u *imageUse) descriptor() ResourceDescriptor {
	d := ResourceDescriptor{Name: u.img.Ref}
	if id, ok := strings.CutPrefix(u.img.ID, "sha256:"); ok {
		d.Digest = map[string]string{"sha256": id}
	}
	roles := make([]string, 0, len(u.roles))
	for _, r := range []string{"build", "test"} {
		if u.roles[r] {
			roles = append(roles, r+" image")
		}
	}
	ann := map[string]any{"role": strings.Join(roles, ", "), "imageId": u.img.ID, "artifacts": u.artifacts}
	if len(u.img.RepoDigests) > 0 {
		ann["repoDigests"] = u.img.RepoDigests
	}
	if u.img.Platform != "" {
		ann["platform"] = u.img.Platform
	}
	d.Annotations = ann
	return d
}

type tarballUse struct {
	t         Tarball
	artifacts []string
}

func (u *tarballUse) descriptor() ResourceDescriptor {
	d := ResourceDescriptor{URI: u.t.PURL, Digest: u.t.Digest,
		Annotations: map[string]any{"integrity": u.t.Integrity, "artifacts": u.artifacts}}
	return d
}

// Parse reads a statement as Build writes it: one JSON object (a final newline
// allowed), of the statement and predicate types above, with no unknown top-level
// field and every subject a name and a sha256.
func Parse(data []byte) (*Statement, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var st Statement
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("not an in-toto statement: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one statement: this tool writes one")
	}
	if st.Type != StatementType {
		return nil, fmt.Errorf("_type %q, want %q", st.Type, StatementType)
	}
	if st.PredicateType != PredicateType {
		return nil, fmt.Errorf("predicateType %q, want %q", st.PredicateType, PredicateType)
	}
	for i, s := range st.Subject {
		if s.Name == "" || len(s.Digest["sha256"]) != 64 {
			return nil, fmt.Errorf("subject %d: want a name and a sha256 digest", i+1)
		}
	}
	return &st, nil
}
