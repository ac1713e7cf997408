// Package plan holds the evaluated matrix: a Cell is everything needed to build one
// artifact, with no expression left to evaluate. It is the contract between the HCL
// front end (spec), which produces cells, and the runner and executors, which consume
// them; it imports nothing of the HCL front end, so consumers need none of it.
package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Cell is one fully evaluated combination of a target's matrix: everything the runner
// needs to build one artifact, with no expression left to evaluate. A plan is a []Cell
// in the order the file writes targets, axes and values.
type Cell struct {
	Target string `json:"target"`
	// Axes are the cell's matrix values in the order the file declares the axes,
	// followed by keys that only an include adds.
	Axes []Axis `json:"axes"`

	Image    string `json:"image"`
	Platform string `json:"platform,omitempty"` // e.g. "linux/amd64"; empty: the engine's default
	Workdir  string `json:"workdir"`
	// Env holds the variables given to the build container. Values are never secret:
	// spec refuses a sensitive variable's value here, as in every field of a cell, since
	// plan prints them all; host variables that are passed through are named in PassEnv
	// and read at run time.
	Env     []EnvVar `json:"env"`
	PassEnv []string `json:"pass_env"`
	Mounts  []Mount  `json:"mounts"`
	Network string   `json:"network,omitempty"` // e.g. "host"; empty: the engine's default
	Script  string   `json:"script"`            // run as `sh -c SCRIPT`
	// Npm, when set, is the target's npm block; Script is then NpmScript(Npm), the
	// steps the tool generated from it (with the target's own script, if any, as the
	// block's PostInstall).
	Npm     *Npm   `json:"npm,omitempty"`
	Collect string `json:"collect"` // absolute path inside the container to package
	// Artifact is the output file name: a plain file name, unique across the plan.
	Artifact string `json:"artifact"`
	// Format is "tar.gz" or "zip", from the artifact's name or the `format` attribute.
	Format  string        `json:"format"`
	Timeout time.Duration `json:"timeout"`
	// MaxSize bounds the bytes of file content packed into the artifact.
	MaxSize int64 `json:"max_size"`
	// WarnSize, when set, is the artifact file's size above which the run warns
	// (an AWS Lambda zip over 50 MB cannot be uploaded directly); 0: never.
	WarnSize int64 `json:"warn_size,omitempty"`
	// Retries is how often a transient engine error is retried; a script's own
	// non-zero exit is never retried.
	Retries int `json:"retries"`
	// LockFiles are paths relative to Workdir that record the installed dependency
	// tree (npm: package.json, package-lock.json): captured after a build into the lock
	// file, and put back before the script starts under `matrix run --locked`.
	LockFiles []string `json:"lock_files"`
	// CrossBuilt declares that the artifact is for another platform than any runtime
	// image this engine can run: it is built but not tested, and the manifest says so.
	CrossBuilt bool `json:"cross_built,omitempty"`
	// Libc and Glibc are what the runtime that loads the artifact offers: "glibc" or
	// "musl" (Npm.Libc, when set, says the same), and its glibc release ("2.34").
	// Every ELF file the artifact ships is checked against them and the cell's CPU
	// (elfcheck); empty: not checked.
	Libc  string `json:"libc,omitempty"`
	Glibc string `json:"glibc,omitempty"`
	// ELFIgnore are path.Match patterns of the artifact's paths without its prefix
	// (collect's base name first: "node_modules/...") whose files the ELF check skips (another platform's binaries that a package ships beside
	// the one it loads); a pattern that matches a directory skips all of it.
	ELFIgnore []string `json:"elf_ignore,omitempty"`

	// Test, when set, runs against the packed artifact in a fresh container.
	Test *Test `json:"test,omitempty"`
	// Tests, when the test block declares its own matrix, are its tests, one per
	// combination of the test's axes in the file's order (Test is then nil): the
	// artifact is built once and tested in each, and is good only if every test that
	// is not skipped passes.
	Tests []Test `json:"tests,omitempty"`
	// Metadata is free-form, recorded with the artifact in the manifest (what a
	// publisher needs, such as a Lambda layer's compatible_runtimes); it changes
	// nothing of the build.
	Metadata map[string]string `json:"metadata,omitempty"`

	// Skip, when not empty, is why the cell is not built: a skip block of its target
	// held. A skipped cell has only Target, Axes and Skip; runners record it and build
	// nothing.
	Skip string `json:"skipped,omitempty"`
}

// Axis is one matrix value of a cell. Value is a string, a float64 or a bool, as the
// file wrote it; String gives the form used in names and environment variables.
type Axis struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

// EnvVar is one environment variable of a container, kept in a stable order.
type EnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Mount is a bind mount from the host into a container.
type Mount struct {
	// Type is MountBind (Source is a host path) or MountCache (Source names a cache:
	// an engine volume that lives across runs, e.g. npm's download cache).
	Type     string `json:"type"`
	Source   string `json:"source"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"read_only"`
}

// Mount types.
const (
	MountBind  = "bind"
	MountCache = "cache"
)

// Test describes the check of a packed artifact in a clean runtime container.
type Test struct {
	// Axes are the test's own matrix values, for a test of Cell.Tests.
	Axes []Axis `json:"axes,omitempty"`
	// Skip, when not empty, is why this test of Cell.Tests does not run: a skip block
	// of the test held. A skipped test has only Axes and Skip.
	Skip     string        `json:"skipped,omitempty"`
	Image    string        `json:"image"`
	Platform string        `json:"platform,omitempty"`
	Workdir  string        `json:"workdir"` // the artifact is extracted here
	Env      []EnvVar      `json:"env"`
	Mounts   []Mount       `json:"mounts"`
	Network  string        `json:"network,omitempty"`
	Script   string        `json:"script"`
	Timeout  time.Duration `json:"timeout"`
}

// String gives the value as names, tables and environment variables show it: numbers
// without a trailing ".0" or exponent where possible, bools as true/false.
func (a Axis) String() string {
	return AxisString(a.Value)
}

// AxisString gives the form of an axis value used in names and environment variables.
func AxisString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// TestName names a test of Cell.Tests by its axes, e.g. "[node=22]"; "" for a test
// without axes.
func (t Test) TestName() string {
	if len(t.Axes) == 0 {
		return ""
	}
	return Cell{Axes: t.Axes}.Name()
}

// Name identifies the cell in logs and diagnostics, e.g.
// "sharp-lambda[sharp=0.34.5,node=22,arch=x64]".
func (c Cell) Name() string {
	if len(c.Axes) == 0 {
		return c.Target
	}
	var b strings.Builder
	b.WriteString(c.Target)
	b.WriteByte('[')
	for i, a := range c.Axes {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(a.Name)
		b.WriteByte('=')
		b.WriteString(a.String())
	}
	b.WriteByte(']')
	return b.String()
}

// AxisValue returns the string form of the cell's value for the axis (or include key)
// name, and whether the cell has it.
func (c Cell) AxisValue(name string) (string, bool) {
	for _, a := range c.Axes {
		if a.Name == name {
			return a.String(), true
		}
	}
	return "", false
}

// cellJSON is how a cell is written: its fields as Cell's tags say, with its name
// and ID first and its timeout as a Go duration string ("30m0s"), which people read more
// easily than nanoseconds. The outer Timeout hides Cell's own.
type cellJSON struct {
	Name string `json:"name"`
	ID   string `json:"id"`
	*cellFields
	Timeout string `json:"timeout"`
}

// cellFields is Cell without its methods, so that encoding it does not recurse.
type cellFields Cell

// MarshalJSON renders the cell with its name, the timeout as a duration string and
// empty lists as [] rather than null, so that output is stable and readable.
func (c Cell) MarshalJSON() ([]byte, error) {
	c.Axes, c.Env, c.PassEnv, c.Mounts, c.LockFiles = nonNil(c.Axes), nonNil(c.Env), nonNil(c.PassEnv), nonNil(c.Mounts), nonNil(c.LockFiles)
	return MarshalJSON(cellJSON{Name: c.Name(), ID: c.ID(), cellFields: (*cellFields)(&c), Timeout: c.Timeout.String()})
}

// UnmarshalJSON reads what MarshalJSON writes (the name and ID are derived, so they
// are ignored).
func (c *Cell) UnmarshalJSON(data []byte) error {
	var fields cellFields
	j := cellJSON{cellFields: &fields}
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	d, err := parseJSONDuration(j.Timeout)
	if err != nil {
		return err
	}
	*c = Cell(fields)
	c.Timeout = d
	return nil
}

// testJSON is how a test is written: Test's fields, the timeout as a duration string.
type testJSON struct {
	*testFields
	Timeout string `json:"timeout"`
}

// testFields is Test without its methods.
type testFields Test

// MarshalJSON renders the timeout as a duration string and empty lists as []. A
// skipped test has its axes and reason only: nothing else of it was evaluated, and
// zero values would only mislead ("image": "", "timeout": "0s").
func (t Test) MarshalJSON() ([]byte, error) {
	if t.Skip != "" {
		return MarshalJSON(struct {
			Axes []Axis `json:"axes,omitempty"`
			Skip string `json:"skipped"`
		}{t.Axes, t.Skip})
	}
	t.Env, t.Mounts = nonNil(t.Env), nonNil(t.Mounts)
	return MarshalJSON(testJSON{testFields: (*testFields)(&t), Timeout: t.Timeout.String()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (t *Test) UnmarshalJSON(data []byte) error {
	var fields testFields
	j := testJSON{testFields: &fields}
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	d, err := parseJSONDuration(j.Timeout)
	if err != nil {
		return err
	}
	*t = Test(fields)
	t.Timeout = d
	return nil
}

// MarshalJSON is json.Marshal without escaping <, > and &, which scripts are full of.
func MarshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func parseJSONDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("timeout: %w", err)
	}
	return d, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
