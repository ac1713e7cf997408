package semver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The differential test: node-semver itself (the npm semver package, run by the
// host's node) answers every case, and every answer of this package must equal
// it. scripts/test.sh installs the package and sets MATRIX_NODE_SEMVER to the
// directory holding its node_modules; with MATRIX_REQUIRE_NODE=1, as there, a
// missing node or package fails the test instead of skipping it.

// cases are the questions oracle.js answers.
type cases struct {
	Versions   []string    `json:"versions"`   // semver.parse
	Ranges     []string    `json:"ranges"`     // semver.validRange, without and with includePrerelease
	Satisfies  [][2]string `json:"satisfies"`  // semver.satisfies(version, range), both ways
	Intersects [][2]string `json:"intersects"` // semver.intersects(a, b), both ways
	Compare    [][2]string `json:"compare"`    // semver.compare and compareBuild
	Sorts      [][]string  `json:"sorts"`      // semver.sort
}

// answers are oracle.js's answers, in the order of the cases; null (nil) is
// an invalid version or range, or an exception.
type answers struct {
	Semver     string       `json:"semver"`
	Node       string       `json:"node"`
	Versions   []*parsed    `json:"versions"`
	Ranges     [][2]*string `json:"ranges"`
	Satisfies  [][2]bool    `json:"satisfies"`
	Intersects [][2]*bool   `json:"intersects"`
	Compare    [][2]*int    `json:"compare"`
	Sorts      [][]string   `json:"sorts"`
}

type parsed struct {
	Version    string   `json:"version"`
	Major      uint64   `json:"major"`
	Minor      uint64   `json:"minor"`
	Patch      uint64   `json:"patch"`
	Prerelease []string `json:"prerelease"`
	Build      []string `json:"build"`
}

func TestNodeSemver(t *testing.T) {
	dir := nodeSemver(t)
	c := allCases(t)
	want := runOracle(t, dir, c)
	t.Logf("node %s, semver %s: %d versions, %d ranges, %d satisfies, %d intersects, %d compare, %d sort cases (satisfies, validRange and intersects each without and with includePrerelease)",
		want.Node, want.Semver, len(c.Versions), len(c.Ranges), len(c.Satisfies), len(c.Intersects), len(c.Compare), len(c.Sorts))

	// Each string is parsed once; nil is invalid.
	ranges, versions := map[string]*Range{}, map[string]*Version{}
	for _, s := range c.Ranges {
		if r, err := ParseRange(s); err == nil {
			ranges[s] = &r
		}
	}
	for _, s := range c.Versions {
		if v, err := Parse(s); err == nil {
			versions[s] = &v
		}
	}

	var diffs []string
	differ := func(format string, args ...any) { diffs = append(diffs, fmt.Sprintf(format, args...)) }
	for i, s := range c.Versions {
		if got := ourParse(s); !equalParsed(got, want.Versions[i]) {
			differ("parse(%q): node %s, we %s", s, show(want.Versions[i]), show(got))
		}
	}
	for i, s := range c.Ranges {
		for p, includePrerelease := range []bool{false, true} {
			if got := ourValidRange(ranges[s], includePrerelease); !equalPtr(got, want.Ranges[i][p]) {
				differ("validRange(%q, includePrerelease=%v): node %s, we %s", s, includePrerelease, show(want.Ranges[i][p]), show(got))
			}
		}
	}
	for i, rv := range c.Satisfies {
		for p, includePrerelease := range []bool{false, true} {
			// semver.satisfies is false for an invalid range or version.
			r, v := ranges[rv[0]], versions[rv[1]]
			if got := r != nil && v != nil && r.Test(*v, includePrerelease); got != want.Satisfies[i][p] {
				differ("satisfies(%q, %q, includePrerelease=%v): node %v, we %v", rv[1], rv[0], includePrerelease, want.Satisfies[i][p], got)
			}
		}
	}
	for i, ab := range c.Intersects {
		for p, includePrerelease := range []bool{false, true} {
			if got := ourIntersects(ranges[ab[0]], ranges[ab[1]], includePrerelease); !equalPtr(got, want.Intersects[i][p]) {
				differ("intersects(%q, %q, includePrerelease=%v): node %s, we %s", ab[0], ab[1], includePrerelease, show(want.Intersects[i][p]), show(got))
			}
		}
	}
	for i, ab := range c.Compare {
		for p, name := range []string{"compare", "compareBuild"} {
			if got := ourCompare(versions[ab[0]], versions[ab[1]])[p]; !equalPtr(got, want.Compare[i][p]) {
				differ("%s(%q, %q): node %s, we %s", name, ab[0], ab[1], show(want.Compare[i][p]), show(got))
			}
		}
	}
	for i, list := range c.Sorts {
		if got := ourSort(t, list); !slices.Equal(got, want.Sorts[i]) {
			differ("sort(%q):\nnode %q\nwe   %q", list, want.Sorts[i], got)
		}
	}
	for _, d := range diffs {
		t.Error(d)
	}
	if len(diffs) > 0 {
		t.Errorf("%d answers differ from node-semver's", len(diffs))
	}
}

// nodeSemver returns the directory whose node_modules holds the npm semver
// package, or skips (fails, with MATRIX_REQUIRE_NODE=1) the test without it.
func nodeSemver(t *testing.T) string {
	t.Helper()
	missing := func(reason string) {
		if os.Getenv("MATRIX_REQUIRE_NODE") == "1" {
			t.Fatalf("MATRIX_REQUIRE_NODE=1 and %s", reason)
		}
		t.Skipf("skipping the differential test: %s (scripts/test.sh installs it)", reason)
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing("no node on PATH")
	}
	dir := os.Getenv("MATRIX_NODE_SEMVER")
	if dir == "" {
		missing("MATRIX_NODE_SEMVER, the directory holding node_modules/semver, is not set")
	}
	if _, err := os.ReadFile(filepath.Join(dir, "node_modules", "semver", "package.json")); err != nil {
		missing(fmt.Sprintf("MATRIX_NODE_SEMVER=%s holds no npm semver package: %v", dir, err))
	}
	return dir
}

// allCases are node-semver's fixtures, the generated grid and, as versions and
// ranges to parse, every version and range the other cases use.
func allCases(t *testing.T) cases {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "node-semver-fixtures.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c cases
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatalf("testdata/node-semver-fixtures.json: %v", err)
	}
	g := grid()
	c.Versions = append(c.Versions, g.Versions...)
	c.Ranges = append(c.Ranges, g.Ranges...)
	c.Satisfies = append(c.Satisfies, g.Satisfies...)
	c.Intersects = append(c.Intersects, g.Intersects...)
	c.Compare = append(c.Compare, g.Compare...)
	c.Sorts = append(c.Sorts, g.Sorts...)
	for _, rv := range c.Satisfies {
		c.Ranges = append(c.Ranges, rv[0])
		c.Versions = append(c.Versions, rv[1])
	}
	for _, ab := range c.Intersects {
		c.Ranges = append(c.Ranges, ab[:]...)
	}
	for _, ab := range c.Compare {
		c.Versions = append(c.Versions, ab[:]...)
	}
	c.Versions = unique(c.Versions)
	c.Ranges = unique(c.Ranges)
	return c
}

func unique(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func runOracle(t *testing.T, dir string, c cases) answers {
	t.Helper()
	in, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	// Read here, not by node, so that go test's cache knows the result depends on it.
	script, err := os.ReadFile(filepath.Join("testdata", "oracle.js"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "-e", string(script))
	cmd.Env = append(os.Environ(), "MATRIX_NODE_SEMVER="+dir)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node testdata/oracle.js: %v\n%s", err, stderr.String())
	}
	var a answers
	if err := json.Unmarshal(out, &a); err != nil {
		t.Fatalf("node testdata/oracle.js answered: %v", err)
	}
	if len(a.Versions) != len(c.Versions) || len(a.Ranges) != len(c.Ranges) || len(a.Satisfies) != len(c.Satisfies) ||
		len(a.Intersects) != len(c.Intersects) || len(a.Compare) != len(c.Compare) || len(a.Sorts) != len(c.Sorts) {
		t.Fatal("node testdata/oracle.js answered a different number of cases than asked")
	}
	return a
}

func ourParse(s string) *parsed {
	v, err := Parse(s)
	if err != nil {
		return nil
	}
	return &parsed{Version: v.String(), Major: v.Major, Minor: v.Minor, Patch: v.Patch, Prerelease: v.Prerelease, Build: v.Build}
}

// ourValidRange is semver.validRange: the normalized range, "*" for any version.
func ourValidRange(r *Range, includePrerelease bool) *string {
	if r == nil || r.Err(includePrerelease) != nil {
		return nil
	}
	str := r.String() // the range as parsed without includePrerelease
	if includePrerelease {
		str = formatSets(r.sets[1])
	}
	if str == "" {
		str = "*"
	}
	return &str
}

// ourIntersects is semver.intersects; nil where that throws.
func ourIntersects(a, b *Range, includePrerelease bool) *bool {
	if a == nil || b == nil || a.Err(includePrerelease) != nil || b.Err(includePrerelease) != nil {
		return nil
	}
	x := intersects(*a, *b, includePrerelease)
	if !includePrerelease && x != Intersects(*a, *b) {
		panic("Intersects is not intersects without includePrerelease")
	}
	return &x
}

// ourCompare is semver.compare and compareBuild; nil where they throw.
func ourCompare(a, b *Version) [2]*int {
	if a == nil || b == nil {
		return [2]*int{}
	}
	c, cb := Compare(*a, *b), compareBuild(*a, *b)
	return [2]*int{&c, &cb}
}

// ourSort sorts the strings as Sort sorts their versions, and checks that Sort
// puts the versions in that order.
func ourSort(t *testing.T, list []string) []string {
	type item struct {
		s string
		v Version
	}
	items := make([]item, len(list))
	vs := make([]Version, len(list))
	for i, s := range list {
		v, err := Parse(s)
		if err != nil {
			t.Fatalf("sort case %q: %v", list, err)
		}
		items[i], vs[i] = item{s, v}, v
	}
	timSort(items, func(a, b item) int { return compareBuild(a.v, b.v) })
	Sort(vs)
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.s
		if vs[i].String() != it.v.String() || !slices.Equal(vs[i].Build, it.v.Build) {
			t.Errorf("Sort(%q) puts %s at %d, sorting the strings puts %q there", list, vs[i], i, it.s)
		}
	}
	return out
}

func equalParsed(a, b *parsed) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Version == b.Version && a.Major == b.Major && a.Minor == b.Minor && a.Patch == b.Patch &&
		slices.Equal(a.Prerelease, b.Prerelease) && slices.Equal(a.Build, b.Build)
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func show(x any) string {
	b, err := json.Marshal(x)
	if err != nil {
		return fmt.Sprint(x)
	}
	return strings.TrimSpace(string(b))
}
