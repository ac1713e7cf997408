package provenance_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/provenance"
)

const packageLock = `{
  "name": "build",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {"name": "build", "dependencies": {"sharp": "0.34.5"}},
    "node_modules/sharp": {"version": "0.34.5", "resolved": "https://registry.invalid/sharp/-/sharp-0.34.5.tgz", "integrity": "sha512-Ou9I5Ft9WNcCbXrU9cMgPBcCK8LiwLqcbywW3t4oDV37n1pzpuNLsYiAV8eODnjbtQlSDwZ2cUEeQz4E54Hltg=="},
    "node_modules/@img/sharp-linux-x64": {"version": "0.34.5", "resolved": "https://registry.invalid/@img/sharp-linux-x64/-/sharp-linux-x64-0.34.5.tgz", "integrity": "sha512-MEzd8HPKxVxVenwAa+JRPwEC7QFjoPWuS5NZnBt6B3pu7EG2Ge0id1oLHZpPJdn3OQK+BQDiw9zStiHBTJQQQQ==", "optional": true},
    "node_modules/local": {"resolved": "../local", "link": true}
  }
}
`

// sample is a manifest as a run writes it: two artifacts, out of name order, one
// with a test image, one carried over from an earlier run.
func sample() *manifest.Manifest {
	build := manifest.Image{Ref: "local/node:22", ID: "sha256:" + strings.Repeat("a", 64), RepoDigests: []string{"local/node@sha256:" + strings.Repeat("b", 64)}, Platform: "linux/amd64"}
	test := manifest.Image{Ref: "local/lambda:22", ID: "sha256:" + strings.Repeat("c", 64)}
	return &manifest.Manifest{
		Tool: "matrix", ToolVersion: "1.2.3", RunID: "0123456789ab",
		Spec:    manifest.SpecFile{Path: "matrix.hcl", SHA256: strings.Repeat("d", 64)},
		Started: time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC), Finished: time.Date(2026, 11, 26, 3, 1, 0, 0, time.UTC),
		SourceEpoch: 315532800,
		Artifacts: []manifest.Artifact{
			{File: "sharp-z.zip", RunID: "0123456789ab", SHA256: strings.Repeat("1", 64), Size: 10, Format: "zip", Target: "sharp",
				Axes: []manifest.Axis{{Name: "node", Value: "22"}}, Image: build, InputHash: strings.Repeat("2", 64),
				Test: &manifest.Test{Image: test, Passed: true}},
			{File: "sharp-a.tar.gz", RunID: "earlier", SHA256: strings.Repeat("3", 64), Size: 20, Format: "tar.gz", Target: "sharp",
				Axes: []manifest.Axis{{Name: "node", Value: "20"}}, Image: build, InputHash: strings.Repeat("4", 64)},
		},
		Failed: []manifest.Failure{}, Skipped: []manifest.Skipped{},
	}
}

func sampleInputs() provenance.Inputs {
	return provenance.Inputs{
		Targets:            []string{"sharp"},
		Variables:          map[string]json.RawMessage{"sharp_version": json.RawMessage(`"0.34.5"`)},
		SensitiveVariables: []string{"token"},
		Locked:             true,
		Lock:               manifest.SpecFile{Path: "matrix.lock.json", SHA256: strings.Repeat("e", 64)},
		GitCommit:          strings.Repeat("f", 40),
		NpmLocks:           map[string][]byte{"sharp-z.zip": []byte(packageLock), "sharp-a.tar.gz": []byte(packageLock)},
	}
}

// TestStatementValidates: the statement is one line of JSON that the in-toto
// attestation types read strictly (no field they do not know) and validate, as a
// Statement v1 and as a SLSA provenance v1 predicate.
func TestStatementValidates(t *testing.T) {
	data, err := provenance.Build(sample(), sampleInputs())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(data), "\n") != 1 || !strings.HasSuffix(string(data), "\n") {
		t.Fatalf("not one line of JSON: %q", data)
	}
	var st intoto.Statement
	if err := (protojson.UnmarshalOptions{}).Unmarshal(data, &st); err != nil {
		t.Fatalf("in-toto Statement: %v", err)
	}
	if err := st.Validate(); err != nil {
		t.Fatalf("in-toto Statement: %v", err)
	}
	if st.GetPredicateType() != "https://slsa.dev/provenance/v1" || st.GetType() != "https://in-toto.io/Statement/v1" {
		t.Fatalf("types %q, %q", st.GetType(), st.GetPredicateType())
	}
	pred, err := protojson.Marshal(st.GetPredicate())
	if err != nil {
		t.Fatal(err)
	}
	var p slsa.Provenance
	if err := (protojson.UnmarshalOptions{}).Unmarshal(pred, &p); err != nil {
		t.Fatalf("SLSA provenance v1: %v\n%s", err, pred)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("SLSA provenance v1: %v", err)
	}
	bd := p.GetBuildDefinition()
	if bd.GetBuildType() != provenance.BuildType {
		t.Errorf("buildType %q", bd.GetBuildType())
	}
	ext := bd.GetExternalParameters().AsMap()
	if spec := ext["spec"].(map[string]any); spec["sha256"] != strings.Repeat("d", 64) || spec["path"] != "matrix.hcl" {
		t.Errorf("externalParameters.spec %v", spec)
	}
	if vars := ext["variables"].(map[string]any); vars["sharp_version"] != "0.34.5" || len(vars) != 1 {
		t.Errorf("externalParameters.variables %v", vars)
	}
	if flags := ext["flags"].(map[string]any); flags["locked"] != true {
		t.Errorf("externalParameters.flags %v", flags)
	}
	internal := bd.GetInternalParameters().AsMap()
	if internal["toolVersion"] != "1.2.3" || internal["sourceDateEpoch"] != float64(315532800) || internal["packFormatVersion"] == nil {
		t.Errorf("internalParameters %v", internal)
	}
	rd := p.GetRunDetails()
	if rd.GetBuilder().GetId() != provenance.BuilderID || rd.GetMetadata().GetInvocationId() != "0123456789ab" ||
		!rd.GetMetadata().GetStartedOn().AsTime().Equal(sample().Started) || !rd.GetMetadata().GetFinishedOn().AsTime().Equal(sample().Finished) {
		t.Errorf("runDetails %v", rd)
	}
	// The dependencies: the commit, the lock, both images once, each tarball once
	// (the link is not one), never the URL a tarball came from.
	var names []string
	for _, d := range bd.GetResolvedDependencies() {
		names = append(names, d.GetName()+d.GetUri())
	}
	want := []string{"matrix file repository", "matrix.lock.json", "local/node:22", "local/lambda:22", "pkg:npm/%40img/sharp-linux-x64@0.34.5", "pkg:npm/sharp@0.34.5"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("resolvedDependencies\n got %q\nwant %q", names, want)
	}
	deps := bd.GetResolvedDependencies()
	if deps[0].GetDigest()["gitCommit"] != strings.Repeat("f", 40) || deps[1].GetDigest()["sha256"] != strings.Repeat("e", 64) ||
		deps[2].GetDigest()["sha256"] != strings.Repeat("a", 64) || len(deps[5].GetDigest()["sha512"]) != 128 {
		t.Errorf("digests: %v", deps)
	}
	if strings.Contains(string(data), "registry.invalid") {
		t.Errorf("the statement names the registry a tarball came from")
	}
}

// TestSubjectsAreSHA256SUMS: written with the records, the statement's subjects are
// exactly the lines of SHA256SUMS, in order, and the manifest records its sha256; a
// statement whose subjects are not the lines is refused and nothing is written.
func TestSubjectsAreSHA256SUMS(t *testing.T) {
	dir := t.TempDir()
	m := sample()
	data, err := provenance.Build(m, sampleInputs())
	if err != nil {
		t.Fatal(err)
	}
	if err := manifest.WriteWithProvenance(dir, m, data); err != nil {
		t.Fatal(err)
	}
	sums, _ := os.ReadFile(filepath.Join(dir, manifest.SumsName))
	onDisk, _ := os.ReadFile(filepath.Join(dir, manifest.ProvenanceName))
	st, err := provenance.Parse(onDisk)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, s := range st.Subject {
		lines = append(lines, s.Digest["sha256"]+"  "+s.Name+"\n")
	}
	if strings.Join(lines, "") != string(sums) {
		t.Fatalf("subjects\n%s\nSHA256SUMS\n%s", strings.Join(lines, ""), sums)
	}
	rec, err := manifest.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if rec.ProvenanceSHA256 == "" {
		t.Fatal("the manifest records no provenance_sha256")
	}

	other := t.TempDir()
	m2 := sample()
	m2.Artifacts = m2.Artifacts[:1]
	if err := manifest.WriteWithProvenance(other, m2, data); err == nil || !strings.Contains(err.Error(), "subjects") {
		t.Fatalf("a statement of other artifacts: %v", err)
	}
	if entries, _ := os.ReadDir(other); len(entries) != 0 {
		t.Fatalf("written anyway: %v", entries)
	}
}

// TestParseRefuses: what is not one statement of our types is refused.
func TestParseRefuses(t *testing.T) {
	good, _ := provenance.Build(sample(), sampleInputs())
	for name, data := range map[string]string{
		"not json":        "{",
		"two statements":  string(good) + string(good),
		"other type":      strings.Replace(string(good), "https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1", 1),
		"other predicate": strings.Replace(string(good), "https://slsa.dev/provenance/v1", "https://slsa.dev/provenance/v0.2", 1),
		"no digest":       strings.Replace(string(good), `"digest":{"sha256":"`+strings.Repeat("1", 64)+`"}`, `"digest":{}`, 1),
	} {
		if _, err := provenance.Parse([]byte(data)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	if _, err := provenance.Parse(good); err != nil {
		t.Fatal(err)
	}
}

// TestNoArtifactNoStatement: in-toto requires a subject: a run without artifacts
// has no statement.
func TestNoArtifactNoStatement(t *testing.T) {
	m := sample()
	m.Artifacts = nil
	data, err := provenance.Build(m, sampleInputs())
	if err != nil || data != nil {
		t.Errorf("Build of no artifact: %q, %v", data, err)
	}
}

// TestOtherPackageLock: a package-lock.json that is not npm's (another tool's file by
// that name, an old format) does not stop the statement: the file's sha256 stands
// in for its packages, and the statement still validates.
func TestOtherPackageLock(t *testing.T) {
	in := sampleInputs()
	in.NpmLocks = map[string][]byte{"sharp-z.zip": []byte(`{"resolved":"anything"}`)}
	data, err := provenance.Build(sample(), in)
	if err != nil {
		t.Fatal(err)
	}
	var st intoto.Statement
	if err := protojson.Unmarshal(data, &st); err != nil || st.Validate() != nil {
		t.Fatalf("%v %v", err, st.Validate())
	}
	if !strings.Contains(string(data), `"name":"package-lock.json of sharp-z.zip","digest":{"sha256":"`) {
		t.Errorf("no stand-in for the lock: %s", data)
	}
}
