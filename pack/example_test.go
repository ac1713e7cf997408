package pack_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/matrixbuild/matrix/pack"
)

// fixedStream is a small node_modules tree as Docker's copy-from-container
// API streams it, with a symlink in .bin and a hard link.
func fixedStream() *bytes.Reader {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, e := range []struct {
		typ        byte
		name, body string
		mode       int64
	}{
		{tar.TypeDir, "node_modules/", "", 0o775},
		{tar.TypeDir, "node_modules/pkg/", "", 0o775},
		{tar.TypeReg, "node_modules/pkg/package.json", `{"name":"pkg","version":"1.0.0"}`, 0o664},
		{tar.TypeReg, "node_modules/pkg/cli.js", "#!/usr/bin/env node\n", 0o775},
		{tar.TypeLink, "node_modules/pkg/copy.js", "node_modules/pkg/cli.js", 0o775},
		{tar.TypeDir, "node_modules/.bin/", "", 0o775},
		{tar.TypeSymlink, "node_modules/.bin/pkg", "../pkg/cli.js", 0o777},
	} {
		h := &tar.Header{Typeflag: e.typ, Name: e.name, Mode: e.mode, ModTime: mtime, Uid: 1000, Gid: 1000, Uname: "node"}
		switch e.typ {
		case tar.TypeReg:
			h.Size = int64(len(e.body))
		case tar.TypeLink, tar.TypeSymlink:
			h.Linkname, e.body = e.body, ""
		}
		if err := tw.WriteHeader(h); err != nil {
			log.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			log.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		log.Fatal(err)
	}
	return bytes.NewReader(buf.Bytes())
}

// The pinned digests fail this example whenever the output bytes change: then
// bump pack.FormatVersion and update them.
func ExampleWrite() {
	for _, opts := range []pack.Options{
		{Format: "tar.gz"},
		{Format: "zip", Prefix: "nodejs/"},
	} {
		var out bytes.Buffer
		st, err := pack.Write(context.Background(), &out, fixedStream(), opts)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %d entries, %d files, %d bytes of content\n", opts.Format, st.Entries, st.Files, st.ContentBytes)
		fmt.Printf("sha256:%x\n", sha256.Sum256(out.Bytes()))
		if dump := os.Getenv("PACK_EXAMPLE_DUMP"); dump != "" {
			os.WriteFile(dump+"."+opts.Format, out.Bytes(), 0o644)
		}
	}
	// Output:
	// tar.gz: 7 entries, 4 files, 92 bytes of content
	// sha256:7cab956f7df17ed0527032b03987bc4158f0ee0431c5236f192db5d6729aa6f0
	// zip: 8 entries, 4 files, 92 bytes of content
	// sha256:28c01a726224b2df895f94c61d7b265825e9b1d2c78c4518d3141f64e27532cc
}
