// Package lock reads and writes matrix.lock.json, the record of the exact dependency
// tree each cell installed (npm's package.json and package-lock.json from the build
// container). Like .terraform.lock.hcl it sits next to the matrix file, is reviewed in
// pull requests, and is written in a stable order: cells sorted by artifact name, JSON
// files embedded as indented JSON so that a diff shows the changed dependencies.
//
// Its resolved section pins the matrix file's registry calls (npm_versions,
// npm_package) and their answers, sorted by call, so that commands answer them without
// the registry and a pull request shows which versions came or went.
//
// `matrix run --locked` gives each cell its recorded files before the script starts
// (and MATRIX_LOCKED=1), so the script can run `npm ci` and install exactly that tree.
package lock

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/plan"
)

// Version is the newest format this package reads and writes: 2 added the resolved
// section. A lock without resolutions is written as version 1, byte for byte as before
// it, so that older tools keep reading it; one with resolutions is version 2, which
// older tools refuse instead of rewriting it without them.
const Version = 2

// versionCells is the format of a lock with cells only.
const versionCells = 1

// FileName is the lock file's name, in the matrix file's directory.
const FileName = "matrix.lock.json"

// MaxSize bounds matrix.lock.json, which is read whole: a lock of many cells is a few
// megabytes.
const MaxSize = 64 << 20

// MaxFileSize bounds one file of an entry, as the engine bounds a lock file it captures
// from a build (engine's maxLockFile): they are kilobytes, never artifacts.
const MaxFileSize = 16 << 20

// File is a lock file's content.
type File struct {
	Version int `json:"lock_version"`
	// Resolved pins the registry calls of the matrix file, sorted by call.
	Resolved Resolutions       `json:"resolved,omitempty"`
	Cells    map[string]*Entry `json:"cells"` // by artifact name
}

// Entry is the lock of one cell.
type Entry struct {
	Target string      `json:"target"`
	Axes   []plan.Axis `json:"axes"`
	// Definition is the sha256 of what decides the installed tree (script, workdir,
	// lock_files): an entry whose definition differs from the cell's is stale.
	Definition string `json:"definition"`
	// ArtifactSHA256 is the sha256 of the artifact built when the entry was recorded.
	ArtifactSHA256 string `json:"artifact_sha256,omitempty"`
	// Files maps a path relative to the workdir to its content.
	Files map[string]Content `json:"files"`
}

// Content is a file's bytes, kept as JSON when they are JSON (readable diffs).
type Content []byte

// MarshalJSON embeds JSON content as JSON when UnmarshalJSON gives its bytes back
// exactly (indented as npm writes it), and anything else as a string: what --locked
// puts back is always the bytes the build left.
func (c Content) MarshalJSON() ([]byte, error) {
	if json.Valid(c) {
		var compact, indented bytes.Buffer
		if json.Compact(&compact, c) == nil && json.Indent(&indented, compact.Bytes(), "", "  ") == nil {
			indented.WriteByte('\n')
			if bytes.Equal(indented.Bytes(), c) {
				return compact.Bytes(), nil
			}
		}
	}
	return json.Marshal(string(c))
}

// UnmarshalJSON reverses MarshalJSON; JSON content comes back indented with two
// spaces and a final newline, as npm writes it.
func (c *Content) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		*c = Content(s)
		return nil
	}
	// Indenting grows a deeply nested value quadratically: measured before it is done.
	if n := indentedSize(data); n > MaxFileSize {
		return fmt.Errorf("a file of about %d bytes once indented, more than the %d a lock file may have", n, MaxFileSize)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, data, "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	*c = buf.Bytes()
	return nil
}

// indentedSize is at least the size of data, valid JSON, indented with two spaces by
// json.Indent and given a final newline: each bracket and comma may start a line
// indented to its depth.
func indentedSize(data []byte) int64 {
	n, depth := int64(len(data))+1, int64(0)
	inString, escaped := false, false
	for _, c := range data {
		switch {
		case escaped:
			escaped = false
		case inString:
			escaped = c == '\\'
			inString = c != '"'
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			n += 1 + 2*depth
		case c == '}' || c == ']':
			n += 1 + 2*depth
			depth--
		case c == ',':
			n += 1 + 2*depth
		case c == ':':
			n++
		}
	}
	return n
}

// PathFor is the lock file that belongs to a matrix file: NAME.lock.json beside
// NAME.hcl, so matrix.lock.json for matrix.hcl; a file not named *.hcl gets
// ".lock.json" after its whole name. Each matrix file owns its lock: two files of one
// directory never share entries.
func PathFor(specPath string) string {
	dir, base := filepath.Split(specPath)
	return filepath.Join(dir, strings.TrimSuffix(base, ".hcl")+".lock.json")
}

// noVersion marks a lock_version that the file does not give.
const noVersion = math.MinInt

// Read reads a lock file; a missing file gives an empty File and an error that
// satisfies errors.Is(err, os.ErrNotExist). A file that is not a regular file or is
// larger than MaxSize is refused before it is read.
func Read(path string) (*File, error) {
	f := &File{Version: Version, Cells: map[string]*Entry{}}
	data, err := atomicfile.ReadFile(path, MaxSize)
	if err != nil {
		return f, err
	}
	return Parse(path, data)
}

// Parse decodes the bytes of a lock file read from path (named in errors) as Read
// does; a caller that reads hostile places (a shard's directory, for matrix merge)
// reads the bytes itself, never through a link.
func Parse(path string, data []byte) (*File, error) {
	f := &File{Version: Version, Cells: map[string]*Entry{}}
	// Other JSON has no lock_version: with the default kept, it would read as an
	// empty lock file, and the next write would replace it.
	f.Version = noVersion
	if err := json.Unmarshal(data, f); err != nil {
		return f, fmt.Errorf("%s: not a lock file: %w", path, err)
	}
	if f.Version == noVersion {
		return f, fmt.Errorf("%s: not a lock file: no lock_version (this tool reads %d to %d); move it away to start a new one", path, versionCells, Version)
	}
	if f.Version < versionCells || f.Version > Version {
		return f, fmt.Errorf("%s: lock_version %d, this tool reads %d to %d", path, f.Version, versionCells, Version)
	}
	if f.Cells == nil {
		f.Cells = map[string]*Entry{}
	}
	return f, nil
}

// Write writes the lock file atomically, as Marshal gives it.
func (f *File) Write(path string) error {
	data, err := f.Marshal()
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	return atomicfile.Write(path, data)
}

// Marshal gives the lock file's bytes: a stable order with sorted keys, resolutions
// sorted by call, and the format version its content needs; f itself is left as it is.
func (f *File) Marshal() ([]byte, error) {
	out := *f
	out.Version = versionCells
	if len(f.Resolved) > 0 {
		out.Version = Version
		out.Resolved = sortedResolutions(f.Resolved)
	}
	if out.Cells == nil {
		out.Cells = map[string]*Entry{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep ">=1.2" readable in version ranges
	enc.SetIndent("", "  ")
	if err := enc.Encode(&out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Definition is the hash that makes an entry stale when the cell changes. A script
// cell's is of its script, workdir and lock_files. An npm cell's is of what decides
// what npm installs: the npm block (not the script it runs after the install), the
// image reference, the platform, the workdir and lock_files; a comment in the script
// leaves the entry current.
func Definition(c plan.Cell) string {
	h := sha256.New()
	if c.Npm != nil {
		npm := *c.Npm
		npm.PostInstall = ""
		json.NewEncoder(h).Encode(struct {
			Npm                      plan.Npm
			Image, Platform, Workdir string
			LockFiles                []string
		}{npm, c.Image, c.Platform, c.Workdir, c.LockFiles})
	} else {
		json.NewEncoder(h).Encode(struct {
			Script, Workdir string
			LockFiles       []string
		}{c.Script, c.Workdir, c.LockFiles})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// definedBy names what Definition hashes, for the message of a stale entry.
func definedBy(c plan.Cell) string {
	if c.Npm != nil {
		return "npm block, image, platform, workdir or lock_files"
	}
	return "script, workdir or lock_files"
}

// ErrMissing, ErrStale and ErrUnsafe say why a cell cannot be built with --locked.
var (
	ErrMissing = errors.New("no entry in the lock file")
	ErrStale   = errors.New("the lock entry is stale")
	// ErrUnsafe is an entry holding what no build records: a file the cell does not
	// declare (an .npmrc that sends npm elsewhere), a path that leaves the workdir,
	// a file larger than a lock file may be. Only an edited lock holds one.
	ErrUnsafe = errors.New("the lock entry holds what a build never records")
)

// Lookup returns the entry of a cell, or why it cannot be used.
func (f *File) Lookup(c plan.Cell) (*Entry, error) {
	e, ok := f.Cells[c.Artifact]
	if !ok {
		return nil, fmt.Errorf("%s: %w (run `matrix lock` or a run without --locked first)", c.Artifact, ErrMissing)
	}
	if e.Target != c.Target || e.Definition != Definition(c) {
		return nil, fmt.Errorf("%s: %w: the cell's %s changed since it was recorded (run `matrix lock`)", c.Artifact, ErrStale, definedBy(c))
	}
	var missing []string
	for _, name := range c.LockFiles {
		if _, ok := e.Files[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: %w: it lacks %s", c.Artifact, ErrStale, strings.Join(missing, ", "))
	}
	var unsafe []string
	for _, name := range slices.Sorted(maps.Keys(e.Files)) {
		switch {
		case !inWorkdir(name):
			unsafe = append(unsafe, fmt.Sprintf("%s, a path that leaves the workdir", strconv.Quote(name)))
		case !slices.Contains(c.LockFiles, name):
			unsafe = append(unsafe, fmt.Sprintf("%s, which is not one of the cell's lock_files (%s)", strconv.Quote(name), strings.Join(c.LockFiles, ", ")))
		case len(e.Files[name]) > MaxFileSize:
			unsafe = append(unsafe, fmt.Sprintf("%s, %d bytes, more than the %d a lock file may have", strconv.Quote(name), len(e.Files[name]), MaxFileSize))
		}
	}
	if len(unsafe) > 0 {
		return nil, fmt.Errorf("%s: %w: it holds %s; record it again with `matrix lock --upgrade`", c.Artifact, ErrUnsafe, strings.Join(unsafe, "; "))
	}
	return e, nil
}

// Inputs returns the files --locked puts into the cell's workdir before its script:
// exactly the cell's lock_files, from an entry that Lookup accepts.
func (f *File) Inputs(c plan.Cell) (map[string][]byte, error) {
	e, err := f.Lookup(c)
	if err != nil {
		return nil, err
	}
	files := make(map[string][]byte, len(c.LockFiles))
	for _, name := range c.LockFiles {
		files[name] = e.Files[name]
	}
	return files, nil
}

// inWorkdir reports whether a path of an entry names a file inside the workdir: a
// relative path, without "..", that is not the workdir itself.
func inWorkdir(name string) bool {
	return name != "" && !path.IsAbs(name) && path.Clean(name) != "." && !slices.Contains(strings.Split(name, "/"), "..")
}

// Record sets the entry of a cell from the files its build left in the workdir. A
// file named *.json that is not JSON (a truncated package-lock.json) is refused, and
// the cell's entry left as it was: npm ci could not install from it.
func (f *File) Record(c plan.Cell, artifactSHA256 string, files map[string][]byte) error {
	e := &Entry{Target: c.Target, Axes: c.Axes, Definition: Definition(c), ArtifactSHA256: artifactSHA256, Files: map[string]Content{}}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		data := files[name]
		if strings.HasSuffix(name, ".json") && !json.Valid(data) {
			var v any
			err := json.Unmarshal(data, &v)
			return fmt.Errorf("%s: the build left %s that is not JSON (%v); its lock entry is not recorded", c.Artifact, name, err)
		}
		e.Files[name] = Content(data)
	}
	f.Cells[c.Artifact] = e
	return nil
}

// Prune drops the entries of cells the plan no longer builds, and returns their
// artifact names, sorted. planned are the cells of the plan (a skipped cell builds
// nothing); whole says that every target of the file was planned, so that an entry of
// a target the file no longer has goes too. Otherwise only entries of the planned
// targets are considered: the others were not looked at.
func (f *File) Prune(planned []plan.Cell, whole bool) []string {
	targets, builds := map[string]bool{}, map[string]bool{}
	for _, c := range planned {
		targets[c.Target] = true
		if c.Skip == "" {
			builds[c.Artifact] = true
		}
	}
	var gone []string
	for name, e := range f.Cells {
		if !builds[name] && (whole || targets[e.Target]) {
			gone = append(gone, name)
			delete(f.Cells, name)
		}
	}
	sort.Strings(gone)
	return gone
}

// Names returns the recorded artifact names, sorted.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.Cells))
	for n := range f.Cells {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
