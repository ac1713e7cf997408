package resolve

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/matrixbuild/matrix/lock"
	"github.com/matrixbuild/matrix/registry"
	"github.com/matrixbuild/matrix/semver"
)

// Status is where a call stands against its pin: what matrix update does with it.
type Status string

const (
	Current   Status = "current" // today's plan makes the call, and it resolves as pinned: kept
	Changed   Status = "changed" // today's plan makes the call, and it resolves otherwise: replaced
	NotPinned Status = "new"     // today's plan makes the call, and it is not pinned: added
	Unused    Status = "unused"  // pinned, and today's plan does not make the call: dropped
)

// Change is what one call resolves to today, against its pin.
type Change struct {
	Call   string `json:"call"`
	Status Status `json:"status"`
	// Added and Removed are the versions an npm_versions call gains and loses.
	Added   []Added   `json:"added,omitempty"`
	Removed []Removed `json:"removed,omitempty"`
	// Fields are the fields of an npm_package answer that differ.
	Fields []Field `json:"fields,omitempty"`
}

// Added is a version a call gains.
type Added struct {
	Version string `json:"version"`
	// Published is zero when the package was fetched abbreviated, without publish times.
	Published time.Time `json:"published,omitzero"`
}

// Removed is a version a call loses, and why when the registry tells.
type Removed struct {
	Version string `json:"version"`
	Reason  string `json:"reason"`
}

// Field is a field of an npm_package answer, pinned and today.
type Field struct {
	Name   string `json:"field"`
	Pinned any    `json:"pinned"`
	Today  any    `json:"today"`
}

// Compare says what matrix update does to the pins of fresh (a Fresh resolver) given
// today, the calls today's plan made and their answers (fresh.Used() right after that
// plan): each of them is current, changed (and how) or not pinned yet; each pin not
// among them is unused, whether or not the plan with the pins made it, since update
// pins exactly today's calls. It uses fresh's Registry for publish times (where the
// package's document is the full one) and reasons, asking for the documents today's
// answers came from, which asks nothing new of a registry.Client that answered today's
// plan. The result is sorted by call.
func Compare(ctx context.Context, fresh *Resolver, today []lock.Resolution) ([]Change, error) {
	called := map[string]lock.Resolution{}
	for _, res := range today {
		called[res.Call] = res
	}
	var out []Change
	for _, key := range slices.Sorted(maps.Keys(called)) {
		res := called[key]
		pin, ok := fresh.pins[key]
		if !ok {
			out = append(out, Change{Call: key, Status: NotPinned})
			continue
		}
		ch, err := fresh.compare(ctx, pin, res)
		if err != nil {
			return nil, err
		}
		out = append(out, ch)
	}
	for _, key := range slices.Sorted(maps.Keys(fresh.pins)) {
		if _, ok := called[key]; !ok {
			out = append(out, Change{Call: key, Status: Unused})
		}
	}
	slices.SortFunc(out, func(a, b Change) int { return strings.Compare(a.Call, b.Call) })
	return out, nil
}

// compare tells how today's answer of a pinned call differs from the pin: changed
// exactly when lock.SameAnswer says so, which is what matrix update counts.
func (r *Resolver) compare(ctx context.Context, pin, today lock.Resolution) (Change, error) {
	ch := Change{Call: pin.Call, Status: Current}
	if lock.SameAnswer(pin, today) {
		return ch, nil
	}
	ch.Status = Changed
	if pin.Function == lock.FuncPackage {
		ch.Fields = packageFields(pin.Package, today.Package)
		return ch, nil
	}
	c, err := callOf(pin)
	if err != nil {
		return ch, err
	}
	ch.Added, ch.Removed, err = r.versionChanges(ctx, c, pin.Versions, today.Versions)
	return ch, err
}

func (r *Resolver) versionChanges(ctx context.Context, c Call, pinned, today []string) ([]Added, []Removed, error) {
	// The document today's answer came from: publish times only where it is full.
	p, err := r.reg.Packument(ctx, c.Package, r.needsFull(c))
	if err != nil {
		return nil, nil, err
	}
	var added []Added
	var removed []Removed
	for _, v := range today {
		if !slices.Contains(pinned, v) {
			added = append(added, Added{Version: v, Published: p.Time[v].UTC()})
		}
	}
	for _, v := range pinned {
		if !slices.Contains(today, v) {
			removed = append(removed, Removed{Version: v, Reason: whyRemoved(p, c, v, today)})
		}
	}
	return added, removed, nil
}

// whyRemoved says why a pinned version is no longer in the call's answer.
func whyRemoved(p *registry.Packument, c Call, v string, today []string) string {
	m, ok := p.Versions[v]
	if !ok {
		return "unpublished"
	}
	if m.Deprecated != "" && !c.Options.Deprecated {
		return "deprecated: " + clip(m.Deprecated)
	}
	sv, err := semver.Parse(v)
	if err != nil {
		return "no longer selected"
	}
	if rng, err := semver.ParseRange(c.Range); err == nil && !rng.Test(sv, c.Options.Prerelease) {
		return "out of the range"
	}
	for _, s := range slices.Backward(today) {
		if w, err := semver.Parse(s); err == nil && sameGroup(c.Options.Per, sv, w) && semver.Compare(w, sv) > 0 {
			return fmt.Sprintf("superseded by %s (per = %q)", s, c.Options.Per)
		}
	}
	if c.Options.Last > 0 {
		return fmt.Sprintf("no longer among the newest %d (last = %d)", c.Options.Last, c.Options.Last)
	}
	return "no longer selected"
}

func sameGroup(per string, a, b semver.Version) bool {
	switch per {
	case "major":
		return a.Major == b.Major
	case "minor":
		return a.Major == b.Major && a.Minor == b.Minor
	case "patch":
		return a.Major == b.Major && a.Minor == b.Minor && a.Patch == b.Patch
	}
	return false
}

// packageFields lists the fields of two npm_package answers that differ, in the order
// the answer has them.
func packageFields(pinned, today *lock.Package) []Field {
	fields := func(p *lock.Package) [][2]any {
		published := ""
		if !p.Published.IsZero() {
			published = p.Published.UTC().Format(time.RFC3339Nano)
		}
		return [][2]any{
			{"version", p.Version}, {"engines", p.Engines}, {"os", p.OS}, {"cpu", p.CPU},
			{"libc", p.Libc}, {"deprecated", p.Deprecated}, {"integrity", p.Integrity}, {"published", published},
		}
	}
	a, b := fields(pinned), fields(today)
	var out []Field
	for i := range a {
		ja, _ := json.Marshal(a[i][1])
		jb, _ := json.Marshal(b[i][1])
		if string(ja) != string(jb) {
			out = append(out, Field{Name: a[i][0].(string), Pinned: a[i][1], Today: b[i][1]})
		}
	}
	return out
}
