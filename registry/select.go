package registry

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/matrixbuild/matrix/semver"
)

// Options are npm_versions' options; the zero value is the default: stable versions,
// none deprecated, all of them.
type Options struct {
	// Per is "", "major", "minor" or "patch": keep only the newest version of each
	// major, major.minor or major.minor.patch (builds of one version).
	Per string
	// Last, when above 0, keeps the newest Last versions, after Per.
	Last int
	// Prerelease includes prereleases, and matches the range with node-semver's
	// includePrerelease.
	Prerelease bool
	// Deprecated includes deprecated versions.
	Deprecated bool
	// MinAge leaves out versions published less than MinAge before the resolution
	// time. It needs the full document.
	MinAge time.Duration
}

// ErrInvalidOption is the error for Options that mean nothing.
var ErrInvalidOption = errors.New("invalid npm_versions option")

// newestShown is how many versions an error lists.
const newestShown = 5

// Select returns the published versions of p that satisfy the node-semver range rng
// and the options, in ascending semver order, as the registry spells them. now is the
// resolution time for MinAge. A range that leaves nothing is a *NoMatchError.
func Select(p *Packument, rng string, opts Options, now time.Time) ([]string, error) {
	group, err := opts.check()
	if err != nil {
		return nil, err
	}
	if opts.MinAge > 0 && !p.Full {
		return nil, fmt.Errorf("min_age of package %q: %w", p.Name, ErrNotFull)
	}
	r, err := semver.ParseRange(rng)
	if err != nil {
		return nil, err
	}

	var kept, available []published
	excluded := map[string]int{}
	for _, v := range sortedVersions(p) {
		m := p.Versions[v.raw]
		reason := ""
		switch {
		case len(v.v.Prerelease) > 0 && !opts.Prerelease:
			reason = "prerelease (prerelease = true keeps them)"
		case m.Deprecated != "" && !opts.Deprecated:
			reason = "deprecated (deprecated = true keeps them)"
		case opts.MinAge > 0:
			if t, ok := p.Time[v.raw]; !ok {
				reason = "without a publish time, so of unknown age (min_age)"
			} else if now.Sub(t) < opts.MinAge {
				reason = fmt.Sprintf("published less than min_age = %s before %s", formatAge(opts.MinAge), now.UTC().Format(time.RFC3339))
			}
		}
		if reason == "" {
			available = append(available, v)
		}
		// A prerelease left out still counts as in the range if includePrerelease would
		// have it, so that the message can say what prerelease = true would give.
		if !r.Test(v.v, opts.Prerelease || len(v.v.Prerelease) > 0 && reason != "") {
			continue
		}
		if reason != "" {
			excluded[reason]++
			continue
		}
		kept = append(kept, v)
	}

	if group != nil {
		var newest []published
		for i, v := range kept {
			if i+1 == len(kept) || group(v.v) != group(kept[i+1].v) {
				newest = append(newest, v)
			}
		}
		kept = newest
	}
	if opts.Last > 0 && len(kept) > opts.Last {
		kept = kept[len(kept)-opts.Last:]
	}
	if len(kept) == 0 {
		e := &NoMatchError{Package: p.Name, Range: rng, Registry: p.Registry, Newest: newestOf(available)}
		for _, reason := range slices.Sorted(maps.Keys(excluded)) {
			e.Excluded = append(e.Excluded, Exclusion{Reason: reason, Count: excluded[reason]})
		}
		return nil, e
	}
	out := make([]string, len(kept))
	for i, v := range kept {
		out[i] = v.raw
	}
	return out, nil
}

// check checks the options and returns the grouping of Per (nil for none).
func (o Options) check() (func(semver.Version) [3]uint64, error) {
	group, err := groupBy(o.Per)
	if err != nil {
		return nil, err
	}
	if o.Last < 0 {
		return nil, fmt.Errorf("%w: last = %d: want a number above 0", ErrInvalidOption, o.Last)
	}
	if o.MinAge < 0 {
		return nil, fmt.Errorf("%w: min_age = %s: want a duration of 0 or more", ErrInvalidOption, formatAge(o.MinAge))
	}
	return group, nil
}

// formatAge writes min_age as a matrix file does: whole days as "60d", the rest as a
// Go duration without its zero units ("1d12h", "1h30m").
func formatAge(d time.Duration) string {
	if d < 0 {
		return d.String()
	}
	const day = 24 * time.Hour
	s := ""
	if d >= day {
		s = strconv.FormatInt(int64(d/day), 10) + "d"
	}
	if rest := d % day; rest > 0 || s == "" {
		r := rest.String()
		if strings.HasSuffix(r, "m0s") {
			r = strings.TrimSuffix(r, "0s")
		}
		if strings.HasSuffix(r, "h0m") {
			r = strings.TrimSuffix(r, "0m")
		}
		s += r
	}
	return s
}

// CheckSelection checks that versions could be Select's answer for rng and opts, as
// far as that can be told without the document (deprecations, publish times): at
// least one version; each as the registry publishes it (CanonicalVersion); in
// Select's order, each once; each in the range, matched as opts.Prerelease says; no
// prerelease unless opts.Prerelease; at most one of each opts.Per group; at most
// opts.Last. A pinned answer that fails is not the call's answer.
func CheckSelection(rng string, opts Options, versions []string) error {
	group, err := opts.check()
	if err != nil {
		return err
	}
	r, err := semver.ParseRange(rng)
	if err != nil {
		return err
	}
	if len(versions) == 0 {
		return errors.New("no versions")
	}
	if opts.Last > 0 && len(versions) > opts.Last {
		return fmt.Errorf("%d versions, and last = %d keeps at most %d", len(versions), opts.Last, opts.Last)
	}
	var prev published
	for i, s := range versions {
		if reason := notAsPublished(s); reason != "" {
			return fmt.Errorf("%q is %s", clip(s), reason)
		}
		v, _ := semver.Parse(s)
		cur := published{raw: s, v: v}
		if i > 0 && comparePublished(prev, cur) >= 0 {
			return fmt.Errorf("%q after %q: versions must be ascending, each once", s, prev.raw)
		}
		if len(v.Prerelease) > 0 && !opts.Prerelease {
			return fmt.Errorf("%q is a prerelease and prerelease = true is not set", s)
		}
		if !r.Test(v, opts.Prerelease) {
			return fmt.Errorf("%q is not in the range %q", s, rng)
		}
		if i > 0 && group != nil && group(prev.v) == group(v) {
			return fmt.Errorf("%q and %q are of one %s, and per = %q keeps one of each", prev.raw, s, opts.Per, opts.Per)
		}
		prev = cur
	}
	return nil
}

func groupBy(per string) (func(semver.Version) [3]uint64, error) {
	switch per {
	case "":
		return nil, nil
	case "major":
		return func(v semver.Version) [3]uint64 { return [3]uint64{v.Major} }, nil
	case "minor":
		return func(v semver.Version) [3]uint64 { return [3]uint64{v.Major, v.Minor} }, nil
	case "patch":
		return func(v semver.Version) [3]uint64 { return [3]uint64{v.Major, v.Minor, v.Patch} }, nil
	}
	return nil, fmt.Errorf("%w: per = %q: want \"major\", \"minor\" or \"patch\"", ErrInvalidOption, per)
}

// published is a version of the packument, parsed.
type published struct {
	raw string
	v   semver.Version
}

// sortedVersions parses p's versions into ascending order; versions of equal
// precedence (they differ in build metadata) in the order of their spelling. A version
// that does not parse was left out when the document was read.
func sortedVersions(p *Packument) []published {
	out := make([]published, 0, len(p.Versions))
	for raw := range p.Versions {
		if v, err := semver.Parse(raw); err == nil {
			out = append(out, published{raw: raw, v: v})
		}
	}
	slices.SortFunc(out, comparePublished)
	return out
}

// comparePublished is Select's order: semver precedence, then the spelling.
func comparePublished(a, b published) int {
	if c := semver.Compare(a.v, b.v); c != 0 {
		return c
	}
	return strings.Compare(a.raw, b.raw)
}

// CanonicalVersion is the version s as the registry publishes it: node-semver's
// version (no white space, no leading "v") and, when s has build metadata, "+" and
// the build. s must be a version node-semver reads.
func CanonicalVersion(s string) (string, error) {
	v, err := semver.Parse(s)
	if err != nil {
		return "", err
	}
	c := v.String()
	if len(v.Build) > 0 {
		c += "+" + strings.Join(v.Build, ".")
	}
	return c, nil
}

// newestOf lists the newest versions of an ascending list, newest first.
func newestOf(vs []published) []string {
	var out []string
	for i := len(vs) - 1; i >= 0 && len(out) < newestShown; i-- {
		out = append(out, vs[i].raw)
	}
	return out
}

// PackageInfo is npm_package's answer: what the registry says of one version.
type PackageInfo struct {
	Version    string
	Engines    map[string]string // empty when absent
	OS         []string          // empty when absent
	CPU        []string
	Libc       []string
	Deprecated string    // "" when not deprecated
	Integrity  string    // e.g. "sha512-..."
	Published  time.Time // zero when the registry gives no time
}

// Package returns what p says of one version. version is as published, or any
// spelling node-semver reads as it ("v1.2.3"). It needs the full document.
func Package(p *Packument, version string) (PackageInfo, error) {
	if !p.Full {
		return PackageInfo{}, fmt.Errorf("npm_package of %q: %w", p.Name, ErrNotFull)
	}
	key := version
	m, ok := p.Versions[key]
	if !ok {
		if c, err := CanonicalVersion(version); err == nil {
			key = c
			m, ok = p.Versions[key]
		}
	}
	if !ok {
		var stable []published
		for _, v := range sortedVersions(p) {
			if len(v.v.Prerelease) == 0 {
				stable = append(stable, v)
			}
		}
		return PackageInfo{}, &VersionError{Package: p.Name, Version: version, Newest: newestOf(stable)}
	}
	return PackageInfo{
		Version:    m.Version,
		Engines:    maps.Clone(m.Engines),
		OS:         slices.Clone(m.OS),
		CPU:        slices.Clone(m.CPU),
		Libc:       slices.Clone(m.Libc),
		Deprecated: m.Deprecated,
		Integrity:  m.Integrity,
		Published:  p.Time[key],
	}, nil
}
