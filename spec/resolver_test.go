package spec

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/matrixbuild/matrix/registry"
)

// fakeResolver answers the registry functions from packuments in memory, with the
// registry package's own Select and Package, so that its answers and errors are those
// of the real client. "down" is a registry that cannot be reached and "unpinned" a call
// missing from the lock under --locked. It counts calls and records the context value
// ctxKey{} of each, to show which context reached it. It is safe for concurrent use.
type fakeResolver struct {
	mu    sync.Mutex
	calls []string
	ctxs  []any
}

type ctxKey struct{}

// fakeNow is the resolution time of the fake, for min_age.
var fakeNow = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

const fakeRegistry = "https://registry.test/"

var fakePackuments = map[string]*registry.Packument{
	"sharp": packument("sharp",
		version{"0.32.6", ">=14.15.0", "", "2023-09-18T10:00:00.123Z"},
		version{"0.33.0", "^18.17.0 || ^20.3.0 || >=21.0.0", "", "2023-11-29T10:00:00Z"},
		version{"0.33.5", "^18.17.0 || ^20.3.0 || >=21.0.0", "", "2024-08-16T10:00:00Z"},
		version{"0.34.0-rc.0", "^18.17.0 || ^20.3.0 || >=21.0.0", "", "2025-03-01T10:00:00Z"},
		version{"0.34.1", "^18.17.0 || ^20.3.0 || >=21.0.0", "", "2025-04-10T10:00:00Z"},
		version{"0.34.2", "^18.17.0 || ^20.3.0 || >=21.0.0", "broken install script", "2025-05-20T10:00:00Z"},
		version{"0.34.3", "^20.3.0 || >=21.0.0", "", "2025-05-30T10:00:00Z"},
	),
	// A package whose versions declare no engines, and one without publish times.
	"left-pad": packument("left-pad", version{"1.3.0", "", "", ""}),
}

// version is one published version: its engines.node ("": no engines, no os, cpu or
// libc either), deprecation message and publish time ("": none).
type version struct{ v, node, deprecated, published string }

func packument(name string, versions ...version) *registry.Packument {
	p := &registry.Packument{Name: name, Registry: fakeRegistry, Full: true,
		Versions: map[string]registry.Manifest{}, Time: map[string]time.Time{}}
	for _, v := range versions {
		m := registry.Manifest{Version: v.v, Deprecated: v.deprecated, Integrity: "sha512-" + v.v,
			Engines: map[string]string{}, OS: []string{}, CPU: []string{}, Libc: []string{}}
		if v.node != "" {
			m.Engines["node"] = v.node
			m.OS, m.CPU, m.Libc = []string{"linux"}, []string{"x64", "arm64"}, []string{"glibc"}
		}
		p.Versions[v.v] = m
		if v.published != "" {
			t, err := time.Parse(time.RFC3339, v.published)
			if err != nil {
				panic(err)
			}
			p.Time[v.v] = t
		}
	}
	return p
}

func (r *fakeResolver) record(ctx context.Context, call string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call)
	r.ctxs = append(r.ctxs, ctx.Value(ctxKey{}))
}

func (r *fakeResolver) packument(ctx context.Context, name string) (*registry.Packument, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch name {
	case "down":
		return nil, &registry.FetchError{Package: name, URL: fakeRegistry + name, Attempts: 3, Err: errors.New("connection refused")}
	case "unpinned":
		return nil, fmt.Errorf("the call is not in matrix.lock.json and --locked forbids resolving it")
	}
	p, ok := fakePackuments[name]
	if !ok {
		return nil, &registry.NotFoundError{Package: name, Registry: fakeRegistry}
	}
	return p, nil
}

func (r *fakeResolver) Versions(ctx context.Context, pkg, rng string, opts registry.Options) ([]string, error) {
	r.record(ctx, fmt.Sprintf("npm_versions(%q, %q, %+v)", pkg, rng, opts))
	p, err := r.packument(ctx, pkg)
	if err != nil {
		return nil, err
	}
	return registry.Select(p, rng, opts, fakeNow)
}

func (r *fakeResolver) Package(ctx context.Context, pkg, version string) (registry.PackageInfo, error) {
	r.record(ctx, fmt.Sprintf("npm_package(%q, %q)", pkg, version))
	p, err := r.packument(ctx, pkg)
	if err != nil {
		return registry.PackageInfo{}, err
	}
	return registry.Package(p, version)
}

func (r *fakeResolver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}
