package elfcheck

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Scanner collects the ELF files of one artifact. Its Add has the shape of a
// per-file hook of the packer; it is not safe for concurrent use.
type Scanner struct {
	// Skip, when set, leaves out the files it is true for (such as another
	// platform's prebuilt binaries that a package ships and never loads).
	Skip  func(name string) bool
	files []File
}

// Add inspects one file of the artifact, content at r of size bytes. Only an
// error reading the file's first bytes is returned; what is wrong with an ELF
// file is in the Report.
func (s *Scanner) Add(name string, r io.ReaderAt, size int64) error {
	if s.Skip != nil && s.Skip(name) {
		return nil
	}
	f, isELF, err := Inspect(name, r, size)
	if err != nil {
		return err
	}
	if isELF {
		s.files = append(s.files, f)
	}
	return nil
}

// Report returns what the files added so far need.
func (s *Scanner) Report() Report { return NewReport(s.files) }

// Report is what the ELF files of an artifact need, as a manifest records it:
// the summary fields follow from Files.
type Report struct {
	Machines []string `json:"machines"`       // the distinct File.Machine values, sorted
	Libc     string   `json:"libc,omitempty"` // Glibc, Musl, Mixed or "" (no file links a libc)
	// GlibcFloor is the highest GLIBC_x.y any file needs: the oldest glibc
	// the artifact loads on; FloorFile is the first file, by name, that needs it.
	GlibcFloor string `json:"glibc_floor,omitempty"`
	FloorFile  string `json:"glibc_floor_file,omitempty"`
	Files      []File `json:"files"` // sorted by name
}

// NewReport summarises files (a copy, sorted by name).
func NewReport(files []File) Report {
	r := Report{Machines: []string{}, Files: slices.Clone(files)}
	if r.Files == nil {
		r.Files = []File{}
	}
	slices.SortStableFunc(r.Files, func(a, b File) int { return cmp.Compare(a.Name, b.Name) })
	var floor version
	glibc, musl := false, false
	for _, f := range r.Files {
		if f.Machine != "" && !slices.Contains(r.Machines, f.Machine) {
			r.Machines = append(r.Machines, f.Machine)
		}
		glibc = glibc || f.Libc == Glibc || f.Libc == Mixed
		musl = musl || f.Libc == Musl || f.Libc == Mixed
		if v, ok := parseVersion(f.Glibc); ok && compare(v, floor) > 0 {
			floor, r.GlibcFloor, r.FloorFile = v, v.String(), f.Name
		}
	}
	slices.Sort(r.Machines)
	switch {
	case glibc && musl:
		r.Libc = Mixed
	case glibc:
		r.Libc = Glibc
	case musl:
		r.Libc = Musl
	}
	return r
}

// Target is what the machine that loads an artifact offers. An empty field is
// not checked.
type Target struct {
	// Arch is the CPU as images name it (amd64, arm64; ArchOfNpmCPU maps npm's
	// names): the npm block's cpu when the cell cross-installs, else the
	// platform's.
	Arch string
	// Libc is Glibc or Musl: the npm block's libc or a declared attribute.
	// Empty with Glibc set means Glibc.
	Libc string
	// Glibc is the runtime's glibc version ("2.34"), declared or probed.
	Glibc string
}

// Problem is one file that fails a rule.
type Problem struct {
	File string
	Msg  string // what is wrong, naming the versions: "needs GLIBC_2.28; the runtime has 2.26"
}

// Error lists every problem of an artifact, one per line, each "file msg".
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.File + " " + p.Msg
	}
	return strings.Join(lines, "\n")
}

// Check applies the package's rules to the report's files: nil, a *Error
// listing every problem, or an error saying what is wrong with t.
func (r Report) Check(t Target) error {
	libc := t.Libc
	var runtime version
	if t.Glibc != "" {
		v, ok := parseVersion(t.Glibc)
		if !ok {
			return fmt.Errorf("elfcheck: the runtime's glibc %q is not a version like 2.34", t.Glibc)
		}
		runtime = v
		if libc == "" {
			libc = Glibc
		}
	}
	switch {
	case libc != "" && libc != Glibc && libc != Musl:
		return fmt.Errorf("elfcheck: the cell's libc %q is neither %s nor %s", t.Libc, Glibc, Musl)
	case libc == Musl && runtime != nil:
		return fmt.Errorf("elfcheck: the cell is %s but declares glibc %s", Musl, t.Glibc)
	}
	var ps []Problem
	for _, f := range r.Files {
		add := func(format string, a ...any) { ps = append(ps, Problem{File: f.Name, Msg: fmt.Sprintf(format, a...)}) }
		if f.Unreadable != "" {
			add("starts as an ELF file but cannot be checked: %s", f.Unreadable)
			continue
		}
		if t.Arch != "" && f.Machine != t.Arch {
			add("is built for %s; the cell's CPU is %s", f.Machine, t.Arch)
		}
		switch {
		case f.Libc == Mixed:
			add("is linked against both glibc and musl (%s)", f.LibcMark)
		case libc != "" && f.Libc != "" && f.Libc != libc:
			add("is linked against %s (%s); the cell's libc is %s", f.Libc, f.LibcMark, libc)
		}
		if runtime != nil && f.Glibc != "" {
			v, ok := parseVersion(f.Glibc)
			switch {
			case !ok:
				add("records a glibc version %q that is not a version", f.Glibc)
			case compare(v, runtime) > 0:
				add("needs GLIBC_%s; the runtime has %s", f.Glibc, t.Glibc)
			}
		}
	}
	if len(ps) > 0 {
		return &Error{Problems: ps}
	}
	return nil
}

// ArchOfNpmCPU maps npm's CPU names (process.arch: x64, ia32) to the names
// images and Report.Machines use (amd64, 386); false for a name it does not know.
func ArchOfNpmCPU(cpu string) (string, bool) {
	a, ok := map[string]string{
		"x64": "amd64", "arm64": "arm64", "arm": "arm", "ia32": "386",
		"ppc64": "ppc64le", "s390x": "s390x", "riscv64": "riscv64",
		"loong64": "loong64", "mips": "mips", "mipsel": "mipsle",
	}[cpu]
	return a, ok
}
