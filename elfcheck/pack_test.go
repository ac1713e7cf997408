package elfcheck

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/matrixbuild/matrix/pack"
)

// TestScannerInPack wires Scanner.Add into the packer as the runner does: an ELF
// file and a symlink to it in a container's tar stream are each reported once,
// by archive name, from the packer's spool.
func TestScannerInPack(t *testing.T) {
	lib := fixtures(t)["needs228.so"]
	var in bytes.Buffer
	tw := tar.NewWriter(&in)
	for _, h := range []*tar.Header{
		{Name: "node_modules/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "node_modules/sharp.node", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(lib))},
		{Name: "node_modules/README", Typeflag: tar.TypeReg, Mode: 0o644, Size: 2},
		{Name: "node_modules/link.node", Typeflag: tar.TypeSymlink, Linkname: "sharp.node"},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		switch h.Size {
		case 2:
			tw.Write([]byte("hi"))
		case int64(len(lib)):
			tw.Write(lib)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	var s Scanner
	_, err := pack.Write(context.Background(), io.Discard, &in, pack.Options{Format: "zip", Prefix: "nodejs/", TempDir: t.TempDir(), Inspect: s.Add})
	if err != nil {
		t.Fatal(err)
	}
	r := s.Report()
	if len(r.Files) != 2 || r.Files[0].Name != "nodejs/node_modules/link.node" || r.Files[1].Name != "nodejs/node_modules/sharp.node" ||
		r.GlibcFloor != "2.28" || r.FloorFile != "nodejs/node_modules/link.node" {
		t.Errorf("Report = %+v", r)
	}
	want := "nodejs/node_modules/link.node needs GLIBC_2.28; the runtime has 2.26\nnodejs/node_modules/sharp.node needs GLIBC_2.28; the runtime has 2.26"
	if err := r.Check(Target{Glibc: "2.26"}); err == nil || err.Error() != want {
		t.Errorf("Check: %v\nwant:\n%s", err, want)
	}
}
