package runner

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/plan"
)

// pemKey is a made-up key of the shape of a PEM private key: header, 64-column
// base64 lines, footer.
func pemKey(t testing.TB) string {
	t.Helper()
	raw := make([]byte, 300)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(raw)
	var b strings.Builder
	b.WriteString("-----BEGIN PRIVATE KEY-----\n")
	for len(b64) > 64 {
		b.WriteString(b64[:64] + "\n")
		b64 = b64[64:]
	}
	b.WriteString(b64 + "\n-----END PRIVATE KEY-----\n")
	return b.String()
}

// TestRedactorLeftmostLongest pins what is replaced where values overlap, and which
// line ends count as the same.
func TestRedactorLeftmostLongest(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		in, want string
	}{
		{"none", nil, "a\r\nb\rc\r", "a\nb\rc\r"},
		{"one", []string{"tok"}, "a tok b tok", "a *** b ***"},
		{"adjacent", []string{"tok"}, "toktok", "******"},
		{"overlapping: the leftmost wins", []string{"abc", "bcd"}, "abcd", "***d"},
		{"a prefix of another: the longest wins", []string{"ab", "abcd"}, "abcde abx", "***e ***x"},
		{"a suffix of another", []string{"cd", "abcd"}, "abcd xcd", "*** x***"},
		{"inside another", []string{"bc", "abcd"}, "abcd abce", "*** a***e"},
		{"a later value after a committed one", []string{"ab", "cd", "abcde"}, "abcdx", "******x"},
		{"a failed long candidate leaves the shorter", []string{"ab", "abcdef"}, "abcdex", "***cdex"},
		{"one byte", []string{"x"}, "xyx", "***y***"},
		{"self-overlapping", []string{"aa"}, "aaaaa", "******a"},
		{"LF value printed with CRLF", []string{"a\nb"}, "1 a\r\nb 2", "1 *** 2"},
		{"CRLF value printed with LF", []string{"a\r\nb"}, "1 a\nb 2", "1 *** 2"},
		{"CRCRLF", []string{"a\nb"}, "a\r\r\nb", "***"},
		{"a lone CR is kept", []string{"a\nb"}, "a\rb\r", "a\rb\r"},
		{"a mark does not match again", []string{"***"}, "***", "***"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRedactor(tc.patterns)
			if got := r.String(tc.in); got != tc.want {
				t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
			}
			if got := string(redactReference(tc.patterns, []byte(tc.in))); got != tc.want {
				t.Errorf("reference: got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRedactorForForms: what of a pass_env value is redacted, beyond its exact bytes.
func TestRedactorForForms(t *testing.T) {
	key := pemKey(t)
	lines := strings.Split(strings.TrimSpace(key), "\n")
	quoted, _ := json.Marshal(key)
	tests := []struct {
		name string
		out  string
	}{
		{"cat", "before\n" + key + "after\n"},
		{"CRLF line ends", strings.ReplaceAll(key, "\n", "\r\n")},
		{"echo $KEY, unquoted", strings.Join(lines, " ") + "\n"},
		{"indented", "key: |\n  " + strings.Join(lines, "\n  ") + "\n"},
		{"JSON-escaped", `{"key":` + string(quoted) + "}\n"},
		{"without its trailing newline", strings.TrimSpace(key)},
	}
	r := redactorFor([]string{key})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := r.String(tc.out)
			for _, l := range lines[1 : len(lines)-1] {
				if strings.Contains(got, l) {
					t.Errorf("line %q of the key survives:\n%s", l, got)
				}
			}
		})
	}
	if got := redactorFor([]string{"  s3cret\n"}).String("[s3cret]"); got != "[***]" {
		t.Errorf("a value with white space at its ends: %q", got)
	}
	if got := redactorFor([]string{"{\n  \"k\": \"v4lue\"\n}"}).String("{ } v4lue"); got != "{ } v4lue" {
		t.Errorf("lines under %d bytes are redacted alone: %q", minSecretLen, got)
	}
}

func TestCheckSecret(t *testing.T) {
	for _, v := range []string{"x", "abc", "  ab  ", "\n", "   ", "a\r\n\r\n"} {
		err := checkSecret("TOKEN", v)
		if err == nil || !strings.Contains(err.Error(), "pass_env TOKEN") {
			t.Errorf("%q: err = %v, want a refusal naming the variable", v, err)
		}
	}
	for _, v := range []string{"", "abcd", "  abcd  ", "a\nbc"} {
		if err := checkSecret("TOKEN", v); err != nil {
			t.Errorf("%q: %v", v, err)
		}
	}
}

// lines collects what a lineWriter emits.
type lines struct{ got []string }

func (l *lines) add(line []byte) { l.got = append(l.got, string(line)) }

// TestLineWriterRedactsAcrossWritesAndCuts: a value written a byte at a time, one that
// spans lines, and one across the line cut at maxLine are all replaced.
func TestLineWriterRedactsAcrossWritesAndCuts(t *testing.T) {
	key := pemKey(t)
	const tok = "tok-0123456789"
	r := redactorFor([]string{key, tok})
	var out lines
	w := newLineWriter(r, out.add)
	for _, b := range []byte("a " + tok + " b\n" + key) {
		w.Write([]byte{b})
	}
	// The value straddles maxLine; redacted, the line is still longer than maxLine.
	long := strings.Repeat("x", maxLine-5) + tok + strings.Repeat("y", 10) + "\n"
	w.Write([]byte(long[:maxLine-1]))
	w.Write([]byte(long[maxLine-1:]))
	w.Write([]byte("tok-01234")) // a prefix, then the stream ends
	w.Flush()
	want := []string{"a *** b", "***", strings.Repeat("x", maxLine-5) + "***yy", strings.Repeat("y", 8), "tok-01234"}
	if strings.Join(out.got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines %.80q, want %.80q", out.got, want)
	}
}

// TestLineWriterCutDoesNotDependOnWrites: a line longer than max is cut at max also
// when its newline comes in the same write.
func TestLineWriterCutDoesNotDependOnWrites(t *testing.T) {
	for _, chunk := range []int{1, 3, 100} {
		var out lines
		w := &lineWriter{max: 4, emit: out.add}
		in := []byte("abcdefghij\nabcd\nab\r\n")
		for p := in; len(p) > 0; p = p[min(chunk, len(p)):] {
			w.Write(p[:min(chunk, len(p))])
		}
		w.Flush()
		if got := strings.Join(out.got, "|"); got != "abcd|efgh|ij|abcd|ab" {
			t.Errorf("writes of %d: %q", chunk, got)
		}
	}
}

// TestRunRedactsEveryShape runs cells whose output holds a pass_env value in each
// shape: spanning lines, across the line cut, in a failed script's last lines, in an
// error naming an entry, in a test's output. None reaches the log, the progress
// output, the manifest or the error.
func TestRunRedactsEveryShape(t *testing.T) {
	key := pemKey(t)
	const tok = "npm_t0ken-value"
	exec := &fakeExec{
		behave: func(ctx context.Context, job executor.Job, _ int) error {
			fmt.Fprint(job.Log, key)
			fmt.Fprint(job.Log, strings.Repeat("x", maxLine-7)+tok+"\n")
			switch job.Cell.Artifact {
			case "script.tar.gz":
				fmt.Fprintf(job.Log, "npm ERR! auth %s\n", tok)
				return &executor.ExitError{Code: 1}
			case "entry.tar.gz":
				return fmt.Errorf("collected entry out/%s is a fifo", tok)
			}
			return nil
		},
		test: func(ctx context.Context, job executor.TestJob) error {
			fmt.Fprintf(job.Log, "test sees %s\n", key)
			return nil
		},
	}
	opts := options(t)
	opts.KeepGoing = true
	var progress bytes.Buffer
	opts.Progress = &progress
	opts.Environ = []string{"KEY=" + key, "TOKEN=" + tok}
	cs := cells("script.tar.gz", "entry.tar.gz", "tested.tar.gz")
	for i := range cs {
		cs[i].PassEnv = []string{"KEY", "TOKEN"}
	}
	cs[2].Test = &plan.Test{Image: "rt", Workdir: "/test", Script: "node -e 1", Timeout: time.Minute}
	results, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts)
	if err == nil {
		t.Fatal("no error")
	}
	texts := map[string]string{"progress": progress.String(), "error": err.Error()}
	for _, res := range results {
		if res.Err != nil {
			texts[res.Cell.Artifact+" error"] = res.Err.Error()
		}
	}
	for _, name := range []string{"logs/script.tar.gz.log", "logs/entry.tar.gz.log", "logs/tested.tar.gz.log", "manifest.json"} {
		data, err := os.ReadFile(filepath.Join(opts.OutDir, name))
		if err != nil {
			t.Fatal(err)
		}
		texts[name] = string(data)
	}
	m, err := manifest.Read(opts.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Artifacts) != 1 || m.Artifacts[0].Test == nil || !strings.Contains(m.Artifacts[0].Test.Output, "test sees ***") {
		t.Errorf("the manifest does not record the test's redacted output: %+v", m.Artifacts)
	}
	for name, s := range texts {
		assertRedacted(t, name, s, key, tok)
	}
	if !strings.Contains(texts["script.tar.gz error"], "npm ERR! auth ***") {
		t.Errorf("the script's error lacks its redacted last line:\n%s", texts["script.tar.gz error"])
	}
}

// assertRedacted fails when s holds a secret or a line of one.
func assertRedacted(t *testing.T, name, s string, secrets ...string) {
	t.Helper()
	for _, secret := range secrets {
		for l := range strings.SplitSeq(strings.TrimSpace(secret), "\n") {
			if len(l) >= minSecretLen && strings.Contains(s, l) {
				t.Errorf("%s holds %q", name, l)
			}
		}
	}
}

// TestRunRefusesShortSecret: a pass_env value that cannot be redacted (under
// minSecretLen, not valid UTF-8, holding a NUL byte) fails its cell before the script
// runs; the error names the variable, never the value.
func TestRunRefusesShortSecret(t *testing.T) {
	for _, tc := range []struct {
		name, value, want, secret string
	}{
		{"short", "\x1f7\x1f", "shorter than 4 bytes", "\x1f7"},
		{"not UTF-8", "\xffSEC\x1bRETBYTES\xfe", "not valid UTF-8", "RETBYTES"},
		{"invalid sequence inside", "SECRET\xc3(BYTES", "not valid UTF-8", "BYTES"},
		{"NUL byte", "SECRET\x00BYTES", "NUL byte", "BYTES"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exec := &fakeExec{}
			opts := options(t)
			opts.Environ = []string{"PIN=" + tc.value}
			cs := cells("a.tar.gz")
			cs[0].PassEnv = []string{"PIN"}
			_, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts)
			if err == nil || !strings.Contains(err.Error(), "pass_env PIN: its value on this host") ||
				!strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), tc.secret) {
				t.Fatalf("err = %v, want a refusal naming PIN, %q", err, tc.want)
			}
			if exec.calls("a.tar.gz") != 0 {
				t.Error("the script ran")
			}
			log, err := os.ReadFile(filepath.Join(opts.OutDir, "logs/a.tar.gz.log"))
			if err != nil || !strings.HasPrefix(string(log), "matrix: cell failed: pass_env PIN") || strings.Contains(string(log), tc.secret) {
				t.Errorf("log %q (%v), want why the cell failed", log, err)
			}
		})
	}
}

// crlfRun is the reference's line-end rule, written independently of normalizeNewlines.
var crlfRun = regexp.MustCompile(`\r+\n`)

// redactReference is the redaction by definition: at each position of the stream,
// the longest value that starts there is replaced and the scan goes on after it.
func redactReference(patterns []string, in []byte) []byte {
	in = crlfRun.ReplaceAll(in, []byte("\n"))
	var ps [][]byte
	for _, p := range patterns {
		if p := crlfRun.ReplaceAll([]byte(p), []byte("\n")); len(p) > 0 {
			ps = append(ps, p)
		}
	}
	var out []byte
	for i := 0; i < len(in); {
		n := 0
		for _, p := range ps {
			if len(p) > n && bytes.HasPrefix(in[i:], p) {
				n = len(p)
			}
		}
		if n > 0 {
			out = append(out, redactMark...)
			i += n
		} else {
			out = append(out, in[i])
			i++
		}
	}
	return out
}

// FuzzRedact: secrets of any shape (one byte, several lines, overlapping each other),
// output that holds them, written in chunks of any size through lines cut at any
// length. The filter gives what the reference gives, however the stream is written;
// no secret free of '*' survives it; its lines are the lines of the reference's output.
func FuzzRedact(f *testing.F) {
	f.Add("abc\x00bcd\x00cd", []byte("\x00\x01x\x02abcd\r\n\x00"), []byte{1, 2, 3}, uint8(3))
	f.Add("-----BEGIN-----\nAAAA\nBBBB\n-----END-----\x00x", []byte("k\x00\r\n\x01\x00z"), []byte{5}, uint8(0))
	f.Add("a\r\nb\x00a\nb\x00\r", []byte("a\r\r\nb\x00\x01\x02\r"), []byte{1}, uint8(1))
	f.Add("ab\x00abcd\x00abcdef\x00f", []byte("abcdex\x01\x02\x00"), []byte{2, 7}, uint8(4))
	f.Add("tok", bytes.Repeat([]byte("y"), 40), []byte{9}, uint8(10))
	f.Fuzz(func(t *testing.T, secrets string, plan, chunks []byte, max uint8) {
		patterns := strings.Split(secrets, "\x00")
		// Bytes under 8 of plan put a secret into the output; the rest are themselves.
		var in []byte
		for _, b := range plan {
			if len(in) > 1<<16 {
				break // secrets times plan could be gigabytes
			}
			if b < 8 {
				in = append(in, patterns[int(b)%len(patterns)]...)
			} else {
				in = append(in, b)
			}
		}
		want := redactReference(patterns, in)
		r := newRedactor(patterns)
		f := filter{r: r}
		var got []byte
		sink := func(p []byte) { got = append(got, p...) }
		var gotLines, wantLines lines
		lw := newLineWriter(r, gotLines.add)
		lw.max = int(max%32) + 1
		for i, p := 0, in; len(p) > 0; i++ {
			n := 1
			if len(chunks) > 0 {
				n = int(chunks[i%len(chunks)]) + 1
			}
			n = min(n, len(p))
			f.write(p[:n], sink)
			lw.Write(p[:n])
			p = p[n:]
		}
		f.flush(sink)
		lw.Flush()
		if !bytes.Equal(got, want) {
			t.Fatalf("patterns %q, in %q:\ngot  %q\nwant %q", patterns, in, got, want)
		}
		for _, p := range patterns {
			p := crlfRun.ReplaceAllString(p, "\n")
			if p != "" && !strings.Contains(p, "*") && bytes.Contains(got, []byte(p)) {
				t.Fatalf("%q survives in %q", p, got)
			}
		}
		ref := &lineWriter{max: lw.max, emit: wantLines.add}
		ref.Write(want)
		ref.Flush()
		if strings.Join(gotLines.got, "\n") != strings.Join(wantLines.got, "\n") || len(gotLines.got) != len(wantLines.got) {
			t.Fatalf("lines %q, want %q", gotLines.got, wantLines.got)
		}
	})
}

// BenchmarkRedact: a log of mixed output through the filter with 1, 100 and 1000
// values (tokens and a PEM key); the cost per byte stays about the same.
func BenchmarkRedact(b *testing.B) {
	key := pemKey(b)
	var log bytes.Buffer
	for i := 0; log.Len() < 1<<20; i++ {
		fmt.Fprintf(&log, "npm http fetch GET 200 https://registry.npmjs.org/pkg-%d 12ms (cache miss)\n", i)
		if i%1000 == 0 {
			log.WriteString(key)
		}
	}
	for _, n := range []int{1, 100, 1000} {
		values := []string{key}
		for i := 1; i < n; i++ {
			values = append(values, fmt.Sprintf("npm_%032x", i*7919))
		}
		r := redactorFor(values)
		b.Run(fmt.Sprintf("values=%d", n), func(b *testing.B) {
			b.SetBytes(int64(log.Len()))
			b.ReportAllocs()
			for b.Loop() {
				f := filter{r: r}
				n := 0
				sink := func(p []byte) { n += len(p) }
				for p := log.Bytes(); len(p) > 0; p = p[min(32<<10, len(p)):] {
					f.write(p[:min(32<<10, len(p))], sink)
				}
				f.flush(sink)
			}
		})
	}
}
