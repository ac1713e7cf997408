// Package ctxio makes a long read stoppable: a copy of a large file or stream ends
// with ctx, also within one file, instead of running to its end.
package ctxio

import (
	"context"
	"io"
)

// Reader reads from r until ctx is done; then every Read returns ctx's error.
func Reader(ctx context.Context, r io.Reader) io.Reader {
	return reader{ctx, r}
}

type reader struct {
	ctx context.Context
	r   io.Reader
}

func (c reader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
