package elfcheck

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// The ELF files of the tests, compiled by the machine's gcc once per test binary.
// A stub libc.so.6 with a version script makes the needed GLIBC versions exact
// whatever glibc the machine has; a stub libc.musl-x86_64.so.1 and
// --dynamic-linker make musl-looking files without musl.
var sources = map[string]string{
	"stub.c": `int fcntl64(void) { return 0; }
int old(void) { return 0; }
int priv(void) { return 0; }
int relr(void) { return 0; }
`,
	"v.map": `GLIBC_2.2.5 { global: old; local: *; };
GLIBC_2.28 { global: fcntl64; } GLIBC_2.2.5;
GLIBC_PRIVATE { global: priv; };
GLIBC_ABI_DT_RELR { global: relr; };
`,
	"needs228.c": "extern int fcntl64(void), old(void), priv(void);\nint f(void) { return fcntl64() + old() + priv(); }\n",
	"relr.c":     "extern int relr(void), old(void);\nint f(void) { return relr() + old(); }\n",
	"start.c":    "extern int old(void);\nvoid _start(void) { old(); for (;;); }\n",
	"muslso.c":   "extern int old(void);\nint f(void) { return old(); }\n",
	"static.c":   "void _start(void) { for (;;); }\n",
	"hello.c":    "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n",
}

// builds are the gcc command lines, run in order in one directory; each output's
// name is a key of fixtures.
var builds = [][]string{
	{"-shared", "-fPIC", "-nostdlib", "-Wl,-soname,libc.so.6", "-Wl,--version-script=v.map", "stub.c", "-o", "glibc/libc.so.6"},
	{"-shared", "-fPIC", "-nostdlib", "-Wl,-soname,libc.musl-x86_64.so.1", "stub.c", "-o", "musl/libc.musl-x86_64.so.1"},
	{"-shared", "-fPIC", "-nostdlib", "needs228.c", "-Lglibc", "-l:libc.so.6", "-o", "needs228.so"},
	{"-shared", "-fPIC", "-nostdlib", "relr.c", "-Lglibc", "-l:libc.so.6", "-o", "relr.so"},
	{"-nostdlib", "-Wl,--dynamic-linker=/lib/ld-musl-x86_64.so.1", "start.c", "-Lmusl", "-l:libc.musl-x86_64.so.1", "-o", "musl-exe"},
	{"-shared", "-fPIC", "-nostdlib", "muslso.c", "-Lmusl", "-l:libc.musl-x86_64.so.1", "-o", "musl.so"},
	{"-nostdlib", "-static", "static.c", "-o", "static"},
	{"hello.c", "-o", "hello"},
	{"-Wl,--dynamic-linker=/lib/ld-musl-x86_64.so.1", "hello.c", "-o", "mixed"},
}

var (
	fixtureOnce sync.Once
	fixtureData map[string][]byte
	fixtureErr  string
)

// nativeArch is what gcc builds for here, as images name it (Go's GOARCH names
// agree for amd64 and arm64), and foreignArch the machine the tests patch in.
func nativeArch() string { return runtime.GOARCH }

func foreignMachine() (elf.Machine, string) {
	if runtime.GOARCH == "arm64" {
		return elf.EM_X86_64, "amd64"
	}
	return elf.EM_AARCH64, "arm64"
}

// fixtures returns the compiled files by name. Without gcc the test is skipped,
// except under CI or the suite's MATRIX_REQUIRE_DOCKER (scripts/test.sh), where
// scripts/setup.sh has installed it and its absence is a failure.
func fixtures(t testing.TB) map[string][]byte {
	t.Helper()
	if compiled(); fixtureErr != "" {
		if os.Getenv("CI") != "" || os.Getenv("MATRIX_REQUIRE_DOCKER") != "" {
			t.Fatal(fixtureErr)
		}
		t.Skip(fixtureErr)
	}
	return fixtureData
}

// compiled returns the compiled files by name, nil when they cannot be built.
func compiled() map[string][]byte {
	fixtureOnce.Do(func() {
		if runtime.GOOS != "linux" {
			fixtureErr = "ELF files are compiled on Linux only"
			return
		}
		gcc, err := exec.LookPath("gcc")
		if err != nil {
			fixtureErr = "no gcc (scripts/setup.sh installs it): " + err.Error()
			return
		}
		dir, err := os.MkdirTemp("", "elfcheck-test")
		if err != nil {
			fixtureErr = err.Error()
			return
		}
		defer os.RemoveAll(dir)
		for _, d := range []string{"glibc", "musl"} {
			if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
				fixtureErr = err.Error()
				return
			}
		}
		for name, src := range sources {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
				fixtureErr = err.Error()
				return
			}
		}
		data := map[string][]byte{}
		for _, args := range builds {
			cmd := exec.Command(gcc, args...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				fixtureErr = "gcc " + filepath.Join(args...) + ": " + err.Error() + "\n" + string(out)
				return
			}
			out := args[len(args)-1]
			if data[out], err = os.ReadFile(filepath.Join(dir, out)); err != nil {
				fixtureErr = err.Error()
				return
			}
		}
		fixtureData = data
	})
	return fixtureData
}

// patched returns a copy of an ELF file with the ELF header field at off (of
// size 2, 4 or 8 bytes, little-endian) set to v.
func patched(data []byte, off int, size int, v uint64) []byte {
	c := bytes.Clone(data)
	switch size {
	case 2:
		binary.LittleEndian.PutUint16(c[off:], uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(c[off:], uint32(v))
	case 8:
		binary.LittleEndian.PutUint64(c[off:], v)
	default:
		panic("patched: size must be 2, 4 or 8")
	}
	return c
}

// Offsets in an ELFCLASS64 header.
const (
	offMachine  = 0x12
	offShoff    = 0x28
	offShnum    = 0x3c
	offShstrndx = 0x3e
)

// inspectBytes is Inspect of an in-memory file.
func inspectBytes(t testing.TB, name string, data []byte) (File, bool) {
	t.Helper()
	f, ok, err := Inspect(name, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("Inspect(%s): %v", name, err)
	}
	return f, ok
}

// crafted returns a minimal ELF file made byte by byte: a header of the given
// class (32 or 64) and machine, little-endian, and, when interp is not empty, one
// PT_INTERP program header naming it. It needs no compiler.
func crafted(class int, machine elf.Machine, interp string) []byte {
	le := binary.LittleEndian
	ehsize, phentsize, shentsize := 64, 56, 64
	if class == 32 {
		ehsize, phentsize, shentsize = 52, 32, 40
	}
	b := make([]byte, ehsize)
	copy(b, "\x7fELF")
	b[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	if class == 32 {
		b[elf.EI_CLASS] = byte(elf.ELFCLASS32)
	}
	b[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	b[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	le.PutUint16(b[16:], uint16(elf.ET_EXEC))
	le.PutUint16(b[18:], uint16(machine))
	le.PutUint32(b[20:], uint32(elf.EV_CURRENT))
	// e_ehsize, e_phentsize, e_phnum, e_shentsize follow e_flags.
	fields := 0x34
	if class == 32 {
		fields = 0x28
	}
	le.PutUint16(b[fields:], uint16(ehsize))
	le.PutUint16(b[fields+2:], uint16(phentsize))
	le.PutUint16(b[fields+6:], uint16(shentsize))
	if interp == "" {
		return b
	}
	le.PutUint16(b[fields+4:], 1) // e_phnum
	ph := make([]byte, phentsize)
	off := uint64(ehsize + phentsize)
	size := uint64(len(interp) + 1)
	le.PutUint32(ph[0:], uint32(elf.PT_INTERP))
	if class == 32 {
		le.PutUint32(b[0x1c:], uint32(ehsize)) // e_phoff
		le.PutUint32(ph[4:], uint32(off))      // p_offset
		le.PutUint32(ph[16:], uint32(size))    // p_filesz
		le.PutUint32(ph[20:], uint32(size))    // p_memsz
	} else {
		le.PutUint64(b[0x20:], uint64(ehsize)) // e_phoff
		le.PutUint64(ph[8:], off)              // p_offset
		le.PutUint64(ph[32:], size)            // p_filesz
		le.PutUint64(ph[40:], size)            // p_memsz
	}
	b = append(b, ph...)
	return append(append(b, interp...), 0)
}

// sectionHeaderOffset is where, in an ELFCLASS64 file, the header of its
// section named name starts.
func sectionHeaderOffset(t testing.TB, data []byte, name string) int {
	t.Helper()
	ef, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range ef.Sections {
		if s.Name == name {
			return int(binary.LittleEndian.Uint64(data[offShoff:])) + i*64
		}
	}
	t.Fatalf("no section %s", name)
	return 0
}

// countingReaderAt counts the bytes asked of it.
type countingReaderAt struct {
	r interface {
		ReadAt([]byte, int64) (int, error)
	}
	n int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.n += int64(len(p))
	return c.r.ReadAt(p, off)
}

// hugeFile is a file of size bytes, head followed by zeros, without the memory.
type hugeFile struct {
	head []byte
}

func (h hugeFile) ReadAt(p []byte, off int64) (int, error) {
	clear(p)
	if off < int64(len(h.head)) {
		copy(p, h.head[off:])
	}
	return len(p), nil
}
