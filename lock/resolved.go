package lock

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Function names of the registry calls a lock pins.
const (
	FuncVersions = "npm_versions"
	FuncPackage  = "npm_package"
)

// Resolution is one registry call of the matrix file and its answer. Call is the
// call as the matrix file would write it with its arguments' values, e.g.
// `npm_versions("sharp", ">=0.33.0", {per = "minor"})`: the key a command looks the
// call up by. Nothing in it comes from the registry's address or credentials.
type Resolution struct {
	Call      string    `json:"call"`
	Function  string    `json:"function"` // FuncVersions or FuncPackage
	Arguments Arguments `json:"arguments"`
	// Versions is npm_versions' answer, ascending.
	Versions []string `json:"versions,omitempty"`
	// Package is npm_package's answer.
	Package *Package `json:"package,omitempty"`
	// ResolvedAt is when the registry gave this answer (UTC, seconds): kept while the
	// answer stays the same, so that re-resolving an unchanged call changes no byte.
	ResolvedAt time.Time `json:"resolved_at"`
}

// Arguments are a call's arguments; options only when one differs from its default.
type Arguments struct {
	Package string          `json:"package"`
	Range   string          `json:"range,omitempty"`   // npm_versions
	Options *VersionOptions `json:"options,omitempty"` // npm_versions
	Version string          `json:"version,omitempty"` // npm_package
}

// VersionOptions are npm_versions' options; defaults are left out.
type VersionOptions struct {
	Per        string `json:"per,omitempty"`
	Last       int    `json:"last,omitempty"`
	Prerelease bool   `json:"prerelease,omitempty"`
	Deprecated bool   `json:"deprecated,omitempty"`
	MinAge     string `json:"min_age,omitempty"` // a Go duration, e.g. "72h"
}

// Package is what npm_package answered for one version.
type Package struct {
	Version    string            `json:"version"`
	Engines    map[string]string `json:"engines"`
	OS         []string          `json:"os"`
	CPU        []string          `json:"cpu"`
	Libc       []string          `json:"libc"`
	Deprecated string            `json:"deprecated"`
	Integrity  string            `json:"integrity"`
	Published  time.Time         `json:"published,omitzero"`
}

// SameAnswer reports whether two resolutions answered alike, whenever they did.
func SameAnswer(a, b Resolution) bool {
	ja, erra := json.Marshal(answer(a))
	jb, errb := json.Marshal(answer(b))
	return erra == nil && errb == nil && bytes.Equal(ja, jb)
}

func answer(r Resolution) any {
	return struct {
		Function string
		Args     Arguments
		Versions []string
		Package  *Package
	}{r.Function, r.Arguments, r.Versions, r.Package}
}

// AddResolved records resolutions and keeps the entries of other calls: what an
// ordinary command does with the calls it resolved for the first time.
func (f *File) AddResolved(rs []Resolution) {
	byCall := map[string]Resolution{}
	for _, r := range f.Resolved {
		byCall[r.Call] = r
	}
	f.Resolved = merge(byCall, rs)
}

// SetResolved makes rs the whole resolved section: `matrix update` pins exactly the
// calls the file makes, and drops the others.
func (f *File) SetResolved(rs []Resolution) {
	old := map[string]Resolution{}
	for _, r := range f.Resolved {
		old[r.Call] = r
	}
	byCall := map[string]Resolution{}
	for _, r := range rs {
		if o, ok := old[r.Call]; ok {
			byCall[r.Call] = o
		}
	}
	f.Resolved = merge(byCall, rs)
}

// merge sets each of rs in byCall, where an unchanged answer keeps its old time, and
// returns the entries sorted by call.
func merge(byCall map[string]Resolution, rs []Resolution) []Resolution {
	for _, r := range rs {
		r.ResolvedAt = r.ResolvedAt.UTC().Truncate(time.Second)
		if old, ok := byCall[r.Call]; ok && SameAnswer(old, r) {
			r.ResolvedAt = old.ResolvedAt
		}
		byCall[r.Call] = r
	}
	out := make([]Resolution, 0, len(byCall))
	for _, r := range byCall {
		out = append(out, r)
	}
	return sortedResolutions(out)
}

func sortedResolutions(rs []Resolution) []Resolution {
	out := slices.Clone(rs)
	slices.SortStableFunc(out, func(a, b Resolution) int { return strings.Compare(a.Call, b.Call) })
	return out
}
