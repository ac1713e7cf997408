package runner

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/plan"
)

// resolveTestImage makes the test image available and checks, before anything is
// built, that the artifact can be tested in it: an image of another platform than
// the artifact's would ship an untested artifact (and so would one this engine
// cannot run: runnable).
func resolveTestImage(ctx context.Context, exec executor.Executor, t plan.Test) (executor.Image, error) {
	img, err := exec.Resolve(ctx, t.Image, t.Platform)
	if err != nil {
		return executor.Image{}, fmt.Errorf("test image: %w", err)
	}
	if want := t.Platform; want != "" && !samePlatform(want, img.Platform()) {
		return executor.Image{}, fmt.Errorf("the artifact is for %s but the test image %s is %s: it would be shipped untested; "+
			"test it in an image of its platform, or declare cross_built = true to build it untested (the manifest says so)",
			want, img.Ref, img.Platform())
	}
	return img, nil
}

// test runs one test of the cell against the artifact in f (the staged one, or under
// --reuse the earlier one), in a fresh container of the resolved test image; a failed
// test is a *TestError holding its result.
func (b *cellBuild) test(ctx context.Context, run testRun, f *os.File) (*manifest.Test, error) {
	start := b.now()
	cell := b.cell
	cell.Test, cell.Tests = &run.test, nil // the executor runs cell.Test
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	res := &manifest.Test{Axes: testAxes(run.test), Image: manifestImage(run.img), Definition: run.def, RunID: b.id}
	if len(run.test.Axes) == 0 {
		res.Axes = nil
	}
	fmt.Fprintf(b.lines, "matrix: testing %s%s in %s (%s)\n", cell.Artifact, run.test.TestName(), run.img.Ref, run.img.ID)
	// The test's own last lines, for the manifest; the cell's log gets them too.
	own := &tail{n: tailLines}
	ownLines := newLineWriter(b.redact, own.add)
	err = b.exec.Test(ctx, executor.TestJob{
		RunID: b.id,
		Cell:  cell,
		Image: run.img,
		Tree: func() (io.ReadCloser, error) {
			rc, err := openTree(f, info.Size(), cell.Format)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", cell.Artifact, err)
			}
			return rc, nil
		},
		Log: io.MultiWriter(b.lines, ownLines),
	})
	b.lines.Flush() // the test's unterminated last line is its own
	ownLines.Flush()
	res.DurationSecs = b.now().Sub(start).Seconds()
	res.Output = own.String()
	if err != nil {
		return nil, &TestError{Result: res, Err: fmt.Errorf("test failed: %w", err)}
	}
	res.Passed = true
	fmt.Fprintf(b.lines, "matrix: test passed\n")
	return res, nil
}

// openTree returns the content of an artifact of format, the size bytes of f, as an
// uncompressed tar stream, the form the engine's copy-to-container API takes. Each
// call reads f afresh, so that a retried test gets the whole tree again.
func openTree(f io.ReaderAt, size int64, format string) (io.ReadCloser, error) {
	if format != "zip" {
		zr, err := gzip.NewReader(io.NewSectionReader(f, 0, size))
		if err != nil {
			return nil, err
		}
		return zr, nil
	}
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(zipToTar(zr, pw))
	}()
	return pr, nil
}

func zipToTar(zr *zip.Reader, w io.Writer) error {
	tw := tar.NewWriter(w)
	for _, zf := range zr.File {
		hdr := &tar.Header{Name: zf.Name, Mode: int64(zf.Mode().Perm()), Size: int64(zf.UncompressedSize64), Typeflag: tar.TypeReg}
		if zf.Mode().IsDir() {
			hdr.Typeflag, hdr.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeReg {
			rc, err := zf.Open()
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, rc)
			rc.Close()
			if err != nil {
				return err
			}
		}
	}
	return tw.Close()
}
