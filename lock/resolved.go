package lock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
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

// Resolutions is the resolved section. It is read one entry and one field at a time,
// so that a value of the wrong type is an error that names the entry, its call and
// the field, in words: "resolved entry 3 (npm_versions(...)): versions[1]: a number,
// want a string".
type Resolutions []Resolution

// UnmarshalJSON reads the section; null is an empty one. Keys it does not know are
// ignored, as in the rest of the file.
func (rs *Resolutions) UnmarshalJSON(data []byte) error {
	if kind(data) == "null" {
		*rs = nil
		return nil
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		return fmt.Errorf("resolved: %s, want a list of entries", kind(data))
	}
	out := make(Resolutions, 0, len(raws))
	for i, raw := range raws {
		r, err := decodeResolution(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", EntryName(i+1, r.Call), err)
		}
		out = append(out, r)
	}
	*rs = out
	return nil
}

// decodeResolution reads one entry; on an error, what was read before it (the call
// first, to name the entry).
func decodeResolution(raw json.RawMessage) (Resolution, error) {
	var r Resolution
	m, err := members(raw, "")
	if err != nil {
		return r, err
	}
	if err := decodeString(m["call"], "call", &r.Call); err != nil {
		return r, err
	}
	if err := decodeString(m["function"], "function", &r.Function); err != nil {
		return r, err
	}
	if r.Arguments, err = decodeArguments(m["arguments"]); err != nil {
		return r, err
	}
	if r.Versions, err = decodeStrings(m["versions"], "versions"); err != nil {
		return r, err
	}
	if r.Package, err = decodePackage(m["package"]); err != nil {
		return r, err
	}
	if err := decodeTime(m["resolved_at"], "resolved_at", &r.ResolvedAt); err != nil {
		return r, err
	}
	return r, nil
}

func decodeArguments(raw json.RawMessage) (Arguments, error) {
	var a Arguments
	m, err := members(raw, "arguments")
	if err != nil || m == nil {
		return a, err
	}
	for name, dst := range map[string]*string{"package": &a.Package, "range": &a.Range, "version": &a.Version} {
		if err := decodeString(m[name], "arguments."+name, dst); err != nil {
			return a, err
		}
	}
	o, err := members(m["options"], "arguments.options")
	if err != nil || o == nil {
		return a, err
	}
	a.Options = &VersionOptions{}
	if err := decodeString(o["per"], "arguments.options.per", &a.Options.Per); err != nil {
		return a, err
	}
	if err := decodeInt(o["last"], "arguments.options.last", &a.Options.Last); err != nil {
		return a, err
	}
	if err := decodeBool(o["prerelease"], "arguments.options.prerelease", &a.Options.Prerelease); err != nil {
		return a, err
	}
	if err := decodeBool(o["deprecated"], "arguments.options.deprecated", &a.Options.Deprecated); err != nil {
		return a, err
	}
	if err := decodeString(o["min_age"], "arguments.options.min_age", &a.Options.MinAge); err != nil {
		return a, err
	}
	return a, nil
}

func decodePackage(raw json.RawMessage) (*Package, error) {
	m, err := members(raw, "package")
	if err != nil || m == nil {
		return nil, err
	}
	p := &Package{}
	for name, dst := range map[string]*string{"version": &p.Version, "deprecated": &p.Deprecated, "integrity": &p.Integrity} {
		if err := decodeString(m[name], "package."+name, dst); err != nil {
			return nil, err
		}
	}
	if p.Engines, err = decodeStringMap(m["engines"], "package.engines"); err != nil {
		return nil, err
	}
	for name, dst := range map[string]*[]string{"os": &p.OS, "cpu": &p.CPU, "libc": &p.Libc} {
		if *dst, err = decodeStrings(m[name], "package."+name); err != nil {
			return nil, err
		}
	}
	if err := decodeTime(m["published"], "package.published", &p.Published); err != nil {
		return nil, err
	}
	return p, nil
}

// members reads an object's members; absent or null, none (nil). name is the field's
// path for the error, "" for an entry.
func members(raw json.RawMessage, name string) (map[string]json.RawMessage, error) {
	if raw == nil || kind(raw) == "null" {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, typeError(name, raw, "an object")
	}
	return m, nil
}

func decodeString(raw json.RawMessage, name string, dst *string) error {
	if raw != nil && json.Unmarshal(raw, dst) != nil {
		return typeError(name, raw, "a string")
	}
	return nil
}

func decodeBool(raw json.RawMessage, name string, dst *bool) error {
	if raw != nil && json.Unmarshal(raw, dst) != nil {
		return typeError(name, raw, "true or false")
	}
	return nil
}

func decodeInt(raw json.RawMessage, name string, dst *int) error {
	if raw == nil || json.Unmarshal(raw, dst) == nil {
		return nil
	}
	if kind(raw) == "a number" {
		return fmt.Errorf("%s: %s is not a whole number", name, clipText(string(raw)))
	}
	return typeError(name, raw, "a whole number")
}

// decodeTime reads an RFC 3339 time as encoding/json writes time.Time.
func decodeTime(raw json.RawMessage, name string, dst *time.Time) error {
	var s string
	if raw == nil || kind(raw) == "null" {
		return nil
	}
	if json.Unmarshal(raw, &s) != nil {
		return typeError(name, raw, "an RFC 3339 time")
	}
	if dst.UnmarshalText([]byte(s)) != nil {
		return fmt.Errorf("%s: %q is not an RFC 3339 time", name, clipText(s))
	}
	return nil
}

// decodeStrings reads a list of strings; absent or null, nil.
func decodeStrings(raw json.RawMessage, name string) ([]string, error) {
	if raw == nil || kind(raw) == "null" {
		return nil, nil
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil, typeError(name, raw, "a list of strings")
	}
	out := make([]string, len(items))
	for i, item := range items {
		if err := decodeString(item, fmt.Sprintf("%s[%d]", name, i), &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// decodeStringMap reads an object of strings; absent or null, nil.
func decodeStringMap(raw json.RawMessage, name string) (map[string]string, error) {
	if raw == nil || kind(raw) == "null" {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil, typeError(name, raw, "an object of strings")
	}
	out := make(map[string]string, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		var s string
		if err := decodeString(m[k], name+memberName(k), &s); err != nil {
			return nil, err
		}
		out[k] = s
	}
	return out, nil
}

// memberName is ".key" for a key of letters, digits, "_" and "-"; `["key"]` otherwise.
func memberName(k string) string {
	for _, r := range k {
		if !(r == '_' || r == '-' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return fmt.Sprintf("[%q]", clipText(k))
		}
	}
	if k == "" {
		return `[""]`
	}
	return "." + k
}

func typeError(name string, raw json.RawMessage, want string) error {
	if name == "" {
		return fmt.Errorf("%s, want %s", kind(raw), want)
	}
	return fmt.Errorf("%s: %s, want %s", name, kind(raw), want)
}

// kind names the type of a JSON value in words.
func kind(raw []byte) string {
	s := bytes.TrimLeft(raw, " \t\r\n")
	if len(s) == 0 {
		return "nothing"
	}
	switch s[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "a list"
	case 't', 'f':
		return "true or false"
	case 'n':
		return "null"
	}
	return "a number"
}

// EntryName names the nth entry (from 1) of the resolved section, and its call when
// it has one, for a message: "resolved entry 3 (npm_versions(...))". The call is as
// written when it is printable text, quoted otherwise, so that no control character
// from the file reaches the terminal.
func EntryName(n int, call string) string {
	if call == "" {
		return fmt.Sprintf("resolved entry %d", n)
	}
	return fmt.Sprintf("resolved entry %d (%s)", n, printable(call))
}

func printable(s string) string {
	s = clipText(s)
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// clipText shortens text from the lock file before it goes into a message.
func clipText(s string) string {
	const max = 120
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
