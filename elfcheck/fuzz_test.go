package elfcheck

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
)

// FuzzInspect: on any bytes, Inspect returns (never panics), reads at most its
// budget, and what it returns is consistent and survives a manifest's JSON.
// Seeds: headers made byte by byte and, where gcc is, the compiled files, whole
// and with each header field of theirs set to extreme values.
func FuzzInspect(f *testing.F) {
	f.Add(crafted(64, elf.EM_AARCH64, "/lib/ld-musl-aarch64.so.1"))
	f.Add(crafted(32, elf.EM_ARM, "/lib/ld-linux-armhf.so.3"))
	f.Add([]byte("\x7fELF"))
	for _, name := range []string{"needs228.so", "relr.so", "musl-exe", "hello"} {
		data := compiled()[name]
		if data == nil {
			continue
		}
		f.Add(data)
		for _, off := range []int{offShoff, offShnum, offShstrndx, 0x20 /* e_phoff */, 0x38 /* e_phnum */} {
			f.Add(patched(data, off, 2, 0xffff))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &countingReaderAt{r: bytes.NewReader(data)}
		got, isELF, err := Inspect("f", r, int64(len(data)))
		if err != nil {
			t.Fatalf("Inspect: %v (only a failing reader is an error)", err)
		}
		if r.n > readBudget+4 {
			t.Errorf("read %d bytes, more than the budget %d", r.n, readBudget)
		}
		if isELF != bytes.HasPrefix(data, elfMagic) {
			t.Fatalf("isELF = %v for %q...", isELF, data[:min(len(data), 4)])
		}
		if !isELF {
			return
		}
		if got.Unreadable == "" {
			if got.Machine == "" || !slices.Contains([]string{"", Glibc, Musl, Mixed}, got.Libc) || (got.Libc == "") != (got.LibcMark == "") {
				t.Errorf("inconsistent file: %+v", got)
			}
			if got.Glibc != "" {
				if _, err := ParseGlibc(got.Glibc); err != nil {
					t.Errorf("floor: %v", err)
				}
			}
		} else if got != (File{Name: "f", Unreadable: got.Unreadable}) {
			t.Errorf("an unreadable file with facts: %+v", got)
		}
		rep := NewReport([]File{got})
		_ = rep.Check(Target{Arch: "amd64", Glibc: "2.17"})
		_ = rep.Check(Target{Libc: Musl})
		data, err = json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		var back Report
		if err := json.Unmarshal(data, &back); err != nil || !reflect.DeepEqual(back, rep) {
			t.Errorf("JSON round trip: %+v, %v; want %+v", back, err, rep)
		}
	})
}
