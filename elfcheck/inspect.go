package elfcheck

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxRead bounds the bytes Inspect reads of one ELF file: its headers, its
// interpreter's name, its dynamic section, version needs and their string
// tables. Real libraries need kilobytes; a file that needs more fails as
// unreadable.
const MaxRead = 32 << 20

// readBudget is MaxRead, lowered by tests.
var readBudget int64 = MaxRead

// Limits checked before debug/elf allocates for what a header claims.
const (
	maxSections  = 1<<16 - 1
	maxInterpLen = 4096 // PATH_MAX
)

// The libc a file is linked against (File.Libc, Report.Libc, Target.Libc).
const (
	Glibc = "glibc"
	Musl  = "musl"
	Mixed = "glibc+musl" // a file or an artifact with both marks
)

// File is what one ELF file needs from the machine that loads it.
type File struct {
	Name string `json:"name"` // as the caller named it: the archive name
	// Machine is the CPU, as images name it (amd64, arm64, ...; see the package
	// documentation).
	Machine string `json:"machine,omitempty"`
	Libc    string `json:"libc,omitempty"` // Glibc, Musl, Mixed or "" (neither)
	// LibcMark says what makes Libc: `interpreter /lib/ld-musl-x86_64.so.1`,
	// `needs libc.so.6`; both, joined by "; ", when Mixed.
	LibcMark string `json:"libc_mark,omitempty"`
	Glibc    string `json:"glibc,omitempty"` // the highest GLIBC_x.y needed, "2.28"; "" none
	// Unreadable says why a file with the ELF magic could not be read; the
	// fields above are then empty, and the file fails every check.
	Unreadable string `json:"unreadable,omitempty"`
}

var elfMagic = []byte("\x7fELF")

// Inspect reads the ELF file of size bytes at r, named name in messages. isELF
// is false, and nothing past the first four bytes read, when r does not start
// with the ELF magic. A file that starts with it but cannot be read within the
// package's bounds is returned with File.Unreadable set; err is only an error
// reading those first four bytes.
func Inspect(name string, r io.ReaderAt, size int64) (f File, isELF bool, err error) {
	if size < int64(len(elfMagic)) {
		return File{}, false, nil
	}
	var magic [4]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil {
		return File{}, false, fmt.Errorf("elfcheck: reading %s: %w", name, err)
	}
	if !bytes.Equal(magic[:], elfMagic) {
		return File{}, false, nil
	}
	f = File{Name: name}
	b := &budget{r: io.NewSectionReader(r, 0, size), left: readBudget}
	if err := inspect(&f, b, size); err != nil {
		if b.exceeded {
			err = fmt.Errorf("reading it needs more than %d bytes of headers and sections", readBudget)
		}
		return File{Name: name, Unreadable: err.Error()}, true, nil
	}
	return f, true, nil
}

// budget is an io.ReaderAt that refuses to read more than left bytes in all.
type budget struct {
	r        io.ReaderAt
	left     int64
	exceeded bool
}

var errBudget = errors.New("read budget exceeded")

func (b *budget) ReadAt(p []byte, off int64) (int, error) {
	if int64(len(p)) > b.left {
		b.exceeded = true
		return 0, errBudget
	}
	b.left -= int64(len(p))
	return b.r.ReadAt(p, off)
}

func inspect(f *File, r *budget, size int64) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("malformed ELF file (the parser failed: %v)", p)
		}
	}()
	if err := checkHeader(r, size); err != nil {
		return err
	}
	ef, err := elf.NewFile(r)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the file ends inside its headers")
	}
	if err != nil {
		return fmt.Errorf("malformed ELF headers: %w", err)
	}
	f.Machine = machine(ef.FileHeader)
	marks := libcMarks{}

	for _, p := range ef.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		if p.Filesz > maxInterpLen {
			return fmt.Errorf("its interpreter's name is %d bytes, more than %d", p.Filesz, maxInterpLen)
		}
		buf := make([]byte, p.Filesz)
		if _, err := p.ReadAt(buf, 0); err != nil {
			return fmt.Errorf("reading its interpreter's name: %w", err)
		}
		interp, _, _ := bytes.Cut(buf, []byte{0})
		marks.interp(interp)
		break // the kernel uses the first
	}

	strtabs := map[uint32][]byte{} // string tables by section index, each read once
	strtab := func(what string, link uint32) ([]byte, error) {
		if t, ok := strtabs[link]; ok {
			return t, nil
		}
		if link == 0 || int(link) >= len(ef.Sections) || ef.Sections[link].Type != elf.SHT_STRTAB {
			return nil, fmt.Errorf("its %s section links to no string table (section %d)", what, link)
		}
		t, err := sectionData(ef.Sections[link], size)
		if err != nil {
			return nil, err
		}
		strtabs[link] = t
		return t, nil
	}

	dyn := ef.SectionByType(elf.SHT_DYNAMIC)
	if dyn == nil {
		for _, p := range ef.Progs {
			if p.Type == elf.PT_DYNAMIC {
				return errors.New("it has a dynamic segment but no dynamic section (section headers stripped?): what it needs cannot be read")
			}
		}
	} else {
		data, err := sectionData(dyn, size)
		if err != nil {
			return err
		}
		str, err := strtab("dynamic", dyn.Link)
		if err != nil {
			return err
		}
		if err := dynNeeded(ef, data, str, marks.needed); err != nil {
			return err
		}
	}

	if vn := ef.SectionByType(elf.SHT_GNU_VERNEED); vn != nil {
		data, err := sectionData(vn, size)
		if err != nil {
			return err
		}
		str, err := strtab("version needs", vn.Link)
		if err != nil {
			return err
		}
		var floor version
		err = versionNeeds(ef.ByteOrder, data, str, func(name []byte) {
			if v, ok := glibcVersion(name); ok && compare(v, floor) > 0 {
				floor = v
			}
		})
		if err != nil {
			return err
		}
		if len(floor) > 0 {
			f.Glibc = floor.String()
		}
		if f.Glibc != "" {
			marks.mark(&marks.glibc, "needs GLIBC_"+f.Glibc)
		}
	}
	f.Libc, f.LibcMark = marks.result()
	return nil
}

// checkHeader reads the ELF header and refuses, before debug/elf allocates for
// them, program or section header tables that do not fit in the file and
// section counts (which overflow into section 0's size) above maxSections.
func checkHeader(r io.ReaderAt, size int64) error {
	var h [64]byte
	n, err := r.ReadAt(h[:], 0)
	if n < 52 { // the smallest header, ELFCLASS32's
		return fmt.Errorf("its ELF header is truncated: %v", err)
	}
	var bo binary.ByteOrder
	switch elf.Data(h[elf.EI_DATA]) {
	case elf.ELFDATA2LSB:
		bo = binary.LittleEndian
	case elf.ELFDATA2MSB:
		bo = binary.BigEndian
	default:
		return fmt.Errorf("unknown ELF byte order %d", h[elf.EI_DATA])
	}
	var phoff, shoff uint64
	var fields int    // offset of e_phentsize, followed by e_phnum, e_shentsize, e_shnum
	var sizeOff int64 // of sh_size in a section header
	var sizeLen int
	switch elf.Class(h[elf.EI_CLASS]) {
	case elf.ELFCLASS32:
		phoff, shoff = uint64(bo.Uint32(h[0x1c:])), uint64(bo.Uint32(h[0x20:]))
		fields = 0x2a
		sizeOff, sizeLen = 0x14, 4
	case elf.ELFCLASS64:
		if n < 64 {
			return fmt.Errorf("its ELF header is truncated: %v", err)
		}
		phoff, shoff = bo.Uint64(h[0x20:]), bo.Uint64(h[0x28:])
		fields = 0x36
		sizeOff, sizeLen = 0x20, 8
	default:
		return fmt.Errorf("unknown ELF class %d", h[elf.EI_CLASS])
	}
	phentsize, phnum := uint64(bo.Uint16(h[fields:])), uint64(bo.Uint16(h[fields+2:]))
	shentsize, shnum := uint64(bo.Uint16(h[fields+4:])), uint64(bo.Uint16(h[fields+6:]))
	// All four are below 2^16 and offsets below 2^63 are checked first: no overflow.
	if phnum > 0 && (phoff > uint64(size) || phnum*phentsize > uint64(size)-phoff) {
		return fmt.Errorf("its %d program headers at offset %d do not fit in the file's %d bytes", phnum, phoff, size)
	}
	if shnum > 0 && (shoff > uint64(size) || shnum*shentsize > uint64(size)-shoff) {
		return fmt.Errorf("its %d section headers at offset %d do not fit in the file's %d bytes", shnum, shoff, size)
	}
	if shnum != 0 || shoff == 0 {
		return nil
	}
	if shoff > uint64(size) {
		return fmt.Errorf("its section headers are at offset %d, beyond any file", shoff)
	}
	var s [8]byte
	if _, err := r.ReadAt(s[:sizeLen], int64(shoff)+sizeOff); err != nil {
		return fmt.Errorf("reading the section count: %w", err)
	}
	count := uint64(bo.Uint32(s[:]))
	if sizeLen == 8 {
		count = bo.Uint64(s[:])
	}
	if count > maxSections {
		return fmt.Errorf("it claims %d sections, more than %d", count, maxSections)
	}
	if count*shentsize > uint64(size)-shoff {
		return fmt.Errorf("its %d section headers at offset %d do not fit in the file's %d bytes", count, shoff, size)
	}
	return nil
}

// sectionData reads a section that Inspect needs, refusing what could cost
// more than its bytes in the file.
func sectionData(s *elf.Section, size int64) ([]byte, error) {
	switch {
	case s.Type == elf.SHT_NOBITS:
		return nil, fmt.Errorf("its section %q has no bytes in the file", s.Name)
	case s.Offset > uint64(size) || s.FileSize > uint64(size)-s.Offset:
		return nil, fmt.Errorf("its section %q (%d bytes at offset %d) does not fit in the file's %d bytes", s.Name, s.FileSize, s.Offset, size)
	case s.Flags&elf.SHF_COMPRESSED != 0:
		return nil, fmt.Errorf("its section %q is compressed", s.Name)
	case s.Size > MaxRead:
		return nil, fmt.Errorf("its section %q is %d bytes, more than %d", s.Name, s.Size, MaxRead)
	}
	d, err := s.Data()
	if err != nil {
		return nil, fmt.Errorf("reading its section %q: %w", s.Name, err)
	}
	return d, nil
}

// dynNeeded calls fn with each DT_NEEDED name of a dynamic section's data.
func dynNeeded(ef *elf.File, d, str []byte, fn func(lib []byte)) error {
	size := 16
	if ef.Class == elf.ELFCLASS32 {
		size = 8
	}
	for ; len(d) >= size; d = d[size:] {
		var tag, val uint64
		if size == 8 {
			tag, val = uint64(ef.ByteOrder.Uint32(d)), uint64(ef.ByteOrder.Uint32(d[4:]))
		} else {
			tag, val = ef.ByteOrder.Uint64(d), ef.ByteOrder.Uint64(d[8:])
		}
		if elf.DynTag(tag) == elf.DT_NULL {
			break
		}
		if elf.DynTag(tag) != elf.DT_NEEDED {
			continue
		}
		s, ok := cString(str, val)
		if !ok {
			return fmt.Errorf("a DT_NEEDED entry names offset %d, outside its string table", val)
		}
		fn(s)
	}
	return nil
}

// versionNeeds calls fn with the name of each version a version-needs section
// (Elf_Verneed entries, each with a chain of Elf_Vernaux) asks for. Entries
// are 16 bytes and do not overlap in a real file: a chain that visits more
// entries than the section holds fails, so crafted offsets cannot make the
// walk quadratic.
func versionNeeds(bo binary.ByteOrder, d, str []byte, fn func(name []byte)) error {
	visits, most := 0, len(d)/16
	for i := uint64(0); ; {
		if visits++; visits > most || i+16 > uint64(len(d)) {
			return fmt.Errorf("its version needs are malformed: entry at offset %d is outside its section or overlaps another", i)
		}
		e := d[i:]
		if v := bo.Uint16(e); v != 1 {
			return fmt.Errorf("a version need at offset %d has version %d, not 1", i, v)
		}
		count, aux, next := bo.Uint16(e[2:]), uint64(bo.Uint32(e[8:])), uint64(bo.Uint32(e[12:]))
		for j, k := i+aux, uint16(0); k < count; k++ {
			if visits++; visits > most || aux == 0 || j+16 > uint64(len(d)) {
				return fmt.Errorf("its version needs are malformed: entry at offset %d is outside its section or overlaps another", j)
			}
			a := d[j:]
			name, ok := cString(str, uint64(bo.Uint32(a[8:])))
			if !ok {
				return fmt.Errorf("a version need's entry at offset %d names a string outside its string table", j)
			}
			fn(name)
			step := uint64(bo.Uint32(a[12:]))
			if step == 0 {
				break
			}
			j += step
		}
		if next == 0 {
			return nil
		}
		i += next
	}
}

// cString is the NUL-terminated string at off in a string table, not copied.
func cString(tab []byte, off uint64) ([]byte, bool) {
	if off >= uint64(len(tab)) {
		return nil, false
	}
	s, _, ok := bytes.Cut(tab[off:], []byte{0})
	return s, ok
}

// libcMarks keeps the first mark of each libc a file shows.
type libcMarks struct{ glibc, musl string }

// maxShown bounds a name from the file quoted in a mark.
const maxShown = 256

// shown is a name from the file as a message may quote it: at most maxShown
// bytes, and quoted when it holds anything but printable UTF-8.
func shown(b []byte) string {
	s, more := string(b), ""
	if len(s) > maxShown {
		s, more = s[:maxShown], "..."
	}
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) {
		s = strconv.Quote(s)
	}
	return s + more
}

func (m *libcMarks) interp(p []byte) {
	base := p[bytes.LastIndexByte(p, '/')+1:]
	switch {
	case bytes.HasPrefix(base, []byte("ld-musl-")):
		m.mark(&m.musl, "interpreter "+shown(p))
	case bytes.HasPrefix(base, []byte("ld-linux")), bytes.HasPrefix(base, []byte("ld64.so.")):
		m.mark(&m.glibc, "interpreter "+shown(p))
	}
}

func (m *libcMarks) needed(lib []byte) {
	switch {
	case bytes.HasPrefix(lib, []byte("libc.musl-")) && bytes.HasSuffix(lib, []byte(".so.1")), string(lib) == "libc.so":
		m.mark(&m.musl, "needs "+shown(lib))
	case string(lib) == "libc.so.6":
		m.mark(&m.glibc, "needs libc.so.6")
	}
}

func (m *libcMarks) mark(first *string, s string) {
	if *first == "" {
		*first = s
	}
}

func (m *libcMarks) result() (libc, mark string) {
	switch {
	case m.glibc != "" && m.musl != "":
		return Mixed, m.glibc + "; " + m.musl
	case m.glibc != "":
		return Glibc, m.glibc
	case m.musl != "":
		return Musl, m.musl
	}
	return "", ""
}

// machine names a file's CPU as images name it.
func machine(h elf.FileHeader) string {
	type key struct {
		m elf.Machine
		c elf.Class
		d elf.Data
	}
	const lsb, msb, c32, c64 = elf.ELFDATA2LSB, elf.ELFDATA2MSB, elf.ELFCLASS32, elf.ELFCLASS64
	names := map[key]string{
		{elf.EM_X86_64, c64, lsb}:    "amd64",
		{elf.EM_AARCH64, c64, lsb}:   "arm64",
		{elf.EM_ARM, c32, lsb}:       "arm",
		{elf.EM_386, c32, lsb}:       "386",
		{elf.EM_PPC64, c64, lsb}:     "ppc64le",
		{elf.EM_S390, c64, msb}:      "s390x",
		{elf.EM_RISCV, c64, lsb}:     "riscv64",
		{elf.EM_LOONGARCH, c64, lsb}: "loong64",
		{elf.EM_MIPS, c32, msb}:      "mips",
		{elf.EM_MIPS, c32, lsb}:      "mipsle",
		{elf.EM_MIPS, c64, lsb}:      "mips64le",
	}
	if n, ok := names[key{h.Machine, h.Class, h.Data}]; ok {
		return n
	}
	return h.Machine.String() + "/" + h.Class.String() + "/" + h.Data.String()
}
