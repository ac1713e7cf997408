package runner

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/plan"
)

// elfFile is a minimal ELF64 shared object made byte by byte: its machine and, when
// glibc is set, a version-needs section asking libc.so.6 for GLIBC_<glibc>, as a
// library linked against that glibc has. It needs no compiler.
func elfFile(machine elf.Machine, glibc string) []byte {
	le := binary.LittleEndian
	const ehsize, shentsize = 64, 64
	// Section contents after the header: .dynstr, .gnu.version_r, .shstrtab.
	dynstr := []byte("\x00libc.so.6\x00GLIBC_" + glibc + "\x00")
	verneed := make([]byte, 32)
	le.PutUint16(verneed[0:], 1)  // vn_version
	le.PutUint16(verneed[2:], 1)  // vn_cnt
	le.PutUint32(verneed[4:], 1)  // vn_file: "libc.so.6"
	le.PutUint32(verneed[8:], 16) // vn_aux
	le.PutUint32(verneed[16+8:], 11)
	shstr := []byte("\x00.dynstr\x00.gnu.version_r\x00.shstrtab\x00")
	type section struct {
		name, link uint32
		typ        elf.SectionType
		data       []byte
	}
	secs := []section{{name: 17 + 9, typ: elf.SHT_STRTAB, data: shstr}}
	if glibc != "" {
		secs = append([]section{
			{name: 1, typ: elf.SHT_STRTAB, data: dynstr},
			{name: 9, typ: elf.SHT_GNU_VERNEED, link: 1, data: verneed},
		}, secs...)
	}
	b := make([]byte, ehsize)
	offs := make([]int, len(secs))
	for i, s := range secs {
		offs[i] = len(b)
		b = append(b, s.data...)
	}
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	shoff := len(b)
	b = append(b, make([]byte, shentsize*(len(secs)+1))...)
	for i, s := range secs {
		sh := b[shoff+shentsize*(i+1):]
		le.PutUint32(sh[0:], s.name)
		le.PutUint32(sh[4:], uint32(s.typ))
		le.PutUint64(sh[24:], uint64(offs[i]))
		le.PutUint64(sh[32:], uint64(len(s.data)))
		le.PutUint32(sh[40:], s.link)
		le.PutUint64(sh[48:], 1)
	}
	copy(b, "\x7fELF")
	b[elf.EI_CLASS], b[elf.EI_DATA], b[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	le.PutUint16(b[16:], uint16(elf.ET_DYN))
	le.PutUint16(b[18:], uint16(machine))
	le.PutUint32(b[20:], uint32(elf.EV_CURRENT))
	le.PutUint64(b[0x28:], uint64(shoff))
	le.PutUint16(b[0x34:], ehsize)
	le.PutUint16(b[0x3a:], shentsize)
	le.PutUint16(b[0x3c:], uint16(len(secs)+1))
	le.PutUint16(b[0x3e:], uint16(len(secs))) // .shstrtab is the last
	return b
}

// elfExec is the fake engine whose builds collect files, by name.
type elfExec struct {
	fakeExec
	tree   map[string][]byte
	tested int
}

func (f *elfExec) Build(ctx context.Context, job executor.Job, collect func(io.Reader) error) (executor.Files, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range sortedKeys(f.tree) {
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(f.tree[name]))})
		tw.Write(f.tree[name])
	}
	tw.Close()
	return executor.Files{}, collect(&buf)
}

func (f *elfExec) Test(ctx context.Context, job executor.TestJob) error {
	f.tested++
	return nil
}

func sortedKeys(m map[string][]byte) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	return keys
}

// TestRunChecksELFFiles: an artifact whose ELF files do not fit the cell (another
// CPU, a newer glibc than the runtime's, another libc) fails before its test, naming
// the file and the versions, publishes nothing and records the report with the
// failure; one that fits records the report with the artifact.
func TestRunChecksELFFiles(t *testing.T) {
	const lib = "node_modules/@img/sharp-linux-x64/lib/sharp.node"
	tests := []struct {
		name    string
		cell    func(c *plan.Cell)
		tree    map[string][]byte
		wantErr []string // what the error says, the first naming a file in the archive; nil when the cell passes
		floor   string
	}{
		{
			name:    "wrong CPU",
			tree:    map[string][]byte{lib: elfFile(elf.EM_AARCH64, "")},
			wantErr: []string{lib + " is built for arm64; the cell's CPU is amd64"},
		},
		{
			name:    "wrong CPU of the platform",
			cell:    func(c *plan.Cell) { c.Image, c.Platform, c.CrossBuilt = "img-arm64", "linux/arm64", true },
			tree:    map[string][]byte{lib: elfFile(elf.EM_X86_64, "2.17")},
			wantErr: []string{lib + " is built for amd64; the cell's CPU is arm64"},
		},
		{
			name:    "wrong CPU of the npm block",
			cell:    func(c *plan.Cell) { c.Npm = &plan.Npm{Install: []string{"sharp"}, CPU: "arm64"} },
			tree:    map[string][]byte{lib: elfFile(elf.EM_X86_64, "")},
			wantErr: []string{lib + " is built for amd64; the cell's CPU is arm64"},
		},
		{
			name:  "the npm block's CPU",
			cell:  func(c *plan.Cell) { c.Npm = &plan.Npm{Install: []string{"sharp"}, CPU: "arm64"} },
			tree:  map[string][]byte{lib: elfFile(elf.EM_AARCH64, "2.17")},
			floor: "2.17",
		},
		{
			name:    "too new a glibc",
			cell:    func(c *plan.Cell) { c.Glibc = "2.26" },
			tree:    map[string][]byte{lib: elfFile(elf.EM_X86_64, "2.28"), "node_modules/ok.so": elfFile(elf.EM_X86_64, "2.17")},
			wantErr: []string{lib + " needs GLIBC_2.28; the runtime has 2.26"},
		},
		{
			name:    "glibc in a musl cell",
			cell:    func(c *plan.Cell) { c.Npm = &plan.Npm{Install: []string{"sharp"}, Libc: "musl"} },
			tree:    map[string][]byte{lib: elfFile(elf.EM_X86_64, "2.17")},
			wantErr: []string{lib + " is linked against glibc", "the cell's libc is musl"},
		},
		{
			name:  "fits",
			cell:  func(c *plan.Cell) { c.Glibc = "2.34" },
			tree:  map[string][]byte{lib: elfFile(elf.EM_X86_64, "2.28"), "node_modules/x.js": []byte("\x7fEL")},
			floor: "2.28",
		},
		{
			name: "ignored",
			cell: func(c *plan.Cell) { c.ELFIgnore = []string{"node_modules/@img/sharp-darwin-*"} },
			tree: map[string][]byte{
				"node_modules/@img/sharp-darwin-arm64/lib/sharp.node": elfFile(elf.EM_AARCH64, ""),
				lib: elfFile(elf.EM_X86_64, "2.17"),
			},
			floor: "2.17",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exec := &elfExec{tree: tt.tree}
			opts := options(t)
			cs := cells("a.zip")
			cs[0].Format = "zip" // errors name files as the archive does, under nodejs/; elf_ignore matches the tree's names
			cs[0].Test = &plan.Test{Image: "rt", Workdir: "/test", Script: "true", Timeout: time.Minute}
			if tt.cell != nil {
				tt.cell(&cs[0])
			}
			if cs[0].Platform != "" {
				cs[0].Test.Image, cs[0].Test.Platform = cs[0].Image, cs[0].Platform
			}
			results, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts)
			m, rerr := manifest.Read(opts.OutDir)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("run: %v", err)
				}
				a := m.Artifacts[0]
				if a.ELF == nil || a.ELF.GlibcFloor != tt.floor || len(a.ELF.Files) != 1 {
					t.Errorf("manifest's ELF = %+v, want one file and floor %s", a.ELF, tt.floor)
				}
				return
			}
			if err == nil {
				t.Fatal("run succeeded")
			}
			tt.wantErr[0] = "nodejs/" + tt.wantErr[0]
			for _, w := range tt.wantErr {
				if !strings.Contains(results[0].Err.Error(), w) {
					t.Errorf("error = %v\nwant it to say %q", results[0].Err, w)
				}
			}
			if exec.tested != 0 {
				t.Errorf("the artifact was tested %d times after its ELF check failed", exec.tested)
			}
			if got := artifactsOnDisk(t, opts.OutDir); len(got) != 0 {
				t.Errorf("artifact published: %v", got)
			}
			assertClean(t, opts.OutDir)
			if f := m.Failed[0]; f.ELF == nil || len(f.ELF.Files) == 0 || !strings.Contains(f.Error, tt.wantErr[0]) {
				t.Errorf("the failure's record = %+v, want the error and the ELF report", f)
			}
		})
	}
}
