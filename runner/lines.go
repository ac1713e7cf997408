package runner

import (
	"bytes"
	"strings"
	"sync"
)

// lineWriter redacts a stream, then splits it into lines and hands each complete
// line (without its newline) to emit; Flush emits an unterminated last line. The
// redaction works on the bytes before they are split (redactor), so a secret value
// is found whatever lines it spans, however the writes cut it and wherever a long line
// is cut. Lines longer than maxLine are cut, so a script printing without newlines
// cannot grow memory. It is safe for concurrent use: the engine's output copier may
// still be writing when the runner adds its own lines after a cancellation.
type lineWriter struct {
	mu     sync.Mutex
	redact filter
	max    int // longest line
	buf    []byte
	emit   func(line []byte)
}

const maxLine = 64 << 10

// newLineWriter returns a lineWriter that replaces the values of r, which may be nil.
func newLineWriter(r *redactor, emit func(line []byte)) *lineWriter {
	return &lineWriter{redact: filter{r: r}, max: maxLine, emit: emit}
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.redact.write(p, l.split)
	return len(p), nil
}

// split cuts redacted bytes into lines. A line is cut at max bytes whether or not its
// newline is in the same write, so the lines do not depend on how the stream was
// written.
func (l *lineWriter) split(p []byte) {
	for len(p) > 0 {
		room := l.max - len(l.buf)
		switch i := bytes.IndexByte(p[:min(len(p), room+1)], '\n'); {
		case i >= 0:
			l.buf = append(l.buf, p[:i]...)
			l.flush()
			p = p[i+1:]
		case len(p) <= room:
			l.buf = append(l.buf, p...)
			return
		default:
			l.buf = append(l.buf, p[:room]...)
			l.flush()
			p = p[room:]
		}
	}
}

func (l *lineWriter) flush() {
	l.emit(bytes.TrimSuffix(l.buf, []byte("\r")))
	l.buf = l.buf[:0]
}

// Flush passes on what the redaction holds back and emits an unterminated last line,
// so that what the tool writes next starts a line of its own instead of being
// appended to the container's output.
func (l *lineWriter) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.redact.flush(l.split)
	if len(l.buf) > 0 {
		l.flush()
	}
}

// Close flushes; the writer stays usable.
func (l *lineWriter) Close() error {
	l.Flush()
	return nil
}

// tail keeps the last n lines written to it.
type tail struct {
	mu    sync.Mutex
	n     int
	lines []string
}

func (t *tail) add(line []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, string(line))
	if len(t.lines) > t.n {
		t.lines = t.lines[len(t.lines)-t.n:]
	}
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}
