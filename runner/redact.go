package runner

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// minSecretLen is the shortest pass_env value a cell accepts, leading and trailing
// white space aside. Redacting a shorter value would replace every such byte or pair
// in the log, and the pattern of "***" would show what the value is.
const minSecretLen = 4

// redactMark is what a secret value reads as in the log.
const redactMark = "***"

// checkSecret refuses a pass_env value that cannot be redacted; name is the
// variable's, and the error never holds the value. An empty value is passed: there
// is nothing in it to leak. A value that is not valid UTF-8 is refused since the
// engine's JSON API hands the container U+FFFD for each bad byte, so what the
// container prints never matches the host's bytes; a NUL byte cannot reach a
// process's environment at all (a C string ends there).
func checkSecret(name, value string) error {
	switch {
	case strings.IndexByte(value, 0) >= 0:
		return fmt.Errorf("pass_env %s: its value on this host holds a NUL byte, which no environment can carry; "+
			"matrix refuses it rather than pass part of it", name)
	case !utf8.ValidString(value):
		return fmt.Errorf("pass_env %s: its value on this host is not valid UTF-8; "+
			"matrix refuses it, since the engine would hand the container U+FFFD for its bad bytes, "+
			"so what the script prints of it would not match the value and could not be redacted: "+
			"pass the value encoded (base64, say) and decode it in the script", name)
	}
	if value != "" && len(secretText(value)) < minSecretLen {
		return fmt.Errorf("pass_env %s: its value on this host is shorter than %d bytes (white space at its ends aside); "+
			"matrix refuses it, since redacting it would turn every occurrence of those bytes in the log into %s and so show it: "+
			"pass a longer secret, or put a value that is not secret in env", name, minSecretLen, redactMark)
	}
	return nil
}

// redactorFor compiles what is redacted of pass_env values: each value without the
// white space at its ends (so a value read with a trailing newline is still found
// when printed without it) and, for a value of several lines, each of its lines of
// at least minSecretLen bytes, since a script may print such a value indented,
// JSON-escaped or unquoted (echo $KEY joins its lines with spaces). Values shorter than
// minSecretLen are left out: checkSecret refuses them before a container starts.
func redactorFor(values []string) *redactor {
	var patterns []string
	for _, v := range values {
		if v = secretText(v); len(v) < minSecretLen {
			continue
		}
		patterns = append(patterns, v)
		if !strings.Contains(v, "\n") {
			continue
		}
		for line := range strings.SplitSeq(v, "\n") {
			if line = strings.TrimSpace(line); len(line) >= minSecretLen {
				patterns = append(patterns, line)
			}
		}
	}
	return newRedactor(patterns)
}

// secretText is what of a value is redacted as a whole: its "\r\n" line ends made
// "\n", as the filter reads the stream, and the white space at its ends left out.
func secretText(v string) string {
	return strings.TrimSpace(normalizeNewlines(v))
}

// redactor is a compiled set of byte strings to replace with redactMark: an
// Aho–Corasick automaton, so a byte of output costs about the same for one value as
// for a thousand. Where values overlap, the longest one starting at the leftmost
// position is replaced, then the scan goes on after it (so with "abc" and "bcd",
// "abcd" reads "***d"). The same holds for the redactor's input, which has every run
// of '\r' before '\n' dropped, as the log drops it: a value is found whether it was
// printed with "\n" or "\r\n" line ends. A redactor is immutable; filter is the state
// of one stream through it.
type redactor struct {
	root   [256]int32 // the root's transitions, dense
	starts [256]bool  // the bytes a filter must look at from the root: first bytes of values, and '\r'
	states []acState
}

type acState struct {
	edges []acEdge // to children in the trie of the values
	fail  int32    // the state of the longest proper suffix that is in the trie
	dict  int32    // the nearest state on the fail chain that ends a value; -1: none
	depth int32    // length of the prefix this state stands for
	word  bool     // a value ends here
	// open is the length of the longest suffix of the stream that a later byte could
	// still extend into a match: what a filter holds back.
	open int32
}

type acEdge struct {
	b    byte
	next int32
}

func newRedactor(patterns []string) *redactor {
	r := &redactor{states: []acState{{dict: -1}}}
	r.starts['\r'] = true
	for _, p := range patterns {
		p = normalizeNewlines(p)
		if p == "" {
			continue
		}
		s := int32(0)
		for i := 0; i < len(p); i++ {
			next := r.child(s, p[i])
			if next < 0 {
				next = int32(len(r.states))
				r.states = append(r.states, acState{depth: int32(i + 1), dict: -1})
				r.states[s].edges = append(r.states[s].edges, acEdge{p[i], next})
				if s == 0 {
					r.root[p[i]] = next
					r.starts[p[i]] = true
				}
			}
			s = next
		}
		r.states[s].word = true
	}
	// Breadth first, so that a state's fail state, which is shallower, is done before it.
	queue := []int32{0}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for _, e := range r.states[u].edges {
			f := int32(0)
			if u != 0 {
				f = r.step(r.states[u].fail, e.b)
			}
			st, fs := &r.states[e.next], r.states[f]
			st.fail = f
			st.dict = fs.dict
			if fs.word {
				st.dict = f
			}
			queue = append(queue, e.next)
		}
		st := &r.states[u]
		if len(st.edges) > 0 || u == 0 {
			st.open = st.depth
		} else {
			st.open = r.states[st.fail].open
		}
	}
	return r
}

// child is s's trie child by b, or -1.
func (r *redactor) child(s int32, b byte) int32 {
	for _, e := range r.states[s].edges {
		if e.b == b {
			return e.next
		}
	}
	return -1
}

// step is the automaton's transition from s by b.
func (r *redactor) step(s int32, b byte) int32 {
	for s != 0 {
		if next := r.child(s, b); next >= 0 {
			return next
		}
		s = r.states[s].fail
	}
	return r.root[b]
}

// String returns s redacted, as a stream that ends there.
func (r *redactor) String(s string) string {
	var f filter
	f.r = r
	var out strings.Builder
	sink := func(p []byte) { out.Write(p) }
	f.write([]byte(s), sink)
	f.flush(sink)
	return out.String()
}

// error returns err with its message redacted; errors.Is and errors.As still see err.
func (r *redactor) error(err error) error {
	if err == nil {
		return nil
	}
	return &redactedError{err: err, msg: r.String(err.Error())}
}

// redactedError is an error whose message may quote what a container printed or named.
type redactedError struct {
	err error
	msg string
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// filter is one stream through a redactor. It holds back only the bytes that may yet
// begin a match (fewer than the longest value), whatever the boundaries of the
// writes; flush decides them as if the stream ended.
type filter struct {
	r     *redactor
	state int32
	crs   int // '\r' bytes held: dropped if '\n' follows them
	// pending are the bytes not decided yet; longest[i] is the length of the longest
	// value found to start at pending[i] (0: none).
	pending []byte
	longest []int32
	out     []byte // decided, to pass on
}

// filterChunk bounds what a filter holds while it works through one large write.
const filterChunk = 32 << 10

// write passes p on to sink, redacted, except for what it holds back.
func (f *filter) write(p []byte, sink func([]byte)) {
	if f.r == nil {
		f.r = noSecrets
	}
	f.out = f.out[:0]
	for i := 0; i < len(p); {
		b := p[i]
		if f.state == 0 && f.crs == 0 && !f.r.starts[b] {
			// No value is under way and none starts with b: pass on the run of such bytes.
			f.decide(len(f.pending))
			j := i + 1
			for j < len(p) && !f.r.starts[p[j]] {
				j++
			}
			f.out = append(f.out, p[i:j]...)
			i = j
		} else {
			switch {
			case b == '\r':
				f.crs++
			case b == '\n':
				f.crs = 0 // as the log drops them
				f.put(b)
			default:
				f.putCRs()
				f.put(b)
			}
			i++
		}
		if len(f.out) >= filterChunk {
			sink(f.out)
			f.out = f.out[:0]
		}
	}
	f.decide(len(f.pending) - int(f.r.states[f.state].open))
	if len(f.out) > 0 {
		sink(f.out)
	}
}

// flush passes on all that is held; the filter starts afresh after it.
func (f *filter) flush(sink func([]byte)) {
	if f.r == nil {
		f.r = noSecrets
	}
	f.out = f.out[:0]
	f.putCRs()
	f.decide(len(f.pending))
	f.state = 0
	if len(f.out) > 0 {
		sink(f.out)
	}
}

func (f *filter) putCRs() {
	for ; f.crs > 0; f.crs-- {
		f.put('\r')
	}
}

// put appends b to pending and records the values that end with it.
func (f *filter) put(b byte) {
	f.pending = append(f.pending, b)
	f.longest = append(f.longest, 0)
	f.state = f.r.step(f.state, b)
	t := f.state
	if !f.r.states[t].word {
		t = f.r.states[t].dict
	}
	// Along the dict chain values get shorter and start later; a later byte can only
	// find a longer value at a start, so each one found is the longest yet.
	for ; t > 0; t = f.r.states[t].dict {
		if start := len(f.pending) - int(f.r.states[t].depth); start >= 0 {
			f.longest[start] = f.r.states[t].depth
		}
	}
	if len(f.pending) >= filterChunk {
		f.decide(len(f.pending) - int(f.r.states[f.state].open))
	}
}

// decide moves the pending bytes before limit, where no match can start any more, to
// out, redacted; a match that starts there is moved whole.
func (f *filter) decide(limit int) {
	i := 0
	for i < limit {
		if n := f.longest[i]; n > 0 {
			f.out = append(f.out, redactMark...)
			i += int(n)
		} else {
			f.out = append(f.out, f.pending[i])
			i++
		}
	}
	n := copy(f.pending, f.pending[i:])
	f.pending = f.pending[:n]
	copy(f.longest, f.longest[i:])
	f.longest = f.longest[:n]
}

var noSecrets = newRedactor(nil)

// normalizeNewlines drops each run of '\r' that comes before a '\n'.
func normalizeNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	var b strings.Builder
	crs := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\r':
			crs++
		case c == '\n':
			crs = 0
			b.WriteByte(c)
		default:
			b.WriteString(strings.Repeat("\r", crs))
			crs = 0
			b.WriteByte(c)
		}
	}
	b.WriteString(strings.Repeat("\r", crs))
	return b.String()
}
