package runner

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/matrixbuild/matrix/elfcheck"
	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/plan"
)

// ELFError is an artifact whose ELF files fail their check (elfcheck.Report.Check):
// the cell fails before its test, and the manifest records the report with the failure.
type ELFError struct {
	Report elfcheck.Report
	Err    error
}

func (e *ELFError) Error() string { return e.Err.Error() }
func (e *ELFError) Unwrap() error { return e.Err }

// elfTarget is what the machine that loads the cell's artifact offers: the CPU npm
// installed for, else the cell's platform's, else the build image's; the libc the
// npm block installed for, else the cell's; the runtime's glibc as the cell declares it.
func elfTarget(cell plan.Cell, build executor.Image) elfcheck.Target {
	t := elfcheck.Target{Libc: cell.Libc, Glibc: cell.Glibc}
	if cell.Npm != nil && cell.Npm.Libc != "" {
		t.Libc = cell.Npm.Libc
	}
	if cell.Npm != nil && cell.Npm.CPU != "" {
		t.Arch, _ = elfcheck.ArchOfNpmCPU(cell.Npm.CPU) // "" (not checked) for one it has no name for
		return t
	}
	if _, arch, ok := strings.Cut(cell.Platform, "/"); ok {
		t.Arch, _, _ = strings.Cut(arch, "/")
		return t
	}
	t.Arch = build.Architecture
	return t
}

// elfScanner is a fresh scanner for one packing of the cell's artifact: it skips
// the files under the cell's elf_ignore patterns, matched against the archive's names
// without its prefix (collect's base name first: "node_modules/...").
func elfScanner(cell plan.Cell) *elfcheck.Scanner {
	s := &elfcheck.Scanner{}
	if len(cell.ELFIgnore) == 0 {
		return s
	}
	prefix := archivePrefix(cell)
	s.Skip = func(name string) bool {
		return ignoredELF(cell.ELFIgnore, strings.TrimPrefix(name, prefix))
	}
	return s
}

// ignoredELF reports whether a pattern matches name or one of its directories.
func ignoredELF(patterns []string, name string) bool {
	for p := path.Clean(name); p != "." && p != "/"; p = path.Dir(p) {
		for _, pat := range patterns {
			if ok, _ := path.Match(pat, p); ok {
				return true
			}
		}
	}
	return false
}

// checkELF applies the ELF rules to what packing found: nil, or an *ELFError naming
// every file that fails and the versions.
func checkELF(rep elfcheck.Report, t elfcheck.Target) error {
	err := rep.Check(t)
	if err == nil {
		return nil
	}
	var list *elfcheck.Error
	if errors.As(err, &list) {
		err = fmt.Errorf("the artifact's ELF files do not fit the cell (%s):\n%s", describeTarget(t), indent(err.Error()))
	}
	return &ELFError{Report: rep, Err: err}
}

// describeTarget says what the files were checked against, for the error.
func describeTarget(t elfcheck.Target) string {
	var parts []string
	if t.Arch != "" {
		parts = append(parts, "CPU "+t.Arch)
	}
	if t.Libc != "" {
		parts = append(parts, t.Libc)
	}
	if t.Glibc != "" {
		parts = append(parts, "runtime glibc "+t.Glibc)
	}
	if len(parts) == 0 {
		return "nothing declared"
	}
	return strings.Join(parts, ", ")
}

// describeELF is the log's line of what the artifact's ELF files need.
func describeELF(rep elfcheck.Report) string {
	if len(rep.Files) == 0 {
		return "ELF files: none"
	}
	s := fmt.Sprintf("ELF files: %d, for %s", len(rep.Files), strings.Join(rep.Machines, ", "))
	if rep.Libc != "" {
		s += ", linked against " + rep.Libc
	}
	if rep.GlibcFloor != "" {
		s += fmt.Sprintf(", need glibc %s or later (%s)", rep.GlibcFloor, rep.FloorFile)
	}
	return s
}
