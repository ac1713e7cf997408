// Package manifest defines manifest.json and SHA256SUMS, the record of a run that sits
// beside its artifacts, and checks artifacts against them.
//
// The schema is versioned by SchemaVersion; a reader refuses a version it does not know.
// See README.md, "The manifest", for the documented fields.
package manifest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/internal/filename"
)

// SchemaVersion is the version of manifest.json written by this package.
const SchemaVersion = 1

// File names inside the output directory.
const (
	FileName = "manifest.json"
	SumsName = "SHA256SUMS"
)

// Manifest is the content of manifest.json.
type Manifest struct {
	SchemaVersion int    `json:"schema_version"`
	Tool          string `json:"tool"`
	ToolVersion   string `json:"tool_version"`
	RunID         string `json:"run_id"`
	// Spec is the matrix file: its path as given and the sha256 of its bytes.
	Spec      SpecFile   `json:"spec"`
	Started   time.Time  `json:"started"`
	Finished  time.Time  `json:"finished"`
	SkipTests bool       `json:"skip_tests"`
	Artifacts []Artifact `json:"artifacts"`
	Failed    []Failure  `json:"failed"`
	// Skipped are the cells of the run that a skip block of their target held for:
	// not built. A manifest written before skip blocks existed has none.
	Skipped     []Skipped `json:"skipped"`
	SourceEpoch int64     `json:"source_date_epoch"`
}

// SpecFile identifies the matrix file a run read.
type SpecFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// Axis is one matrix value of a cell, as the file wrote it.
type Axis struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

// Image identifies the image a cell ran in.
type Image struct {
	Ref         string   `json:"ref"`
	ID          string   `json:"id"`
	RepoDigests []string `json:"repo_digests,omitempty"`
	Platform    string   `json:"platform,omitempty"`
}

// Artifact is one built file.
type Artifact struct {
	File string `json:"file"`
	// RunID is the run that built the artifact: this manifest's run_id, or an earlier
	// run's for an artifact that this run left in place.
	RunID  string `json:"run_id"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Format string `json:"format"`
	Target string `json:"target"`
	Axes   []Axis `json:"axes"`
	Image  Image  `json:"image"`
	// Engine is the Docker engine that built the artifact (its address).
	Engine string `json:"engine"`
	// InputHash is the sha256 of the evaluated cell (image ID, script, env, mounts,
	// collect, artifact name, format, packer version): equal hashes mean an equal build.
	InputHash    string  `json:"input_hash"`
	Files        int     `json:"files"`
	ContentBytes int64   `json:"content_bytes"`
	DurationSecs float64 `json:"duration_seconds"`
	Log          string  `json:"log"`
	// Test is the artifact's test; nil when the target has none, with --skip-tests,
	// or when the cell is CrossBuilt (built for a platform no test image here runs).
	Test       *Test `json:"test,omitempty"`
	CrossBuilt bool  `json:"cross_built,omitempty"`
}

// Test is the result of an artifact's test in a runtime container.
type Test struct {
	Image  Image `json:"image"`
	Passed bool  `json:"passed"`
	// Definition is the sha256 of the test as it ran (image ID, script, env, mounts,
	// workdir): --reuse keeps an artifact only if it passed the same test.
	Definition   string  `json:"definition"`
	DurationSecs float64 `json:"duration_seconds"`
	Output       string  `json:"output,omitempty"` // the last lines of the test's output
}

// Failure is a cell that produced no artifact.
type Failure struct {
	Artifact string `json:"artifact"`
	Target   string `json:"target"`
	Axes     []Axis `json:"axes"`
	Error    string `json:"error"`
	Log      string `json:"log,omitempty"`
	// Test is the failed test of a cell whose artifact did not pass it.
	Test *Test `json:"test,omitempty"`
}

// Skipped is a cell that was not built, and why.
type Skipped struct {
	Cell   string `json:"cell"` // e.g. "sharp-lambda[sharp=0.35.5,node=18,arch=x64]"
	Target string `json:"target"`
	Axes   []Axis `json:"axes"`
	Reason string `json:"reason"`
}

// Write writes manifest.json and SHA256SUMS into dir, each atomically (temporary file,
// fsync, rename): a reader sees the old pair or the new one, never a torn file.
// SHA256SUMS is written first, so a manifest never names sums that are not on disk.
// Both list the artifacts sorted by file name, with this package's SchemaVersion; m
// itself is left as it is.
func Write(dir string, m *Manifest) error {
	out := *m
	out.SchemaVersion = SchemaVersion
	out.Artifacts = slices.Clone(m.Artifacts)
	slices.SortStableFunc(out.Artifacts, func(a, b Artifact) int { return strings.Compare(a.File, b.File) })
	if out.Skipped == nil {
		out.Skipped = []Skipped{}
	}
	var sums bytes.Buffer
	for _, a := range out.Artifacts {
		fmt.Fprintf(&sums, "%s  %s\n", a.SHA256, a.File)
	}
	if err := atomicfile.Write(filepath.Join(dir, SumsName), sums.Bytes()); err != nil {
		return err
	}
	var data bytes.Buffer
	enc := json.NewEncoder(&data)
	enc.SetEscapeHTML(false) // keep ">=20.9.0" in skip reasons and errors readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(&out); err != nil {
		return fmt.Errorf("encoding %s: %w", FileName, err)
	}
	return atomicfile.Write(filepath.Join(dir, FileName), data.Bytes())
}

// Read reads dir/manifest.json. A missing file gives an error that satisfies
// errors.Is(err, fs.ErrNotExist); any other error means the file is there but is not
// a manifest this package can read.
func Read(dir string) (*Manifest, error) {
	path := filepath.Join(dir, FileName)
	// Stat first: opening a fifo would block, and a directory reads as an odd error.
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (mode %v)", path, info.Mode())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: not a manifest: %w", path, err)
	}
	if m.SchemaVersion > SchemaVersion {
		return nil, fmt.Errorf("%s: schema_version %d, this tool reads %d (a newer matrix wrote it)", path, m.SchemaVersion, SchemaVersion)
	}
	if m.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("%s: schema_version %d, this tool reads %d", path, m.SchemaVersion, SchemaVersion)
	}
	return &m, nil
}

// ReadSums parses a SHA256SUMS file (`sha256sum` format: "HEX  NAME" per line).
func ReadSums(r io.Reader) (map[string]string, error) {
	sums := map[string]string{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		sum, name, ok := strings.Cut(text, "  ")
		if !ok || len(sum) != sha256.Size*2 || name == "" {
			return nil, fmt.Errorf("line %d: want \"SHA256  NAME\", got %q", line, text)
		}
		if _, err := hex.DecodeString(sum); err != nil {
			return nil, fmt.Errorf("line %d: %q is not a hex sha256", line, sum)
		}
		sums[strings.TrimPrefix(name, "*")] = sum
	}
	return sums, sc.Err()
}

// Problem is one artifact that does not match its record.
type Problem struct {
	File   string
	Reason string
}

func (p Problem) String() string { return p.File + ": " + p.Reason }

// Verify re-hashes every artifact that manifest.json and SHA256SUMS in dir list and
// returns one Problem per missing, changed or inconsistently recorded file. The error
// is for a directory that cannot be verified at all (no manifest, unreadable sums).
func Verify(dir string) (checked int, problems []Problem, err error) {
	m, err := Read(dir)
	if err != nil {
		return 0, nil, err
	}
	f, err := os.Open(filepath.Join(dir, SumsName))
	if err != nil {
		return 0, nil, err
	}
	sums, err := ReadSums(f)
	f.Close()
	if err != nil {
		return 0, nil, fmt.Errorf("%s: %w", filepath.Join(dir, SumsName), err)
	}
	inManifest := map[string]bool{}
	for _, a := range m.Artifacts {
		inManifest[a.File] = true
		if s, ok := sums[a.File]; !ok {
			problems = append(problems, Problem{a.File, "listed in " + FileName + " but not in " + SumsName})
		} else if s != a.SHA256 {
			problems = append(problems, Problem{a.File, SumsName + " and " + FileName + " disagree"})
		}
		if why := filename.Why(a.File); why != "" {
			problems = append(problems, Problem{a.File, "not a plain file name: " + why})
			continue
		}
		sum, size, err := HashFile(filepath.Join(dir, a.File))
		switch {
		case errors.Is(err, os.ErrNotExist):
			problems = append(problems, Problem{a.File, "missing"})
		case err != nil:
			problems = append(problems, Problem{a.File, err.Error()})
		case sum != a.SHA256:
			problems = append(problems, Problem{a.File, fmt.Sprintf("changed: sha256 %s, recorded %s", sum, a.SHA256)})
		case size != a.Size:
			problems = append(problems, Problem{a.File, fmt.Sprintf("changed: %d bytes, recorded %d", size, a.Size)})
		}
		checked++
	}
	for name := range sums {
		if !inManifest[name] {
			problems = append(problems, Problem{name, "listed in " + SumsName + " but not in " + FileName})
		}
	}
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].File < problems[j].File })
	return checked, problems, nil
}

// HashFile returns the hex sha256 and the size of a file.
func HashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
