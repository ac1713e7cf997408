package resolve

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/internal/fakeregistry"
	"github.com/matrixbuild/matrix/lock"
	"github.com/matrixbuild/matrix/registry"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func client(t *testing.T, reg *fakeregistry.Registry) *registry.Client {
	t.Helper()
	c, err := registry.NewClient(registry.Config{Registry: reg.URL()}, registry.ClientOptions{Attempts: 2, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newResolver(t *testing.T, reg Registry, pins []lock.Resolution, mode Mode) *Resolver {
	t.Helper()
	r, err := New(reg, pins, Options{Mode: mode, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var minorsCall = VersionsCall("sharp", ">=0.33.0 <0.35.0", registry.Options{Per: "minor"})

// pinsFromRegistry resolves calls on a fresh fake registry, as an earlier command
// would have, and returns the pins it recorded.
func pinsFromRegistry(t *testing.T, calls ...Call) []lock.Resolution {
	t.Helper()
	r := newResolver(t, client(t, fakeregistry.New(t)), nil, Pinned)
	for _, c := range calls {
		if _, err := r.Resolve(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	return r.Fetched()
}

// TestNewCallsAreResolvedOnceAndReported: calls made concurrently by many cells cost
// one request per package, each call is answered once, and Fetched lists every call
// the registry answered, sorted, with the time of resolution.
func TestNewCallsAreResolvedOnceAndReported(t *testing.T) {
	fake := fakeregistry.New(t)
	r := newResolver(t, client(t, fake), nil, Pinned)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for range 50 {
		wg.Go(func() {
			vs, err := r.Versions(t.Context(), "sharp", ">=0.33.0 <0.35.0", registry.Options{Per: "minor"})
			if err != nil {
				errs <- err
				return
			}
			for _, v := range vs {
				if _, err := r.Package(t.Context(), "sharp", v); err != nil {
					errs <- err
				}
			}
			if _, err := r.Package(t.Context(), "@img/sharp-linux-x64", "0.34.5"); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := fmt.Sprint(fake.Requests()); got != "map[@img/sharp-linux-x64:1 sharp:1]" {
		t.Errorf("requests = %s, want one per package", got)
	}
	var calls []string
	for _, res := range r.Fetched() {
		calls = append(calls, res.Call)
		if !res.ResolvedAt.Equal(now) {
			t.Errorf("%s: resolved_at %v, want %v", res.Call, res.ResolvedAt, now)
		}
	}
	want := []string{
		`npm_package("@img/sharp-linux-x64", "0.34.5")`,
		`npm_package("sharp", "0.33.5")`,
		`npm_package("sharp", "0.34.5")`,
		`npm_versions("sharp", ">=0.33.0 <0.35.0", {per = "minor"})`,
	}
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("Fetched = %q, want %q", calls, want)
	}
	if len(r.Used()) != 4 {
		t.Errorf("Used = %d calls, want 4", len(r.Used()))
	}
}

// TestPinnedCallsNeverReachTheRegistry: with every call pinned, the answers are the
// ones the registry gave when they were pinned, and no request is made.
func TestPinnedCallsNeverReachTheRegistry(t *testing.T) {
	fresh := newResolver(t, client(t, fakeregistry.New(t)), nil, Fresh)
	pins := pinsFromRegistry(t, minorsCall, PackageCall("sharp", "0.34.5"))
	fake := fakeregistry.New(t)
	fake.Refuse("every call is pinned")
	for _, mode := range []Mode{Pinned, Locked} {
		r := newResolver(t, client(t, fake), pins, mode)
		vs, err := r.Versions(t.Context(), "sharp", ">=0.33.0 <0.35.0", registry.Options{Per: "minor"})
		if err != nil || fmt.Sprint(vs) != "[0.33.5 0.34.5]" {
			t.Errorf("mode %d: versions %v, %v", mode, vs, err)
		}
		got, err := r.Package(t.Context(), "sharp", "0.34.5")
		if err != nil {
			t.Fatal(err)
		}
		want, err := fresh.Package(t.Context(), "sharp", "0.34.5")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("the pinned answer\n%+v\ndiffers from the registry's\n%+v", got, want)
		}
		if len(r.Fetched()) != 0 || len(r.Used()) != 2 {
			t.Errorf("Fetched %v, Used %v", r.Fetched(), r.Used())
		}
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d requests", n)
	}
}

// TestLockedRefusesUnpinnedCalls: under Locked, a call not pinned is an error naming
// it, and the registry is not asked.
func TestLockedRefusesUnpinnedCalls(t *testing.T) {
	fake := fakeregistry.New(t)
	fake.Refuse("--locked")
	r := newResolver(t, client(t, fake), pinsFromRegistry(t, minorsCall), Locked)
	_, err := r.Package(t.Context(), "sharp", "0.34.5")
	var np *NotPinnedError
	if !errors.As(err, &np) {
		t.Fatalf("err = %v, want a NotPinnedError", err)
	}
	want := `npm_package("sharp", "0.34.5") is not in matrix.lock.json and --locked forbids resolving it; run matrix update`
	if err.Error() != want {
		t.Errorf("error:\n%s\nwant\n%s", err, want)
	}
}

// TestFreshIgnoresPins: update and outdated ask the registry whatever is pinned.
func TestFreshIgnoresPins(t *testing.T) {
	pins := pinsFromRegistry(t, minorsCall)
	pins[0].Versions = []string{"0.33.4"}
	fake := fakeregistry.New(t)
	r := newResolver(t, client(t, fake), pins, Fresh)
	vs, err := r.Versions(t.Context(), "sharp", ">=0.33.0 <0.35.0", registry.Options{Per: "minor"})
	if err != nil || fmt.Sprint(vs) != "[0.33.5 0.34.5]" {
		t.Errorf("versions %v, %v", vs, err)
	}
	if len(fake.Requests()) != 1 || len(r.Fetched()) != 1 {
		t.Errorf("requests %v, fetched %v", fake.Requests(), r.Fetched())
	}
}

// TestRegistryErrorsReachTheCaller: the registry's errors are the call's, each call
// answered once even when it fails.
func TestRegistryErrorsReachTheCaller(t *testing.T) {
	fake := fakeregistry.New(t)
	r := newResolver(t, client(t, fake), nil, Pinned)
	for range 3 {
		_, err := r.Versions(t.Context(), "shrap", "*", registry.Options{})
		if !errors.Is(err, registry.ErrNotFound) || !strings.Contains(err.Error(), `no package "shrap" on `+fake.URL()) {
			t.Errorf("err = %v", err)
		}
	}
	_, err := r.Versions(t.Context(), "sharp", ">=9", registry.Options{})
	var nm *registry.NoMatchError
	if !errors.As(err, &nm) {
		t.Errorf("err = %v, want a NoMatchError", err)
	}
	if len(r.Fetched()) != 0 || fake.Requests()["shrap"] != 1 {
		t.Errorf("fetched %v, requests %v", r.Fetched(), fake.Requests())
	}
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := newResolver(t, client(t, fake), nil, Pinned).Versions(cancelled, "uuid", "*", registry.Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestCallString(t *testing.T) {
	tests := []struct {
		call Call
		want string
	}{
		{VersionsCall("sharp", ">=0.33.0", registry.Options{}), `npm_versions("sharp", ">=0.33.0")`},
		{VersionsCall("sharp", "", registry.Options{Per: "minor"}), `npm_versions("sharp", "", {per = "minor"})`},
		{VersionsCall("@img/sharp-linux-x64", "^0.34", registry.Options{MinAge: 72 * time.Hour, Deprecated: true, Prerelease: true, Last: 3, Per: "patch"}),
			`npm_versions("@img/sharp-linux-x64", "^0.34", {per = "patch", last = 3, prerelease = true, deprecated = true, min_age = "72h"})`},
		{VersionsCall("a", "1", registry.Options{MinAge: 90 * time.Minute}), `npm_versions("a", "1", {min_age = "1h30m"})`},
		{VersionsCall("a", "1", registry.Options{MinAge: 10 * time.Minute}), `npm_versions("a", "1", {min_age = "10m"})`},
		{VersionsCall("a", "1", registry.Options{MinAge: 1500 * time.Millisecond}), `npm_versions("a", "1", {min_age = "1.5s"})`},
		{VersionsCall("a", "\"${x}\" %{y}\\\n\x01", registry.Options{}), `npm_versions("a", "\"$${x}\" %%{y}\\\n\u0001")`},
		{PackageCall("sharp", "0.34.5"), `npm_package("sharp", "0.34.5")`},
	}
	for _, tc := range tests {
		if got := tc.call.String(); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
		// What the lock records reads back as the same call.
		res := lock.Resolution{Call: tc.want, Function: tc.call.Function, Arguments: tc.call.arguments()}
		if back, err := callOf(res); err != nil || back != tc.call {
			t.Errorf("%s: read back as %+v, %v", tc.want, back, err)
		}
	}
}

// TestHostilePins: a lock entry that is not what its key says, or whose answer is not
// well formed, is refused before any call is answered.
func TestHostilePins(t *testing.T) {
	good := pinsFromRegistry(t, minorsCall, PackageCall("sharp", "0.34.5"))
	edit := func(i int, fn func(*lock.Resolution)) []lock.Resolution {
		pins := append([]lock.Resolution{}, good...)
		p := pins[i]
		p.Versions = append([]string{}, p.Versions...)
		if p.Package != nil {
			pkg := *p.Package
			p.Package = &pkg
		}
		if o := p.Arguments.Options; o != nil {
			p.Arguments.Options = &lock.VersionOptions{}
			*p.Arguments.Options = *o
		}
		fn(&p)
		pins[i] = p
		return pins
	}
	pkg, vers := 0, 1 // sorted by call
	tests := []struct {
		name string
		pins []lock.Resolution
		want string
	}{
		{"call of other arguments", edit(vers, func(p *lock.Resolution) { p.Arguments.Range = "*" }), `its arguments are those of npm_versions("sharp", "*", {per = "minor"})`},
		{"a version that is not one", edit(vers, func(p *lock.Resolution) { p.Versions[1] = "0.34.5; rm -rf /" }), `versions: "0.34.5; rm -rf /" is not a node-semver version`},
		{"descending", edit(vers, func(p *lock.Resolution) { p.Versions[0], p.Versions[1] = p.Versions[1], p.Versions[0] }), `"0.33.5" after "0.34.5": versions must be ascending, each once`},
		{"no versions", edit(vers, func(p *lock.Resolution) { p.Versions = nil }), "no versions"},
		{"package without answer", edit(pkg, func(p *lock.Resolution) { p.Package = nil }), "has a package and no versions"},
		{"unknown function", edit(pkg, func(p *lock.Resolution) { p.Function = "file" }), `unknown function "file"`},
		{"bad package name", edit(pkg, func(p *lock.Resolution) { p.Arguments.Package = "../etc" }), "not an npm package name"},
		{"bad min_age", edit(vers, func(p *lock.Resolution) { p.Arguments.Options.MinAge = "soon" }), "min_age"},
		{"twice", append(good, good[0]), "pinned twice"},
		// An answer that is not the call's: the plan would be silently wrong.
		{"another package version", edit(pkg, func(p *lock.Resolution) { p.Package.Version = "9.9.9" }),
			`resolved entry 1 (npm_package("sharp", "0.34.5")): package.version "9.9.9" is not the call's version "0.34.5"`},
		{"another build", edit(pkg, func(p *lock.Resolution) { p.Package.Version = "0.34.5+evil" }), `package.version "0.34.5+evil" is not the call's version "0.34.5"`},
		{"a version with a line break", edit(pkg, func(p *lock.Resolution) { p.Package.Version = "0.34.5\n" }), `package.version "0.34.5\n" is not the call's version "0.34.5"`},
		{"out of the range", edit(vers, func(p *lock.Resolution) { p.Versions[0] = "0.1.0" }),
			`resolved entry 2 (npm_versions("sharp", ">=0.33.0 <0.35.0", {per = "minor"})): versions: "0.1.0" is not in the range ">=0.33.0 <0.35.0"`},
		{"a prerelease", edit(vers, func(p *lock.Resolution) { p.Versions = append(p.Versions, "0.34.6-rc.1") }), `"0.34.6-rc.1" is a prerelease`},
		{"a build out of the range", edit(vers, func(p *lock.Resolution) { p.Versions = append(p.Versions, "0.35.0+build") }), `"0.35.0+build" is not in the range`},
		{"a version twice", edit(vers, func(p *lock.Resolution) { p.Versions = []string{"0.33.5", "0.33.5", "0.34.5"} }), `"0.33.5" after "0.33.5"`},
		{"two of one minor", edit(vers, func(p *lock.Resolution) { p.Versions = []string{"0.33.4", "0.33.5", "0.34.5"} }), `per = "minor" keeps one`},
		{"a version as not published", edit(vers, func(p *lock.Resolution) { p.Versions[1] = " 0.34.5" }), `" 0.34.5" is not a version as published`},
		{"options written otherwise", edit(pkg, func(p *lock.Resolution) { p.Arguments.Options = &lock.VersionOptions{} }), `arguments are not written as the call gives them`},
		{"a call not to print", edit(pkg, func(p *lock.Resolution) { p.Call = "npm_package(\"sharp\", \"0.34.5\")\r\x1b[2J" }),
			`resolved entry 1 ("npm_package(\"sharp\", \"0.34.5\")\r\x1b[2J"): its arguments are those of npm_package("sharp", "0.34.5")`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(nil, tc.pins, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	// Pins of calls that spell a version otherwise, or select with last and per, pass.
	pins := pinsFromRegistry(t, PackageCall("sharp", "v0.34.5"), PackageCall("sharp", " 0.33.5"),
		VersionsCall("sharp", ">=0.33.0", registry.Options{Per: "minor", Last: 2}),
		VersionsCall("sharp", "0.35.x", registry.Options{Prerelease: true}))
	if _, err := New(nil, pins, Options{}); err != nil {
		t.Error(err)
	}
	last := pins[3]
	last.Versions = append([]string{"0.33.5"}, last.Versions...)
	if _, err := New(nil, []lock.Resolution{last}, Options{}); err == nil || !strings.Contains(err.Error(), "last = 2 keeps at most 2") {
		t.Errorf("more than last: %v", err)
	}
}

// recorder is a Registry that records what each call asked of the one under it.
type recorder struct {
	Registry
	mu    sync.Mutex
	asked []string
}

func (r *recorder) Packument(ctx context.Context, name string, full bool) (*registry.Packument, error) {
	r.mu.Lock()
	r.asked = append(r.asked, fmt.Sprintf("%s full=%v", name, full))
	r.mu.Unlock()
	return r.Registry.Packument(ctx, name, full)
}

// documentOf names the document a request's Accept header asks for.
func documentOf(accept string) string {
	if strings.HasPrefix(accept, "application/vnd.npm.install-v1+json") {
		return "abbreviated"
	}
	if accept == "application/json" {
		return "full"
	}
	return "Accept: " + accept
}

// TestFullOrAbbreviated: a call asks for the full document where its answer needs it
// (npm_package, min_age) and where the package's pins say a call of the file will
// (an npm_package or min_age pin, or no pin at all); otherwise the abbreviated one.
// Each case costs one request. The fake registry answers every request with the full
// document, as the registry reachable here does: a full answer to an abbreviated
// request answers a later npm_package call too.
func TestFullOrAbbreviated(t *testing.T) {
	minAge := VersionsCall("sharp", ">=0.33.0 <0.35.0", registry.Options{Per: "minor", MinAge: 24 * time.Hour})
	pkgCall := PackageCall("sharp", "0.34.5")
	tests := []struct {
		name  string
		pins  []Call
		mode  Mode
		calls []Call
		asked []string // what the calls asked of the Registry
		want  string   // the document of the one request
	}{
		{"the root file's shape, pinned", []Call{minorsCall, pkgCall}, Fresh, []Call{minorsCall, pkgCall},
			[]string{"sharp full=true", "sharp full=true"}, "full"},
		{"the root file's shape, nothing pinned", nil, Pinned, []Call{minorsCall, pkgCall},
			[]string{"sharp full=true", "sharp full=true"}, "full"},
		{"npm_versions only", []Call{minorsCall}, Fresh, []Call{minorsCall},
			[]string{"sharp full=false"}, "abbreviated"},
		{"npm_versions only, a new npm_package call after it", []Call{minorsCall}, Fresh, []Call{minorsCall, pkgCall},
			[]string{"sharp full=false", "sharp full=true"}, "abbreviated"},
		{"a min_age pin", []Call{minAge}, Fresh, []Call{minAge},
			[]string{"sharp full=true"}, "full"},
		{"a min_age pin, an npm_versions call", []Call{minAge}, Pinned, []Call{minorsCall},
			[]string{"sharp full=true"}, "full"},
		{"another package pinned", []Call{VersionsCall("uuid", "*", registry.Options{})}, Pinned, []Call{minorsCall},
			[]string{"sharp full=true"}, "full"},
		{"an npm_package call, npm_versions pinned", []Call{minorsCall}, Pinned, []Call{minorsCall, pkgCall},
			[]string{"sharp full=true"}, "full"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pins := pinsFromRegistry(t, tc.pins...)
			fake := fakeregistry.New(t)
			rec := &recorder{Registry: client(t, fake)}
			r := newResolver(t, rec, pins, tc.mode)
			for _, c := range tc.calls {
				if _, err := r.Resolve(t.Context(), c); err != nil {
					t.Fatal(err)
				}
			}
			if !reflect.DeepEqual(rec.asked, tc.asked) {
				t.Errorf("asked %q, want %q", rec.asked, tc.asked)
			}
			var got []string
			for _, a := range fake.Headers("Accept") {
				got = append(got, documentOf(a))
			}
			if len(got) != 1 || got[0] != tc.want || fake.Requests()["sharp"] != 1 {
				t.Errorf("requests %v, for the documents %q, want one for the %s document", fake.Requests(), got, tc.want)
			}
		})
	}
}

// TestCompareAsksNothingNew: outdated's comparison of a package that today's answers
// asked abbreviated asks for the same document, and so makes no request.
func TestCompareAsksNothingNew(t *testing.T) {
	pins := pinsFromRegistry(t, minorsCall)
	fake := fakeregistry.New(t)
	fake.Publish("sharp", "0.34.5", "0.34.6", "2026-11-26T08:00:00.000Z")
	rec := &recorder{Registry: client(t, fake)}
	r := newResolver(t, rec, pins, Fresh)
	if _, err := r.Resolve(t.Context(), minorsCall); err != nil {
		t.Fatal(err)
	}
	changes, err := Compare(t.Context(), r, r.Used())
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || len(changes[0].Added) != 1 || changes[0].Added[0].Version != "0.34.6" {
		t.Fatalf("changes = %+v", changes)
	}
	want := []string{"sharp full=false", "sharp full=false"}
	if !reflect.DeepEqual(rec.asked, want) || fake.Requests()["sharp"] != 1 {
		t.Errorf("asked %q, requests %v", rec.asked, fake.Requests())
	}
}
