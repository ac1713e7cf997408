package pack

import (
	"archive/tar"
	"archive/zip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/pgzip"
)

// Compression settings; changing any of them changes output bytes (FormatVersion).
const (
	compressionLevel = 6
	gzipBlockSize    = 1 << 20
)

// writeArchive writes the items of p, with contents read from spool, to w.
func writeArchive(ctx context.Context, w io.Writer, spool io.ReaderAt, p *plan, opts Options) error {
	var err error
	buf := make([]byte, 64<<10) // one copy buffer for all files
	if opts.Format == "zip" {
		err = writeZip(ctx, w, spool, p, opts, buf)
	} else {
		err = writeTarGz(ctx, w, spool, p, opts, buf)
	}
	if err != nil && ctx.Err() == nil {
		err = fmt.Errorf("pack: writing %s: %w", opts.Format, err)
	}
	return err
}

func mode(it item) int64 {
	if it.dir || it.exec {
		return 0o755
	}
	return 0o644
}

func writeTarGz(ctx context.Context, w io.Writer, spool io.ReaderAt, p *plan, opts Options, buf []byte) error {
	gz, err := pgzip.NewWriterLevel(w, compressionLevel)
	if err != nil {
		return err
	}
	// Blocks are cut at fixed offsets whatever the concurrency, so the bytes do
	// not depend on GOMAXPROCS.
	if err := gz.SetConcurrency(gzipBlockSize, 4); err != nil {
		return err
	}
	gz.ModTime = time.Unix(0, 0) // MTIME 0: no time stamp
	gz.OS = 255                  // unknown
	tw := tar.NewWriter(gz)
	for _, it := range p.items {
		if err := ctx.Err(); err != nil {
			gz.Close()
			return err
		}
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     it.name,
			Mode:     mode(it),
			ModTime:  opts.Epoch,
		}
		if it.dir {
			hdr.Typeflag = tar.TypeDir
			hdr.Name += "/"
		} else {
			hdr.Size = it.src.size
		}
		if err := tw.WriteHeader(hdr); err != nil {
			gz.Close()
			return fmt.Errorf("%s: %w", it.name, err)
		}
		if !it.dir {
			if _, err := io.CopyBuffer(tw, io.NewSectionReader(spool, it.src.off, it.src.size), buf); err != nil {
				gz.Close()
				return fmt.Errorf("%s: %w", it.name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		gz.Close()
		return err
	}
	return gz.Close()
}

func writeZip(ctx context.Context, w io.Writer, spool io.ReaderAt, p *plan, opts Options, buf []byte) error {
	zw := zip.NewWriter(w)
	// One compressor, reset per file: a new one per file allocates about 1 MB.
	var fw *flate.Writer
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		if fw == nil {
			var err error
			fw, err = flate.NewWriter(out, compressionLevel)
			return fw, err
		}
		fw.Reset(out)
		return fw, nil
	})
	for _, it := range p.items {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Modified sets the MS-DOS time and an extended timestamp, both from
		// the fixed epoch in UTC.
		fh := &zip.FileHeader{Name: it.name, Method: zip.Deflate, Modified: opts.Epoch}
		if it.dir {
			fh.Name += "/"
			fh.Method = zip.Store
			fh.SetMode(fs.ModeDir | 0o755)
		} else {
			fh.SetMode(fs.FileMode(mode(it)))
		}
		ew, err := zw.CreateHeader(fh)
		if err != nil {
			return fmt.Errorf("%s: %w", it.name, err)
		}
		if !it.dir {
			if _, err := io.CopyBuffer(ew, io.NewSectionReader(spool, it.src.off, it.src.size), buf); err != nil {
				return fmt.Errorf("%s: %w", it.name, err)
			}
		}
	}
	return zw.Close()
}
