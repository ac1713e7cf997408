package pack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/internal/filename"
)

// Result describes an archive written by WriteFile.
type Result struct {
	Stats
	SHA256 string // hex digest of the file
	Size   int64  // bytes of the file
}

// WriteFile writes the archive of r to dir/name atomically: it is written to
// a temporary file ".name.tmp-*" in dir, hashed while written, synced, and
// renamed over dir/name. On any error, including a cancelled ctx, the
// temporary file is removed and dir/name is left as it was. name must be a
// plain file name. Contents are spooled in dir unless opts.TempDir says otherwise.
func WriteFile(ctx context.Context, dir, name string, r io.Reader, opts Options) (res Result, err error) {
	if err := filename.Check(name); err != nil {
		return Result{}, fmt.Errorf("pack: %w", err)
	}
	if opts.TempDir == "" {
		opts.TempDir = dir
	}
	f, err := atomicfile.Create(dir, name)
	if err != nil {
		return Result{}, fmt.Errorf("pack: %w", err)
	}
	defer f.Abort()
	res, err = WriteHashed(ctx, f, r, opts)
	if err != nil {
		return Result{}, err
	}
	if err := f.Commit(); err != nil {
		return Result{}, fmt.Errorf("pack: %w", err)
	}
	return res, nil
}

// WriteHashed is Write that also returns the sha256 and size of what it wrote to w.
func WriteHashed(ctx context.Context, w io.Writer, r io.Reader, opts Options) (Result, error) {
	h := sha256.New()
	cw := &countingWriter{w: io.MultiWriter(w, h)}
	st, err := Write(ctx, cw, r, opts)
	if err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	return Result{Stats: st, SHA256: hex.EncodeToString(h.Sum(nil)), Size: cw.n}, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// EpochFromEnv returns the time given by SOURCE_DATE_EPOCH (decimal seconds
// since 1970-01-01 UTC, https://reproducible-builds.org/specs/source-date-epoch/)
// in environ, a list of "KEY=value" strings as os.Environ returns; DefaultEpoch
// when it is unset or empty.
func EpochFromEnv(environ []string) (time.Time, error) {
	v := ""
	for _, kv := range environ {
		if s, ok := strings.CutPrefix(kv, "SOURCE_DATE_EPOCH="); ok {
			v = s // the last one wins, as in exec.Cmd.Env
		}
	}
	if v == "" {
		return DefaultEpoch, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n >= 1<<33 {
		return time.Time{}, errors.New("pack: SOURCE_DATE_EPOCH=" + strconv.Quote(v) + " is not a number of seconds since 1970 (0 to 8589934591)")
	}
	return time.Unix(n, 0).UTC(), nil
}
