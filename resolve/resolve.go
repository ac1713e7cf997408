// Package resolve answers a matrix file's registry calls, npm_versions and
// npm_package, for one command: from their pins in matrix.lock.json where there are
// some, from the npm registry for the others; and it tells the command which calls it
// resolved, so that they are pinned in turn. It implements spec.Resolver.
//
// A Resolver is safe for concurrent use (cells are evaluated in parallel) and answers
// each call once: every later or concurrent caller of the same call shares the answer,
// an error included, for the command's length.
package resolve

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/matrixbuild/matrix/lock"
	"github.com/matrixbuild/matrix/registry"
)

// Mode says where a Resolver takes its answers from.
type Mode int

const (
	// Pinned answers pinned calls from the lock, never asking the registry for them, and
	// the others from the registry: every command's default.
	Pinned Mode = iota
	// Locked answers pinned calls only; any other is a *NotPinnedError (--locked).
	Locked
	// Fresh asks the registry for every call, whatever is pinned (update, outdated).
	Fresh
)

// Registry is where calls that are not pinned are answered: a *registry.Client,
// which fetches each document of a package at most once per command. full asks for
// the full document, which alone has publish times and libc; the abbreviated one,
// much smaller, has all that npm_versions without min_age reads. The Resolver asks
// for the full one where the package's pins say a call will need it (needsFull), so
// that a package costs one request.
type Registry interface {
	Packument(ctx context.Context, name string, full bool) (*registry.Packument, error)
}

// Options configure a Resolver.
type Options struct {
	Mode Mode
	// Now is the time of resolution: min_age counts from it and new pins record it.
	// Zero: the time New is called.
	Now time.Time
	// LockFile names the lock file in errors; "" for lock.FileName.
	LockFile string
}

// Resolver answers registry calls for one command.
type Resolver struct {
	reg      Registry
	mode     Mode
	now      time.Time
	lockFile string
	pins     map[string]lock.Resolution
	// full tells, for each package pinned, whether a pin needs its full document:
	// see needsFull.
	full map[string]bool

	mu    sync.Mutex
	calls map[string]*outcome
}

// outcome is one call's answer: the first caller makes it, the others wait on done.
type outcome struct {
	done    chan struct{}
	call    Call
	res     lock.Resolution
	fetched bool // the registry answered, not a pin
	err     error
}

// New returns a Resolver with the pins of a lock file's resolved section. Each pin is
// checked first, since the lock file is as hostile as the registry: its call must be
// the one its arguments give, and its answer one the registry could have given for
// that call (see checkPin). An error names the entry and its call. reg may be nil for
// a Locked resolver.
func New(reg Registry, pins []lock.Resolution, opts Options) (*Resolver, error) {
	r := &Resolver{reg: reg, mode: opts.Mode, now: opts.Now, lockFile: opts.LockFile, pins: map[string]lock.Resolution{}, full: map[string]bool{}, calls: map[string]*outcome{}}
	if r.lockFile == "" {
		r.lockFile = lock.FileName
	}
	if r.now.IsZero() {
		r.now = time.Now()
	}
	r.now = r.now.UTC().Truncate(time.Second)
	for i, p := range pins {
		if err := checkPin(p); err != nil {
			return nil, fmt.Errorf("%s: %w", lock.EntryName(i+1, p.Call), err)
		}
		if _, dup := r.pins[p.Call]; dup {
			return nil, fmt.Errorf("%s: the call is pinned twice", lock.EntryName(i+1, p.Call))
		}
		r.pins[p.Call] = p
	}
	// A package's pins tell what its calls need: the file made them last time.
	for _, p := range r.pins {
		c, _ := callOf(p) // checked above
		r.full[c.Package] = r.full[c.Package] || c.needsFull()
	}
	return r, nil
}

// needsFull tells whether a call's package is fetched in full. A call that reads what
// only the full document has (npm_package, min_age) needs it. So that a package costs
// one request, the pins declare the rest: a package with an npm_package or min_age
// pin, or with no pin at all (nothing says what its calls need), is fetched in full
// for every call; one whose pins are all npm_versions without min_age is fetched
// abbreviated, and a later call that needs the full document fetches it again.
func (r *Resolver) needsFull(c Call) bool {
	if c.needsFull() {
		return true
	}
	full, pinned := r.full[c.Package]
	return full || !pinned
}

// checkPin checks that a pin's answer is one the registry could have given for its
// call: an npm_package pin has the call's version (its build included), in the form
// the registry publishes it; an npm_versions pin has versions that registry.Select
// could have selected for the call's range and options (registry.CheckSelection).
// What only the registry's document tells (deprecations, publish times, engines) is
// taken as pinned.
func checkPin(p lock.Resolution) error {
	c, err := callOf(p)
	if err != nil {
		return err
	}
	if c.Function == lock.FuncPackage {
		if p.Package == nil || len(p.Versions) > 0 {
			return errors.New("an npm_package pin has a package and no versions")
		}
		want, err := registry.CanonicalVersion(c.Version)
		if err != nil {
			return fmt.Errorf("the call's version: %w", err)
		}
		if p.Package.Version != want {
			return fmt.Errorf("package.version %q is not the call's version %q", clip(p.Package.Version), want)
		}
		return nil
	}
	if p.Package != nil {
		return errors.New("an npm_versions pin has versions and no package")
	}
	if err := registry.CheckSelection(c.Range, c.Options, p.Versions); err != nil {
		return fmt.Errorf("versions: %w", err)
	}
	return nil
}

// NotPinnedError is a call that a Locked resolver found no pin for.
type NotPinnedError struct{ Call, LockFile string }

func (e *NotPinnedError) Error() string {
	return fmt.Sprintf("%s is not in %s and --locked forbids resolving it; run matrix update", e.Call, e.LockFile)
}

// Versions is npm_versions(pkg, rng, opts).
func (r *Resolver) Versions(ctx context.Context, pkg, rng string, opts registry.Options) ([]string, error) {
	res, err := r.Resolve(ctx, VersionsCall(pkg, rng, opts))
	if err != nil {
		return nil, err
	}
	return slices.Clone(res.Versions), nil
}

// Package is npm_package(pkg, version).
func (r *Resolver) Package(ctx context.Context, pkg, version string) (registry.PackageInfo, error) {
	res, err := r.Resolve(ctx, PackageCall(pkg, version))
	if err != nil {
		return registry.PackageInfo{}, err
	}
	return packageInfo(res.Package), nil
}

// Resolve answers a call as the mode says. The answer is shared: callers only read it.
func (r *Resolver) Resolve(ctx context.Context, c Call) (lock.Resolution, error) {
	key := c.String()
	r.mu.Lock()
	o, ok := r.calls[key]
	if !ok {
		o = &outcome{done: make(chan struct{}), call: c}
		r.calls[key] = o
		r.mu.Unlock()
		o.res, o.fetched, o.err = r.answer(ctx, c, key)
		close(o.done)
	} else {
		r.mu.Unlock()
	}
	select {
	case <-o.done:
		return o.res, o.err
	case <-ctx.Done():
		return lock.Resolution{}, ctx.Err()
	}
}

func (r *Resolver) answer(ctx context.Context, c Call, key string) (lock.Resolution, bool, error) {
	if p, ok := r.pins[key]; ok && r.mode != Fresh {
		return p, false, nil
	}
	if r.mode == Locked {
		return lock.Resolution{}, false, &NotPinnedError{Call: key, LockFile: r.lockFile}
	}
	res, err := r.fetch(ctx, c)
	return res, err == nil, err
}

// fetch answers a call from the registry.
func (r *Resolver) fetch(ctx context.Context, c Call) (lock.Resolution, error) {
	if r.reg == nil {
		return lock.Resolution{}, fmt.Errorf("%s: no registry to resolve it from", c)
	}
	p, err := r.reg.Packument(ctx, c.Package, r.needsFull(c))
	if err != nil {
		return lock.Resolution{}, err
	}
	res := lock.Resolution{Call: c.String(), Function: c.Function, Arguments: c.arguments(), ResolvedAt: r.now}
	switch c.Function {
	case lock.FuncVersions:
		res.Versions, err = registry.Select(p, c.Range, c.Options, r.now)
	case lock.FuncPackage:
		var info registry.PackageInfo
		info, err = registry.Package(p, c.Version)
		res.Package = lockPackage(info)
	default:
		err = fmt.Errorf("unknown registry function %q", c.Function)
	}
	if err != nil {
		return lock.Resolution{}, err
	}
	return res, nil
}

// Fetched returns the calls answered by the registry, sorted by call: under Pinned,
// the calls that were not pinned yet, for the command to pin.
func (r *Resolver) Fetched() []lock.Resolution {
	return r.answered(func(o *outcome) bool { return o.fetched })
}

// Used returns every call answered, from a pin or the registry, sorted by call.
func (r *Resolver) Used() []lock.Resolution {
	return r.answered(func(*outcome) bool { return true })
}

func (r *Resolver) answered(keep func(*outcome) bool) []lock.Resolution {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []lock.Resolution
	for _, key := range slices.Sorted(maps.Keys(r.calls)) {
		o := r.calls[key]
		select {
		case <-o.done:
			if o.err == nil && keep(o) {
				out = append(out, o.res)
			}
		default: // still being answered: not part of what the command used
		}
	}
	return out
}

func lockPackage(i registry.PackageInfo) *lock.Package {
	p := &lock.Package{
		Version:    i.Version,
		Engines:    map[string]string{},
		OS:         nonNil(i.OS),
		CPU:        nonNil(i.CPU),
		Libc:       nonNil(i.Libc),
		Deprecated: i.Deprecated,
		Integrity:  i.Integrity,
		Published:  i.Published.UTC(),
	}
	maps.Copy(p.Engines, i.Engines)
	return p
}

func packageInfo(p *lock.Package) registry.PackageInfo {
	i := registry.PackageInfo{
		Version:    p.Version,
		Engines:    map[string]string{},
		OS:         nonNil(p.OS),
		CPU:        nonNil(p.CPU),
		Libc:       nonNil(p.Libc),
		Deprecated: p.Deprecated,
		Integrity:  p.Integrity,
		Published:  p.Published,
	}
	maps.Copy(i.Engines, p.Engines)
	return i
}

func nonNil(s []string) []string {
	return append([]string{}, s...)
}
