package elfcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

const libvips = "node_modules/@img/sharp-libvips-linux-arm64/lib/libvips-cpp.so"

// TestCheck applies the rules to reports; no compiler needed.
func TestCheck(t *testing.T) {
	glibcArm := File{Name: libvips, Machine: "arm64", Libc: Glibc, LibcMark: "needs libc.so.6", Glibc: "2.28"}
	muslX64 := File{Name: "m.node", Machine: "amd64", Libc: Musl, LibcMark: "interpreter /lib/ld-musl-x86_64.so.1"}
	glibcX64 := File{Name: "g.node", Machine: "amd64", Libc: Glibc, LibcMark: "needs libc.so.6", Glibc: "2.2.5"}
	static := File{Name: "static", Machine: "amd64"}
	tests := []struct {
		name   string
		files  []File
		target Target
		want   []string // the lines of the *Error; nil: passes
	}{
		{"nothing declared", []File{glibcArm, muslX64}, Target{}, nil},
		{"no ELF files", nil, Target{Arch: "arm64", Libc: Musl}, nil},
		{"all match", []File{glibcArm}, Target{Arch: "arm64", Libc: Glibc, Glibc: "2.34"}, nil},
		{"floor equals runtime", []File{glibcArm}, Target{Glibc: "2.28"}, nil},
		{"floor equals runtime with a zero part", []File{glibcArm}, Target{Glibc: "2.28.0"}, nil},
		{"glibc too old", []File{glibcArm}, Target{Arch: "arm64", Glibc: "2.26"},
			[]string{libvips + " needs GLIBC_2.28; the runtime has 2.26"}},
		{"numeric, not textual", []File{{Name: "a", Machine: "amd64", Libc: Glibc, Glibc: "2.10"}}, Target{Glibc: "2.9"},
			[]string{"a needs GLIBC_2.10; the runtime has 2.9"}},
		{"2.2.5 is below 2.3", []File{glibcX64}, Target{Glibc: "2.3"}, nil},
		{"wrong CPU", []File{glibcArm}, Target{Arch: "amd64"},
			[]string{libvips + " is built for arm64; the cell's CPU is amd64"}},
		{"musl in a glibc cell", []File{muslX64}, Target{Libc: Glibc},
			[]string{"m.node is linked against musl (interpreter /lib/ld-musl-x86_64.so.1); the cell's libc is glibc"}},
		{"a declared glibc makes a glibc cell", []File{muslX64}, Target{Glibc: "2.34"},
			[]string{"m.node is linked against musl (interpreter /lib/ld-musl-x86_64.so.1); the cell's libc is glibc"}},
		{"glibc in a musl cell", []File{glibcX64}, Target{Libc: Musl},
			[]string{"g.node is linked against glibc (needs libc.so.6); the cell's libc is musl"}},
		{"no libc passes anywhere", []File{static}, Target{Arch: "amd64", Libc: Musl}, nil},
		{"mixed fails undeclared", []File{{Name: "x", Machine: "amd64", Libc: Mixed, LibcMark: "needs libc.so.6; interpreter /lib/ld-musl-x86_64.so.1"}}, Target{},
			[]string{"x is linked against both glibc and musl (needs libc.so.6; interpreter /lib/ld-musl-x86_64.so.1)"}},
		{"unreadable fails undeclared", []File{{Name: "u", Unreadable: "the file ends inside its headers"}}, Target{},
			[]string{"u starts as an ELF file but cannot be checked: the file ends inside its headers"}},
		{"a recorded version that is not one", []File{{Name: "r", Machine: "amd64", Libc: Glibc, Glibc: "2.x"}}, Target{Glibc: "2.34"},
			[]string{`r records a glibc version "2.x" that is not a version`}},
		{"every problem, in file order", []File{muslX64, glibcArm}, Target{Arch: "amd64", Glibc: "2.26"}, []string{
			"m.node is linked against musl (interpreter /lib/ld-musl-x86_64.so.1); the cell's libc is glibc",
			libvips + " is built for arm64; the cell's CPU is amd64",
			libvips + " needs GLIBC_2.28; the runtime has 2.26",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := NewReport(tt.files).Check(tt.target)
			if tt.want == nil {
				if err != nil {
					t.Errorf("Check: %v, want nil", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Check: %v, want an *Error", err)
			}
			if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Check:\n%s\nwant:\n%s", err, strings.Join(tt.want, "\n"))
			}
			if len(e.Problems) != len(tt.want) || e.Problems[0].File == "" {
				t.Errorf("Problems = %+v", e.Problems)
			}
		})
	}
}

// TestCheckTarget: a target that cannot be checked against is an error of its own.
func TestCheckTarget(t *testing.T) {
	for _, tt := range []struct {
		target Target
		want   string
	}{
		{Target{Glibc: "2.x"}, `the runtime's glibc "2.x" is not a version like 2.34`},
		{Target{Glibc: "2"}, `the runtime's glibc "2" is not a version like 2.34`},
		{Target{Libc: "uclibc"}, `the cell's libc "uclibc" is neither glibc nor musl`},
		{Target{Libc: Musl, Glibc: "2.34"}, "the cell is musl but declares glibc 2.34"},
	} {
		err := NewReport(nil).Check(tt.target)
		var e *Error
		if err == nil || errors.As(err, &e) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Check(%+v) = %v, want an error with %q", tt.target, err, tt.want)
		}
	}
}

// TestNewReport: the summary a manifest records follows from the files.
func TestNewReport(t *testing.T) {
	r := NewReport([]File{
		{Name: "c", Machine: "arm64", Libc: Glibc, Glibc: "2.17"},
		{Name: "b", Machine: "arm64", Libc: Glibc, Glibc: "2.28"},
		{Name: "a", Machine: "amd64", Libc: Glibc, Glibc: "2.28.0"},
		{Name: "d", Machine: "arm64"},
		{Name: "e", Unreadable: "why"},
	})
	want := Report{
		Machines:   []string{"amd64", "arm64"},
		Libc:       Glibc,
		GlibcFloor: "2.28.0", // a and b need the same release; a comes first
		FloorFile:  "a",
	}
	names := []string{}
	for _, f := range r.Files {
		names = append(names, f.Name)
	}
	r.Files = nil
	if !reflect.DeepEqual(r, want) || strings.Join(names, " ") != "a b c d e" {
		t.Errorf("NewReport = %+v with files %v\nwant %+v with files a b c d e", r, names, want)
	}
	for _, tt := range []struct {
		files []File
		libc  string
	}{
		{[]File{{Name: "m", Libc: Musl}}, Musl},
		{[]File{{Name: "m", Libc: Musl}, {Name: "g", Libc: Glibc}}, Mixed},
		{[]File{{Name: "x", Libc: Mixed}}, Mixed},
		{[]File{{Name: "s"}}, ""},
	} {
		if got := NewReport(tt.files).Libc; got != tt.libc {
			t.Errorf("NewReport(%+v).Libc = %q, want %q", tt.files, got, tt.libc)
		}
	}
	// An artifact without ELF files records empty lists, not null.
	data, _ := json.Marshal(NewReport(nil))
	if string(data) != `{"machines":[],"files":[]}` {
		t.Errorf("empty report = %s", data)
	}
}

// TestScanner feeds files as the packer would: text and ELF, one skipped, then
// checks the report against a cell for another CPU, as when an x64 sharp is
// packed into an arm64 cell.
func TestScanner(t *testing.T) {
	fx := fixtures(t)
	_, foreign := foreignMachine()
	s := &Scanner{Skip: func(name string) bool { return strings.HasPrefix(name, "node_modules/skipped/") }}
	add := func(name string, data []byte) {
		if err := s.Add(name, bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatalf("Add(%s): %v", name, err)
		}
	}
	add("node_modules/sharp/package.json", []byte(`{"name":"sharp"}`))
	add("node_modules/@img/sharp/lib/sharp.node", fx["needs228.so"])
	add("node_modules/@img/sharp/lib/libvips.so", fx["relr.so"])
	add("node_modules/skipped/musl.node", fx["musl.so"])
	r := s.Report()
	if len(r.Files) != 2 || r.GlibcFloor != "2.36" || r.FloorFile != "node_modules/@img/sharp/lib/libvips.so" ||
		r.Libc != Glibc || !reflect.DeepEqual(r.Machines, []string{nativeArch()}) {
		t.Errorf("Report = %+v", r)
	}
	err := r.Check(Target{Arch: foreign, Libc: Glibc, Glibc: "2.34"})
	want := "node_modules/@img/sharp/lib/libvips.so is built for " + nativeArch() + "; the cell's CPU is " + foreign + "\n" +
		"node_modules/@img/sharp/lib/libvips.so needs GLIBC_2.36; the runtime has 2.34\n" +
		"node_modules/@img/sharp/lib/sharp.node is built for " + nativeArch() + "; the cell's CPU is " + foreign
	if err == nil || err.Error() != want {
		t.Errorf("Check:\n%v\nwant:\n%s", err, want)
	}
	// A report read back from a manifest checks the same.
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(data, &back); err != nil || !reflect.DeepEqual(back, r) {
		t.Errorf("JSON round trip: %+v, %v\nwant %+v", back, err, r)
	}
}

func TestVersions(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"2.28", "2.28", 0}, {"2.28", "2.28.0", 0}, {"2.2.5", "2.3", -1}, {"2.10", "2.9", 1}, {"3.0", "2.99", 1},
	} {
		if got, err := CompareGlibc(tt.a, tt.b); err != nil || got != tt.want {
			t.Errorf("CompareGlibc(%s, %s) = %d, %v; want %d", tt.a, tt.b, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "2", "2.", ".2", "2.x", "+2.3", "2.03", "2.123456", "1.2.3.4.5", "2 .3"} {
		if _, err := ParseGlibc(bad); err == nil {
			t.Errorf("ParseGlibc(%q) accepted", bad)
		}
	}
	for _, tt := range []struct {
		name string
		want string
	}{
		{"GLIBC_2.34", "2.34"}, {"GLIBC_2.2.5", "2.2.5"}, {"GLIBC_ABI_DT_RELR", "2.36"},
		{"GLIBC_PRIVATE", ""}, {"GLIBCXX_3.4.30", ""}, {"CXXABI_1.3", ""}, {"GLIBC_2.34x", ""},
	} {
		v, ok := glibcVersion([]byte(tt.name))
		if got := v.String(); ok != (tt.want != "") || got != tt.want {
			t.Errorf("glibcVersion(%s) = %q, %v; want %q", tt.name, got, ok, tt.want)
		}
	}
}

func TestArchOfNpmCPU(t *testing.T) {
	for cpu, want := range map[string]string{"x64": "amd64", "arm64": "arm64", "ia32": "386", "ppc64": "ppc64le", "mipsel": "mipsle"} {
		if got, ok := ArchOfNpmCPU(cpu); !ok || got != want {
			t.Errorf("ArchOfNpmCPU(%s) = %s, %v; want %s", cpu, got, ok, want)
		}
	}
	if _, ok := ArchOfNpmCPU("amd64"); ok {
		t.Error("ArchOfNpmCPU accepted an image name")
	}
}
