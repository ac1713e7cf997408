package registry

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/semver"
)

// A placeholder registry for messages: the fixtures are read without one.
const testRegistry = "https://registry.example/"

func loadFixture(t *testing.T, name string) *Packument {
	t.Helper()
	p, err := decodePackument(bytes.NewReader(fixture(t, name)), name)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Skipped) > 0 {
		t.Fatalf("%s: skipped %v", name, p.Skipped)
	}
	p.Registry = testRegistry
	return p
}

func TestSelect(t *testing.T) {
	tests := []struct {
		pkg, rng string
		opts     Options
		want     string
	}{
		{"sharp", ">=0.33.0 <0.35.0", Options{},
			"0.33.0 0.33.1 0.33.2 0.33.3 0.33.4 0.33.5 0.34.0 0.34.1 0.34.2 0.34.3 0.34.4 0.34.5"},
		{"sharp", ">=0.33.0 <0.35.0", Options{Per: "minor"}, "0.33.5 0.34.5"},
		{"sharp", ">=0.32.0", Options{Per: "minor", Last: 2}, "0.34.5 0.35.5"},
		{"sharp", "^0.34.0", Options{Last: 2}, "0.34.4 0.34.5"},
		{"sharp", "^0.34.0", Options{Last: 100}, "0.34.0 0.34.1 0.34.2 0.34.3 0.34.4 0.34.5"},
		{"sharp", "*", Options{Per: "major"}, "0.35.5"},
		{"sharp", ">=0.35.0-rc.0 <=0.35.0", Options{}, "0.35.0"},
		{"sharp", ">=0.35.0-rc.0 <=0.35.0", Options{Prerelease: true}, "0.35.0-rc.0 0.35.0-rc.2 0.35.0-rc.4 0.35.0-rc.5 0.35.0"},
		{"sharp", "0.34.x", Options{Per: "patch", Prerelease: true}, "0.34.0 0.34.1 0.34.2 0.34.3 0.34.4 0.34.5"},
		{"sharp", "<0.34.4 || >0.35.4", Options{Per: "minor"}, "0.32.6 0.33.5 0.34.3 0.35.5"},
		{"uuid", ">=7", Options{Per: "major"}, "7.0.3 8.3.2 9.0.1 10.0.0 11.1.0 12.0.1 13.0.2 14.0.3"},
		{"uuid", ">=7", Options{Last: 1}, "14.0.3"},
		{"uuid", "^11.0.0", Options{Per: "minor"}, "11.0.5 11.1.0"},
		{"uuid", "^11.0.0", Options{Per: "minor", Deprecated: true}, "11.0.5 11.1.1"},
		{"uuid", "^3.0.0", Options{}, "3.4.0"},
		{"uuid", "^3.0.0", Options{Deprecated: true}, "3.1.0 3.2.0 3.2.1 3.3.0 3.3.2 3.3.3 3.4.0"},
		{"uuid", "8.3.x", Options{Prerelease: true}, "8.3.0-beta.0 8.3.0 8.3.1 8.3.2"},
		{"uuid", "8.3.x", Options{Prerelease: true, Deprecated: true}, "8.3.0-beta.0 8.3.0 8.3.1 8.3.2-beta.0 8.3.2"},
		{"@img/sharp-linux-x64", "~0.33", Options{Per: "minor"}, "0.33.5"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %s %+v", tt.pkg, tt.rng, tt.opts), func(t *testing.T) {
			got, err := Select(loadFixture(t, tt.pkg), tt.rng, tt.opts, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("got  %s\nwant %s", strings.Join(got, " "), tt.want)
			}
		})
	}
}

func TestSelectErrors(t *testing.T) {
	tests := []struct {
		pkg, rng string
		opts     Options
		want     string
	}{
		{"sharp", ">=9", Options{},
			`no version of "sharp" on https://registry.example/ satisfies ">=9"; the newest available: 0.35.5, 0.35.4, 0.35.3, 0.35.2, 0.35.1`},
		{"uuid", ">=3.0.0 <3.4.0", Options{},
			`no version of "uuid" on https://registry.example/ satisfies ">=3.0.0 <3.4.0"; in the range but left out: 6 deprecated (deprecated = true keeps them); the newest available: 14.0.3, 14.0.2, 14.0.1, 14.0.0, 13.0.2`},
		{"sharp", "0.35.0-rc.5", Options{},
			`no version of "sharp" on https://registry.example/ satisfies "0.35.0-rc.5"; in the range but left out: 1 prerelease (prerelease = true keeps them); the newest available: 0.35.5, 0.35.4, 0.35.3, 0.35.2, 0.35.1`},
		{"uuid", "8.3.2-beta.0", Options{Prerelease: true},
			`no version of "uuid" on https://registry.example/ satisfies "8.3.2-beta.0"; in the range but left out: 1 deprecated (deprecated = true keeps them); the newest available: 14.0.3, 14.0.2, 14.0.1, 14.0.0, 13.0.2`},
	}
	for _, tt := range tests {
		_, err := Select(loadFixture(t, tt.pkg), tt.rng, tt.opts, time.Now())
		var nm *NoMatchError
		if !errors.As(err, &nm) || err.Error() != tt.want {
			t.Errorf("%s %q: error\n %v\nwant\n %s", tt.pkg, tt.rng, err, tt.want)
		}
	}

	sharp := loadFixture(t, "sharp")
	for _, opts := range []Options{{Per: "month"}, {Last: -1}, {MinAge: -time.Hour}} {
		if _, err := Select(sharp, "*", opts, time.Now()); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("%+v: error = %v, want ErrInvalidOption", opts, err)
		}
	}
	_, err := Select(sharp, ">=0.33.0 <", Options{}, time.Now())
	var syntax *semver.SyntaxError
	if !errors.As(err, &syntax) {
		t.Errorf("a bad range: error = %v, want a *semver.SyntaxError", err)
	}
}

// packument builds a document from "version time [deprecated]" lines; time "-" for none.
func packument(t *testing.T, lines ...string) *Packument {
	t.Helper()
	var versions, times []string
	for _, l := range lines {
		f := strings.Fields(l)
		dep := ""
		if len(f) > 2 {
			dep = `"deprecated":"old"`
		}
		versions = append(versions, fmt.Sprintf(`%q:{"version":%q,%s}`, f[0], f[0], dep))
		if f[1] != "-" {
			times = append(times, fmt.Sprintf("%q:%q", f[0], f[1]))
		}
	}
	doc := fmt.Sprintf(`{"name":"demo","versions":{%s},"time":{"created":"2020-01-01T00:00:00Z",%s}}`,
		strings.Join(versions, ","), strings.Join(times, ","))
	doc = strings.ReplaceAll(doc, ",}", "}")
	p, err := decodePackument(strings.NewReader(doc), "demo")
	if err != nil {
		t.Fatalf("%s: %v", doc, err)
	}
	p.Registry = testRegistry
	return p
}

func TestSelectMinAge(t *testing.T) {
	p := packument(t,
		"1.0.0 2026-01-01T00:00:00Z",
		"1.1.0 2026-01-10T00:00:00.000Z",
		"1.2.0 2026-01-14T00:00:00+00:00",
		"1.3.0 2026-01-14T12:00:00Z deprecated",
		"2.0.0 -",
	)
	now := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		opts Options
		want string
	}{
		{Options{}, "1.0.0 1.1.0 1.2.0 2.0.0"},
		{Options{MinAge: 72 * time.Hour}, "1.0.0 1.1.0"},
		{Options{MinAge: 24 * time.Hour}, "1.0.0 1.1.0 1.2.0"}, // exactly 24h old is old enough
		{Options{MinAge: 72 * time.Hour, Per: "major"}, "1.1.0"},
		{Options{MinAge: time.Hour, Deprecated: true}, "1.0.0 1.1.0 1.2.0 1.3.0"},
	}
	for _, tt := range tests {
		got, err := Select(p, "*", tt.opts, now)
		if err != nil {
			t.Errorf("%+v: %v", tt.opts, err)
			continue
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("%+v: got %s, want %s", tt.opts, strings.Join(got, " "), tt.want)
		}
	}

	_, err := Select(p, ">=1.2.0", Options{MinAge: 72 * time.Hour}, now)
	want := `no version of "demo" on https://registry.example/ satisfies ">=1.2.0"; in the range but left out: ` +
		`1 deprecated (deprecated = true keeps them), ` +
		`1 published less than min_age = 3d before 2026-01-15T00:00:00Z, ` +
		`1 without a publish time, so of unknown age (min_age); the newest available: 1.1.0, 1.0.0`
	if err == nil || err.Error() != want {
		t.Errorf("error\n %v\nwant\n %s", err, want)
	}

	// On the real times: nothing younger than min_age.
	sharp := loadFixture(t, "sharp")
	now = sharp.Time["0.34.5"].Add(time.Hour)
	got, err := Select(sharp, "*", Options{MinAge: 72 * time.Hour}, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range got {
		if now.Sub(sharp.Time[v]) < 72*time.Hour {
			t.Errorf("%s was published %v before now", v, now.Sub(sharp.Time[v]))
		}
	}
}

func TestPackage(t *testing.T) {
	linux := loadFixture(t, "@img/sharp-linux-x64")
	got, err := Package(linux, "0.34.3")
	if err != nil {
		t.Fatal(err)
	}
	want := PackageInfo{
		Version:   "0.34.3",
		Engines:   map[string]string{"node": "^18.17.0 || ^20.3.0 || >=21.0.0"},
		OS:        []string{"linux"},
		CPU:       []string{"x64"},
		Libc:      []string{"glibc"},
		Integrity: "sha512-8kYso8d806ypnSq3/Ly0QEw90V5ZoHh10yH0HnrzOCr6DKAPI6QVHvwleqMkVQ0m+fc7EH8ah0BB0QPuWY6zJQ==",
		Published: linux.Time["0.34.3"],
	}
	if !reflect.DeepEqual(got, want) || got.Published.IsZero() {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if v, err := Package(linux, "v0.34.3"); err != nil || v.Version != "0.34.3" {
		t.Errorf("v0.34.3: %+v, %v", v, err)
	}

	sharp, err := Package(loadFixture(t, "sharp"), "0.33.5")
	if err != nil {
		t.Fatal(err)
	}
	if sharp.OS == nil || sharp.CPU == nil || sharp.Libc == nil || len(sharp.OS)+len(sharp.CPU)+len(sharp.Libc) != 0 || sharp.Deprecated != "" {
		t.Errorf("absent lists should be empty, not nil: %+v", sharp)
	}

	uuid, err := Package(loadFixture(t, "uuid"), "3.3.3")
	if err != nil || !strings.HasPrefix(uuid.Deprecated, "Please upgrade") {
		t.Errorf("deprecated: %q, %v", uuid.Deprecated, err)
	}

	_, err = Package(linux, "9.9.9")
	var ve *VersionError
	if !errors.As(err, &ve) || err.Error() != `package "@img/sharp-linux-x64" has no version "9.9.9"; the newest: 0.35.5, 0.35.4, 0.35.3, 0.35.2, 0.35.1` {
		t.Errorf("error = %v", err)
	}
}

func TestDecodeHostileDocuments(t *testing.T) {
	tests := []struct {
		name, doc string
		err       string // "" for none
		check     func(*Packument) string
	}{
		{"not JSON", `<html>`, "malformed registry document", nil},
		{"not an object", `[1,2]`, "malformed", nil},
		{"empty", ``, "ends early", nil},
		{"truncated", `{"name":"demo","versions":{"1.0.0":{"dist"`, "ends early", nil},
		{"no versions", `{"name":"demo"}`, "no versions", nil},
		{"versions not an object", `{"name":"demo","versions":[]}`, "versions", nil},
		{"another package", `{"name":"other","versions":{}}`, `names package "other"`, nil},
		{"data after", `{"name":"demo","versions":{}} {}`, "data after", nil},
		{"name not a string", `{"name":7,"versions":{}}`, "names package", nil},
		{"version not an object", `{"versions":{"1.0.0":"x","1.0.1":{}}}`, "", func(p *Packument) string {
			if _, ok := p.Versions["1.0.0"]; ok || len(p.Versions) != 1 || len(p.Skipped) != 1 || p.Skipped[0].Reason != "not a JSON object" {
				return fmt.Sprintf("%+v", p)
			}
			return ""
		}},
		{"version not semver", `{"versions":{"latest":{},"1.0":{},"1.0.0":{}}}`, "", func(p *Packument) string {
			if len(p.Versions) != 1 || len(p.Skipped) != 2 {
				return fmt.Sprintf("%+v", p)
			}
			return ""
		}},
		{"odd field types", `{"versions":{"1.0.0":{"engines":["node >=4"],"os":"linux","cpu":[1,"x64",null],"libc":{},"deprecated":1,"dist":"x"},
			"1.0.1":{"engines":{"node":">=4","npm":2},"deprecated":false,"dist":{"integrity":7,"shasum":"7a1c9d8f1f4d8a1c5c2f0e9d8a1b2c3d4e5f6a7b"}},
			"1.0.2":{"deprecated":true,"dist":{"shasum":"zz"}}}}`, "", func(p *Packument) string {
			a, b, c := p.Versions["1.0.0"], p.Versions["1.0.1"], p.Versions["1.0.2"]
			if len(a.Engines) != 0 || fmt.Sprint(a.OS) != "[linux]" || fmt.Sprint(a.CPU) != "[x64]" || a.Libc == nil || len(a.Libc) != 0 || a.Deprecated == "" || a.Integrity != "" {
				return fmt.Sprintf("1.0.0: %+v", a)
			}
			if fmt.Sprint(b.Engines) != "map[node:>=4]" || b.Deprecated != "" || b.Integrity != "sha1-ehydjx9NihxcLw6dihssPU5fans=" {
				return fmt.Sprintf("1.0.1: %+v", b)
			}
			if c.Deprecated == "" || c.Integrity != "" {
				return fmt.Sprintf("1.0.2: %+v", c)
			}
			return ""
		}},
		{"bad times", `{"versions":{"1.0.0":{},"1.0.1":{}},"time":{"1.0.0":"yesterday","1.0.1":5,"9.9.9":"2020-01-01T00:00:00Z","modified":"x"}}`, "", func(p *Packument) string {
			if !p.Full || len(p.Time) != 0 || len(p.Skipped) != 2 {
				return fmt.Sprintf("%+v", p)
			}
			return ""
		}},
		// node-semver trims white space and a leading "v" before it reads a version; a key
		// kept as written would carry them into cell names, the lock and the terminal.
		{"keys not as published", "{\"versions\":{\"1.0.1\\n\":{},\"1.0.3\\r\":{},\" 1.0.4\":{},\"1.0.7\u2028\":{},\"v1.0.5\":{},\"=1.0.8\":{},\"1.0.0\":{},\"1.0.6+b.1\":{}}," +
			"\"time\":{\"1.0.1\\n\":\"2020-01-01T00:00:00Z\",\"1.0.1\":\"2020-01-01T00:00:00Z\"}}", "", func(p *Packument) string {
			got, err := Select(p, "*", Options{}, time.Now())
			if err != nil || strings.Join(got, " ") != "1.0.0 1.0.6+b.1" || len(p.Time) != 0 {
				return fmt.Sprintf("versions %q, %v, times %v", got, err, p.Time)
			}
			var skipped []string
			for _, s := range p.Skipped {
				skipped = append(skipped, fmt.Sprintf("%q %s", s.Version, s.Reason))
			}
			want := []string{
				`"1.0.1\n" not a version as published: node-semver reads it as "1.0.1"`,
				`"1.0.3\r" not a version as published: node-semver reads it as "1.0.3"`,
				`" 1.0.4" not a version as published: node-semver reads it as "1.0.4"`,
				`"1.0.7\u2028" not a version as published: node-semver reads it as "1.0.7"`,
				`"v1.0.5" not a version as published: node-semver reads it as "1.0.5"`,
				`"=1.0.8" not a node-semver version`,
			}
			if !reflect.DeepEqual(skipped, want) {
				return fmt.Sprintf("skipped:\n%s\nwant:\n%s", strings.Join(skipped, "\n"), strings.Join(want, "\n"))
			}
			return ""
		}},
		{"long key clipped", `{"versions":{"` + strings.Repeat("9", 5000) + `":{}}}`, "", func(p *Packument) string {
			if len(p.Skipped) != 1 || len(p.Skipped[0].Version) > 100 {
				return fmt.Sprintf("%d skipped", len(p.Skipped))
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := decodePackument(strings.NewReader(tt.doc), "demo")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, ErrMalformed) {
					t.Errorf("error = %v, want ErrMalformed with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if msg := tt.check(p); msg != "" {
				t.Error(msg)
			}
		})
	}
}

// TestCheckSelection: what a pinned answer of npm_versions must be to be one that
// Select could have given, short of what only the document tells.
func TestCheckSelection(t *testing.T) {
	tests := []struct {
		rng      string
		opts     Options
		versions string
		want     string // "" for none
	}{
		{">=0.33.0", Options{}, "0.33.5 0.34.5", ""},
		{">=0.33.0", Options{}, "0.33.5 0.36.0+build", ""},
		{"*", Options{}, "1.0.0+a 1.0.0+b", ""}, // Select's order: equal precedence by spelling
		{">=0.33.0", Options{Prerelease: true}, "0.33.5 0.35.5-rc.1", ""},
		{">=0.33.0", Options{Per: "minor", Last: 2}, "0.33.5 0.34.5", ""},
		{">=0.33.0", Options{}, "", "no versions"},
		{">=0.33.0", Options{}, "0.1.0 0.33.5", `"0.1.0" is not in the range ">=0.33.0"`},
		{">=0.33.0 <0.36.0", Options{}, "0.33.5 0.36.0+build", `"0.36.0+build" is not in the range ">=0.33.0 <0.36.0"`},
		{">=0.33.0", Options{}, "0.33.5 0.34.5 0.35.5-rc.1", `"0.35.5-rc.1" is a prerelease and prerelease = true is not set`},
		{"0.35.5-rc.1", Options{}, "0.35.5-rc.1", `"0.35.5-rc.1" is a prerelease and prerelease = true is not set`},
		{">=0.33.0-0", Options{Prerelease: true}, "0.33.5-rc.1 0.33.5", ""},
		{">=0.33.0", Options{}, "0.33.5 0.33.5 0.34.5", `"0.33.5" after "0.33.5": versions must be ascending, each once`},
		{">=0.33.0", Options{}, "0.34.5 0.33.5", `"0.33.5" after "0.34.5": versions must be ascending, each once`},
		{"*", Options{}, "1.0.0+b 1.0.0+a", `"1.0.0+a" after "1.0.0+b": versions must be ascending, each once`},
		{">=0.33.0", Options{}, "0.33.5 v0.34.5", `"v0.34.5" is not a version as published: node-semver reads it as "0.34.5"`},
		{">=0.33.0", Options{}, "0.33.5 0.34.5\n", `"0.34.5\n" is not a version as published: node-semver reads it as "0.34.5"`},
		{">=0.33.0", Options{}, "0.33.5 latest", `"latest" is not a node-semver version`},
		{">=0.33.0", Options{Per: "minor"}, "0.33.4 0.33.5", `"0.33.4" and "0.33.5" are of one minor, and per = "minor" keeps one of each`},
		{">=0.33.0", Options{Last: 2}, "0.33.5 0.34.5 0.35.5", `3 versions, and last = 2 keeps at most 2`},
		{">=0.33.0 <", Options{}, "0.33.5", `range`},
		{"*", Options{Per: "month"}, "0.33.5", `per = "month"`},
		{"*", Options{Last: -1}, "0.33.5", `last = -1`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %+v %q", tt.rng, tt.opts, tt.versions), func(t *testing.T) {
			vs := strings.Split(tt.versions, " ")
			if tt.versions == "" {
				vs = nil
			}
			err := CheckSelection(tt.rng, tt.opts, vs)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
	// Whatever Select answers passes.
	for _, name := range []string{"sharp", "uuid"} {
		p := loadFixture(t, name)
		for _, opts := range []Options{{}, {Per: "minor"}, {Per: "patch", Prerelease: true}, {Last: 3}, {Prerelease: true, Deprecated: true}} {
			got, err := Select(p, ">=0.1.0", opts, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckSelection(">=0.1.0", opts, got); err != nil {
				t.Errorf("%s %+v: Select's answer fails: %v", name, opts, err)
			}
		}
	}
}

func TestCanonicalVersion(t *testing.T) {
	for in, want := range map[string]string{
		"1.2.3": "1.2.3", "v1.2.3": "1.2.3", " 1.2.3\n": "1.2.3", "1.2.3-rc.1+b.2": "1.2.3-rc.1+b.2", "1.2.3+007": "1.2.3+007",
	} {
		if got, err := CanonicalVersion(in); err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := CanonicalVersion("latest"); err == nil {
		t.Error("latest: no error")
	}
}

func TestFormatAge(t *testing.T) {
	for d, want := range map[time.Duration]string{
		60 * 24 * time.Hour: "60d", 72 * time.Hour: "3d", 36 * time.Hour: "1d12h", 90 * time.Minute: "1h30m",
		12 * time.Hour: "12h", 1500 * time.Millisecond: "1.5s", 0: "0s", -time.Hour: "-1h0m0s",
		24*time.Hour + 30*time.Second: "1d30s",
	} {
		if got := formatAge(d); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
}
