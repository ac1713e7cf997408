package elfcheck

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"io"
	"strings"
	"testing"
)

// TestInspectCompiled reads files compiled by gcc: machines, the libc each is
// linked against and why, and the highest GLIBC version each needs.
func TestInspectCompiled(t *testing.T) {
	fx := fixtures(t)
	foreign, foreignName := foreignMachine()
	native := nativeArch()
	tests := []struct {
		name string
		data []byte
		want File
	}{
		{"needs228.so", fx["needs228.so"], File{Machine: native, Libc: Glibc, LibcMark: "needs libc.so.6", Glibc: "2.28"}},
		// GLIBC_ABI_DT_RELR is glibc 2.36's; GLIBC_2.2.5 and GLIBC_PRIVATE are below it or not versions.
		{"relr.so", fx["relr.so"], File{Machine: native, Libc: Glibc, LibcMark: "needs libc.so.6", Glibc: "2.36"}},
		{"musl-exe", fx["musl-exe"], File{Machine: native, Libc: Musl, LibcMark: "interpreter /lib/ld-musl-x86_64.so.1"}},
		{"musl.so", fx["musl.so"], File{Machine: native, Libc: Musl, LibcMark: "needs libc.musl-x86_64.so.1"}},
		{"static", fx["static"], File{Machine: native}},
		// The same library made for another CPU: only e_machine differs.
		{"foreign.so", patched(fx["needs228.so"], offMachine, 2, uint64(foreign)), File{Machine: foreignName, Libc: Glibc, LibcMark: "needs libc.so.6", Glibc: "2.28"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, isELF := inspectBytes(t, tt.name, tt.data)
			tt.want.Name = tt.name
			if !isELF || got != tt.want {
				t.Errorf("Inspect = %+v, %v\nwant %+v, true", got, isELF, tt.want)
			}
		})
	}
}

// TestInspectHello reads a program linked the ordinary way against the machine's
// glibc: its floor is the machine's (2.34 for __libc_start_main on glibc 2.34 and
// later), and a program with a musl interpreter that also needs libc.so.6 is both.
func TestInspectHello(t *testing.T) {
	fx := fixtures(t)
	f, _ := inspectBytes(t, "hello", fx["hello"])
	if f.Machine != nativeArch() || f.Libc != Glibc || !strings.HasPrefix(f.LibcMark, "interpreter /lib") {
		t.Errorf("hello = %+v, want %s, glibc by its interpreter", f, nativeArch())
	}
	if c, err := CompareGlibc(f.Glibc, "2.2.5"); err != nil || c < 0 {
		t.Errorf("hello needs GLIBC %q, want a version of at least 2.2.5 (%v)", f.Glibc, err)
	}
	m, _ := inspectBytes(t, "mixed", fx["mixed"])
	if m.Libc != Mixed || !strings.Contains(m.LibcMark, "needs libc.so.6") || !strings.Contains(m.LibcMark, "interpreter /lib/ld-musl-x86_64.so.1") {
		t.Errorf("mixed = %+v, want both marks", m)
	}
}

// TestInspectCrafted reads headers made byte by byte: machines of both classes
// and a musl interpreter on arm64, with no compiler.
func TestInspectCrafted(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want File
	}{
		{"arm64", crafted(64, elf.EM_AARCH64, ""), File{Machine: "arm64"}},
		{"arm64-musl", crafted(64, elf.EM_AARCH64, "/lib/ld-musl-aarch64.so.1"), File{Machine: "arm64", Libc: Musl, LibcMark: "interpreter /lib/ld-musl-aarch64.so.1"}},
		{"arm64-glibc", crafted(64, elf.EM_AARCH64, "/lib/ld-linux-aarch64.so.1"), File{Machine: "arm64", Libc: Glibc, LibcMark: "interpreter /lib/ld-linux-aarch64.so.1"}},
		{"ppc64le-glibc", crafted(64, elf.EM_PPC64, "/lib64/ld64.so.2"), File{Machine: "ppc64le", Libc: Glibc, LibcMark: "interpreter /lib64/ld64.so.2"}},
		{"x64", crafted(64, elf.EM_X86_64, ""), File{Machine: "amd64"}},
		{"armhf", crafted(32, elf.EM_ARM, "/lib/ld-linux-armhf.so.3"), File{Machine: "arm", Libc: Glibc, LibcMark: "interpreter /lib/ld-linux-armhf.so.3"}},
		{"i386", crafted(32, elf.EM_386, ""), File{Machine: "386"}},
		// x32: an x86-64 CPU, but not the amd64 ABI.
		{"x32", crafted(32, elf.EM_X86_64, ""), File{Machine: "EM_X86_64/ELFCLASS32/ELFDATA2LSB"}},
		{"android", crafted(64, elf.EM_AARCH64, "/system/bin/linker64"), File{Machine: "arm64"}},
		{"control-interp", crafted(64, elf.EM_X86_64, "/lib/ld-musl-\x1b[31m.so.1"), File{Machine: "amd64", Libc: Musl, LibcMark: `interpreter "/lib/ld-musl-\x1b[31m.so.1"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, isELF := inspectBytes(t, tt.name, tt.data)
			tt.want.Name = tt.name
			if !isELF || got != tt.want {
				t.Errorf("Inspect = %+v, %v\nwant %+v, true", got, isELF, tt.want)
			}
		})
	}
}

// TestInspectNotELF: files without the magic are not ELF, and only their first
// bytes are read.
func TestInspectNotELF(t *testing.T) {
	for _, data := range []string{"", "\x7fEL", "#!/bin/sh\necho hi\n", "\x7fELx" + strings.Repeat("x", 100)} {
		r := &countingReaderAt{r: strings.NewReader(data)}
		f, isELF, err := Inspect("f", r, int64(len(data)))
		if err != nil || isELF || f != (File{}) || r.n > 4 {
			t.Errorf("Inspect(%q) = %+v, %v, %v after reading %d bytes; want not ELF after at most 4", data, f, isELF, err, r.n)
		}
	}
}

// TestInspectUnreadable: a file with the ELF magic that cannot be read within
// the bounds is reported, with the reason, never skipped and never a panic.
func TestInspectUnreadable(t *testing.T) {
	fx := fixtures(t)
	hello := fx["hello"]
	noSections := patched(patched(patched(hello, offShoff, 8, 0), offShnum, 2, 0), offShstrndx, 2, 0)
	// e_shnum 0 with e_shoff set: the count is section 0's sh_size, here 2^40.
	shoff := int(binary.LittleEndian.Uint64(hello[offShoff:]))
	manySections := patched(patched(hello, offShnum, 2, 0), shoff+0x20, 8, 1<<40)
	bigDynstr := patched(hello, sectionHeaderOffset(t, hello, ".dynstr")+0x20, 8, 1<<34)
	compressed := patched(hello, sectionHeaderOffset(t, hello, ".gnu.version_r")+0x08, 8, uint64(elf.SHF_ALLOC|elf.SHF_COMPRESSED))
	badStrtab := patched(hello, sectionHeaderOffset(t, hello, ".dynamic")+0x28, 4, 0) // sh_link 0
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", hello[:100], "program headers at offset 64 do not fit in the file's 100 bytes"},
		{"truncated in the sections", hello[:len(hello)-200], "do not fit in the file"},
		{"header only", hello[:40], "ELF header is truncated"},
		{"no section headers", noSections, "dynamic segment but no dynamic section"},
		{"sections claimed", manySections, "claims 1099511627776 sections, more than 65535"},
		{"big dynstr", bigDynstr, `section ".dynstr" (17179869184 bytes at offset `},
		{"compressed", compressed, `section ".gnu.version_r" is compressed`},
		{"dynamic without strings", badStrtab, "its dynamic section links to no string table"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, isELF := inspectBytes(t, tt.name, tt.data)
			if !isELF || !strings.Contains(f.Unreadable, tt.want) || f.Machine != "" {
				t.Errorf("Inspect = %+v, %v; want unreadable with %q", f, isELF, tt.want)
			}
		})
	}
}

// TestInspectBoundsReads: whatever sizes a file claims, Inspect reads at most its
// budget, so memory per file is bounded.
func TestInspectBoundsReads(t *testing.T) {
	fx := fixtures(t)
	hello := fx["hello"]
	// A 64 GiB file whose .dynstr claims 16 GiB of it.
	huge := patched(hello, sectionHeaderOffset(t, hello, ".dynstr")+0x20, 8, 1<<34)
	r := &countingReaderAt{r: hugeFile{huge}}
	f, _, _ := Inspect("huge", r, 1<<36)
	if !strings.Contains(f.Unreadable, `section ".dynstr" is 17179869184 bytes, more than 33554432`) || r.n > 1<<20 {
		t.Errorf("Inspect of a claimed 16 GiB section = %+v after %d bytes; want unreadable after at most 1 MiB", f, r.n)
	}

	defer func(b int64) { readBudget = b }(readBudget)
	readBudget = 1024
	r = &countingReaderAt{r: bytes.NewReader(hello)}
	f, _, _ = Inspect("hello", r, int64(len(hello)))
	if want := "more than 1024 bytes of headers and sections"; !strings.Contains(f.Unreadable, want) || r.n > 1024+4 {
		t.Errorf("Inspect with a budget of 1024 = %+v after %d bytes; want %q within 1028", f, r.n, want)
	}
}

// TestInspectReadError: an error reading the first bytes is the caller's, not the file's.
func TestInspectReadError(t *testing.T) {
	_, _, err := Inspect("f", failingReaderAt{}, 100)
	if err == nil || !strings.Contains(err.Error(), "reading f") {
		t.Errorf("Inspect of a failing reader: %v, want an error naming the file", err)
	}
}

type failingReaderAt struct{}

func (failingReaderAt) ReadAt([]byte, int64) (int, error) { return 0, io.ErrClosedPipe }

// TestVersionNeedsBounded: entries that each link to the next, so that every
// entry starts a chain through all later ones, make at most one step per
// 16-byte entry, not a quadratic walk.
func TestVersionNeedsBounded(t *testing.T) {
	const n = 4096
	entry := make([]byte, 16)
	le := binary.LittleEndian
	le.PutUint16(entry[0:], 1)      // vn_version
	le.PutUint16(entry[2:], 0xffff) // vn_cnt
	le.PutUint32(entry[8:], 16)     // vn_aux, and vna_name as a Vernaux
	le.PutUint32(entry[12:], 16)    // vn_next, and vna_next
	d := bytes.Repeat(entry, n)
	le.PutUint32(d[len(d)-4:], 0) // the chains end: without the bound, n*(n-1)/2 names and no error
	str := append(bytes.Repeat([]byte("x"), 16), "GLIBC_2.99\x00"...)
	calls := 0
	err := versionNeeds(le, d, str, func([]byte) { calls++ })
	if err == nil || !strings.Contains(err.Error(), "overlaps another") || calls > n {
		t.Errorf("versionNeeds: %v after %d names; want an error after at most %d", err, calls, n)
	}
}
