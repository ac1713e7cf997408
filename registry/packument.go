package registry

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Packument is a package's document on the registry: its published versions and,
// when Full, when each was published.
type Packument struct {
	Name     string
	Registry string // the registry it came from, without credentials
	// Full is true when the document is the full one: it has publish times (Time) and
	// the versions' libc. The abbreviated one has neither.
	Full     bool
	DistTags map[string]string
	Versions map[string]Manifest // by the version as published
	Time     map[string]time.Time
	// Skipped lists what of the document was left out, and why.
	Skipped []Skipped
}

// Manifest is what the registry says of one version.
type Manifest struct {
	Version    string
	Engines    map[string]string // empty when absent
	OS         []string
	CPU        []string
	Libc       []string // in the full document only
	Deprecated string   // the deprecation message; "" when not deprecated
	Integrity  string   // Subresource Integrity of the tarball, e.g. "sha512-..."
}

// Skipped is a part of a document that could not be used.
type Skipped struct {
	// Version is the key as the document writes it, shortened, or "" for a part that
	// is not a version. It may hold any character: quote it before printing it.
	Version string
	Reason  string
}

// ErrMalformed is the error for a registry document that is not a packument.
var ErrMalformed = errors.New("malformed registry document")

// decodePackument reads a packument as a stream of JSON tokens, so that only one
// version at a time is held as JSON, and takes only what it uses. Everything is
// checked: a version whose fields have the wrong types is kept with those fields empty
// or skipped, never trusted.
func decodePackument(r io.Reader, name string) (*Packument, error) {
	p := &Packument{
		Name:     name,
		DistTags: map[string]string{},
		Versions: map[string]Manifest{},
		Time:     map[string]time.Time{},
	}
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	sawVersions := false
	for dec.More() {
		key, err := objectKey(dec)
		if err != nil {
			return nil, err
		}
		if err := decodeField(dec, key, p); err != nil {
			return nil, err
		}
		sawVersions = sawVersions || key == "versions"
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, err
	}
	switch _, err := dec.Token(); {
	case err == nil:
		return nil, fmt.Errorf("%w: data after the document", ErrMalformed)
	case err != io.EOF:
		return nil, malformed(err)
	}
	if !sawVersions {
		return nil, fmt.Errorf("%w: no versions", ErrMalformed)
	}
	// Times of versions the document does not have are of no use.
	for v := range p.Time {
		if _, ok := p.Versions[v]; !ok {
			delete(p.Time, v)
		}
	}
	return p, nil
}

// decodeField reads the value of one top-level key of the document into p.
func decodeField(dec *json.Decoder, key string, p *Packument) error {
	switch key {
	case "name":
		var n any
		if err := dec.Decode(&n); err != nil {
			return malformed(err)
		}
		if s, ok := n.(string); !ok || s != p.Name {
			return fmt.Errorf("%w: it names package %q, not %q", ErrMalformed, clip(fmt.Sprint(n)), p.Name)
		}
	case "dist-tags":
		var tags map[string]any
		if err := dec.Decode(&tags); err != nil {
			return malformed(fmt.Errorf("dist-tags: %w", err))
		}
		for t, v := range tags {
			if s, ok := v.(string); ok {
				p.DistTags[t] = s
			}
		}
	case "time":
		return decodeTimes(dec, p)
	case "versions":
		return decodeVersions(dec, p)
	default:
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return malformed(err)
		}
	}
	return nil
}

// decodeTimes reads the full document's publish times; their presence marks it full.
func decodeTimes(dec *json.Decoder, p *Packument) error {
	var times map[string]any
	if err := dec.Decode(&times); err != nil {
		return malformed(fmt.Errorf("time: %w", err))
	}
	p.Full = true
	for v, t := range times {
		if v == "created" || v == "modified" || v == "unpublished" {
			continue
		}
		s, _ := t.(string)
		at, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			p.Skipped = append(p.Skipped, Skipped{Version: clip(v), Reason: "publish time is not an RFC 3339 time"})
			continue
		}
		p.Time[v] = at
	}
	return nil
}

func decodeVersions(dec *json.Decoder, p *Packument) error {
	if err := expectDelim(dec, '{'); err != nil {
		return fmt.Errorf("versions: %w", err)
	}
	for dec.More() {
		v, err := objectKey(dec)
		if err != nil {
			return err
		}
		var raw rawManifest
		if err := dec.Decode(&raw); err != nil {
			var typeErr *json.UnmarshalTypeError
			if !errors.As(err, &typeErr) {
				return malformed(fmt.Errorf("version %q: %w", clip(v), err))
			}
			p.Skipped = append(p.Skipped, Skipped{Version: clip(v), Reason: "not a JSON object"})
			continue
		}
		if reason := notAsPublished(v); reason != "" {
			p.Skipped = append(p.Skipped, Skipped{Version: clip(v), Reason: reason})
			continue
		}
		p.Versions[v] = raw.manifest(v)
	}
	return expectDelim(dec, '}')
}

// notAsPublished says why a version key is not one the registry publishes, or "" when
// it is. node-semver reads " 1.0.0\n" and "v1.0.0" as 1.0.0, but a key kept as written
// would carry the white space into cell names, the lock and the terminal, and would
// not be the version npm installs; the registry publishes each version in its
// canonical form.
func notAsPublished(v string) string {
	c, err := CanonicalVersion(v)
	switch {
	case err != nil:
		return "not a node-semver version"
	case c != v:
		return fmt.Sprintf("not a version as published: node-semver reads it as %q", clip(c))
	}
	return ""
}

// rawManifest holds the fields used, each still JSON: publishers wrote package.json
// by hand for years, so each field is converted on its own.
type rawManifest struct {
	Engines    json.RawMessage `json:"engines"`
	OS         json.RawMessage `json:"os"`
	CPU        json.RawMessage `json:"cpu"`
	Libc       json.RawMessage `json:"libc"`
	Deprecated json.RawMessage `json:"deprecated"`
	Dist       json.RawMessage `json:"dist"`
}

func (r rawManifest) manifest(version string) Manifest {
	m := Manifest{
		Version: version,
		Engines: map[string]string{},
		OS:      stringList(r.OS),
		CPU:     stringList(r.CPU),
		Libc:    stringList(r.Libc),
	}
	var engines map[string]any
	if json.Unmarshal(r.Engines, &engines) == nil {
		for k, v := range engines {
			if s, ok := v.(string); ok {
				m.Engines[k] = s
			}
		}
	}
	var dep any
	if len(r.Deprecated) > 0 && json.Unmarshal(r.Deprecated, &dep) == nil {
		switch d := dep.(type) {
		case string:
			m.Deprecated = d
		case bool:
			if d {
				m.Deprecated = "deprecated"
			}
		case nil:
		default:
			// npm treats any other value as true; so do we, to stay on the safe side.
			m.Deprecated = "deprecated"
		}
	}
	var dist struct {
		Integrity json.RawMessage `json:"integrity"`
		Shasum    json.RawMessage `json:"shasum"`
	}
	var shasum string
	_ = json.Unmarshal(r.Dist, &dist)
	_ = json.Unmarshal(dist.Integrity, &m.Integrity)
	_ = json.Unmarshal(dist.Shasum, &shasum)
	if m.Integrity == "" {
		// Versions published before npm 5 have only a SHA-1; ssri writes it so.
		if sum, err := hex.DecodeString(shasum); err == nil && len(sum) == 20 {
			m.Integrity = "sha1-" + base64.StdEncoding.EncodeToString(sum)
		}
	}
	return m
}

// stringList reads a list of strings, or a single string as npm accepts it; anything
// else is empty. The result is never nil.
func stringList(raw json.RawMessage) []string {
	out := []string{}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		if one != "" {
			out = append(out, one)
		}
		return out
	}
	var list []any
	if json.Unmarshal(raw, &list) == nil {
		for _, v := range list {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return malformed(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("%w: want %q at offset %d, got %s", ErrMalformed, want, dec.InputOffset(), clip(fmt.Sprint(tok)))
	}
	return nil
}

func objectKey(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", malformed(err)
	}
	s, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("%w: want a key at offset %d", ErrMalformed, dec.InputOffset())
	}
	return s, nil
}

// malformed marks a decoding error as the document's fault, unless the error came
// from reading the response (the connection, the size limit): those stay as they are.
func malformed(err error) error {
	var re *readError
	if errors.As(err, &re) || errors.Is(err, ErrTooLarge) {
		return err
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: it ends early", ErrMalformed)
	}
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return fmt.Errorf("%w: %v at offset %d", ErrMalformed, err, syntax.Offset)
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}

// clip shortens text from the registry before it goes into a message.
func clip(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
