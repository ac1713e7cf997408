package resolve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/matrixbuild/matrix/lock"
	"github.com/matrixbuild/matrix/registry"
	"github.com/matrixbuild/matrix/semver"
)

// Status is where a call of the matrix file stands against its pin.
type Status string

const (
	Current   Status = "current" // resolves today as pinned
	Changed   Status = "changed" // resolves otherwise today
	NotPinned Status = "new"     // not pinned yet
	Unused    Status = "unused"  // pinned, but the file no longer makes the call
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
	// Gone says why the call has no answer today (a version unpublished).
	Gone string `json:"gone,omitempty"`
}

// Added is a version a call gains.
type Added struct {
	Version   string    `json:"version"`
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

// Compare says, for each call that the pinned resolver answered, what fresh answers
// today, and lists the pins that pinned never used. Both resolvers should share one
// Registry, so that each package is fetched once. The result is sorted by call.
func Compare(ctx context.Context, pinned, fresh *Resolver) ([]Change, error) {
	pinned.mu.Lock()
	used := map[string]*outcome{}
	for key, o := range pinned.calls {
		used[key] = o
	}
	pinned.mu.Unlock()
	var out []Change
	for _, key := range slices.Sorted(maps.Keys(used)) {
		o := used[key]
		<-o.done
		switch {
		case o.err != nil:
			continue // the plan that made the call reported it
		case o.fetched:
			out = append(out, Change{Call: key, Status: NotPinned})
			continue
		}
		ch, err := fresh.compare(ctx, o.call, o.res)
		if err != nil {
			return nil, err
		}
		out = append(out, ch)
	}
	for _, key := range slices.Sorted(maps.Keys(pinned.pins)) {
		if _, ok := used[key]; !ok {
			out = append(out, Change{Call: key, Status: Unused})
		}
	}
	return out, nil
}

// compare re-resolves a pinned call and tells how today's answer differs.
func (r *Resolver) compare(ctx context.Context, c Call, pin lock.Resolution) (Change, error) {
	ch := Change{Call: pin.Call, Status: Current}
	today, err := r.Resolve(ctx, c)
	var noMatch *registry.NoMatchError
	var noVersion *registry.VersionError
	switch {
	case errors.As(err, &noMatch), errors.As(err, &noVersion):
		ch.Gone = err.Error()
	case err != nil:
		return ch, err
	}
	if c.Function == lock.FuncPackage {
		if err == nil {
			ch.Fields = packageFields(pin.Package, today.Package)
		}
	} else if ch.Added, ch.Removed, err = r.versionChanges(ctx, c, pin.Versions, today.Versions); err != nil {
		return ch, err
	}
	if ch.Gone != "" || len(ch.Added)+len(ch.Removed)+len(ch.Fields) > 0 {
		ch.Status = Changed
	}
	return ch, nil
}

func (r *Resolver) versionChanges(ctx context.Context, c Call, pinned, today []string) ([]Added, []Removed, error) {
	p, err := r.reg.Packument(ctx, c.Package)
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
			published = p.Published.UTC().Format(time.RFC3339)
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
