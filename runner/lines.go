package runner

import (
	"bytes"
	"io"
	"strings"
	"sync"
)

// syncWriter serialises whole writes to w, so lines of parallel cells never interleave.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// lineWriter splits a stream into lines and hands each complete line (without its
// newline) to emit; Close flushes an unterminated last line. Lines longer than
// maxLine are cut, so a script printing without newlines cannot grow memory. It is
// safe for concurrent use: the engine's output copier may still be writing when the
// runner adds its own lines after a cancellation.
type lineWriter struct {
	mu   sync.Mutex
	buf  []byte
	emit func(line []byte)
}

const maxLine = 64 << 10

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			room := maxLine - len(l.buf)
			if len(p) > room {
				l.buf = append(l.buf, p[:room]...)
				l.flush()
				p = p[room:]
				continue
			}
			l.buf = append(l.buf, p...)
			break
		}
		l.buf = append(l.buf, p[:i]...)
		l.flush()
		p = p[i+1:]
	}
	return n, nil
}

func (l *lineWriter) flush() {
	l.emit(bytes.TrimSuffix(l.buf, []byte("\r")))
	l.buf = l.buf[:0]
}

// Flush emits an unterminated last line, so that what the tool writes next starts a
// line of its own instead of being appended to the container's output.
func (l *lineWriter) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
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

// redactor replaces secret values in a line with "***".
type redactor []string

func (r redactor) apply(line []byte) []byte {
	for _, s := range r {
		if s != "" && bytes.Contains(line, []byte(s)) {
			line = bytes.ReplaceAll(line, []byte(s), []byte("***"))
		}
	}
	return line
}
