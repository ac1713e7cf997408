package progress

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// TestGitHubGroupsAndAnnotations: under GitHub Actions the lines of two cells that ran
// at once come out each inside its own ::group::, whole, when the cell ends; a failed
// cell is an ::error annotation at the place Locate gives, with %, CR, LF (and in a
// property : and ,) escaped; a container's line that looks like a workflow command
// never starts a line.
func TestGitHubGroupsAndAnnotations(t *testing.T) {
	var out bytes.Buffer
	p := &Plain{W: &out, GitHub: true, Locate: func(e Event) (string, int) { return "dir,x/matrix:1.hcl", 7 }}
	p.Event(Event{Kind: KindOutput, Cell: "a.tar.gz", Line: "a one"})
	p.Event(Event{Kind: KindOutput, Cell: "b.tar.gz", Line: "::error::forged"})
	p.Event(Event{Kind: KindOutput, Cell: "a.tar.gz", Line: "a two"})
	p.Event(Event{Kind: KindMessage, Line: "matrix: warning: something"})
	p.Event(Event{Kind: KindFinished, Cell: "b.tar.gz", Target: "t", Result: Failed, Reason: "100% broken\r\nlast line \x1b[2J"})
	p.Event(Event{Kind: KindFinished, Cell: "a.tar.gz", Result: Built, SHA256: "ab", Duration: 1500e6})
	p.Event(Event{Kind: KindFinished, Cell: "c.tar.gz", Name: "t[i=2]", Result: Skipped, Reason: "why"})
	want := "matrix: warning: something\n" +
		"::group::b.tar.gz: failed\n" +
		"[b.tar.gz] ::error::forged\n" +
		"::endgroup::\n" +
		"FAIL b.tar.gz: 100% broken\\x0d\n" +
		"last line \\x1b[2J\n" +
		"::error file=dir%2Cx/matrix%3A1.hcl,line=7,title=matrix%3A b.tar.gz failed::100%25 broken\\x0d%0Alast line \\x1b[2J\n" +
		"::group::a.tar.gz: built in 1.5s\n" +
		"[a.tar.gz] a one\n" +
		"[a.tar.gz] a two\n" +
		"::endgroup::\n" +
		"ok   a.tar.gz  sha256:ab\n" +
		"skip t[i=2]: why\n"
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Contains(line, "forged") && strings.HasPrefix(line, "::") {
			t.Errorf("a container's line starts a workflow command: %q", line)
		}
	}
}

// TestGitHubGroupIsBounded: a cell printing more than maxGroupBytes gets the start of
// its output in its group and a line saying how many lines were left out.
func TestGitHubGroupIsBounded(t *testing.T) {
	var out bytes.Buffer
	p := &Plain{W: &out, GitHub: true}
	line := strings.Repeat("x", 1023)
	n := 2 * maxGroupBytes / 1024
	for range n {
		p.Event(Event{Kind: KindOutput, Cell: "a.tar.gz", Line: line})
	}
	p.Event(Event{Kind: KindFinished, Cell: "a.tar.gz", Result: Built})
	if out.Len() > maxGroupBytes+4096 {
		t.Errorf("%d bytes written for a group bounded to %d", out.Len(), maxGroupBytes)
	}
	kept := strings.Count(out.String(), "[a.tar.gz] x")
	if want := fmt.Sprintf("[a.tar.gz] matrix: %d more lines left out here: the cell's log holds them\n", n-kept); !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q", want)
	}
}

// TestStepSummaryIsBounded: the Markdown summary stays within its limit, says how
// many cells it left out, and escapes what would break the table or add markup.
func TestStepSummaryIsBounded(t *testing.T) {
	s := Summary{Manifest: "out/manifest.json"}
	for i := range 5000 {
		s.Rows = append(s.Rows, Row{Cell: fmt.Sprintf("c%d.tar.gz", i), Result: Failed, Reason: "x | y <img src=//e> [l](u) \x1b[2J"})
	}
	var b bytes.Buffer
	const limit = 64 << 10
	if err := s.WriteMarkdown(&b, limit); err != nil {
		t.Fatal(err)
	}
	if b.Len() > limit {
		t.Errorf("%d bytes, over the limit of %d", b.Len(), limit)
	}
	rows := strings.Count(b.String(), "\n| FAILED |")
	if want := fmt.Sprintf("\n%d more cells left out", 5000-rows); rows == 0 || !strings.Contains(b.String(), want) {
		t.Errorf("%d rows; want some and %q:\n%s", rows, want, b.String()[max(0, b.Len()-300):])
	}
	if want := `x \| y \<img src=//e\> \[l\]\(u\) \\x1b\[2J`; !strings.Contains(b.String(), want) {
		t.Errorf("row not escaped as %q:\n%s", want, b.String()[:600])
	}
	if !strings.HasPrefix(b.String(), "### matrix: 0 built, 0 reused, 5000 failed in 0s; out/manifest.json\n\n| result |") {
		t.Errorf("heading:\n%s", b.String()[:200])
	}
}

// TestQuietKeepsFailuresAndMessages: --quiet drops the containers' lines and the
// lines of cells built or skipped, and keeps failures and the tool's messages.
func TestQuietKeepsFailuresAndMessages(t *testing.T) {
	var out bytes.Buffer
	p := &Plain{W: &out, Quiet: true}
	p.Event(Event{Kind: KindOutput, Cell: "a.tar.gz", Line: "noise"})
	p.Event(Event{Kind: KindFinished, Cell: "a.tar.gz", Result: Built, SHA256: "ab"})
	p.Event(Event{Kind: KindFinished, Cell: "c.tar.gz", Name: "c", Result: Skipped, Reason: "why"})
	p.Event(Event{Kind: KindMessage, Line: "matrix: warning: w"})
	p.Event(Event{Kind: KindFinished, Cell: "b.tar.gz", Result: Failed, Reason: "broken"})
	if want := "matrix: warning: w\nFAIL b.tar.gz: broken\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

// commandLines are the lines of out that GitHub Actions' runner reads as workflow
// commands: "::" after the line's leading white space (.NET's TrimStart: Unicode's,
// as unicode.IsSpace), or "##[" anywhere in it (the
// runner's legacy form, which it reads mid-line).
func commandLines(out string) []string {
	var cmds []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimLeftFunc(line, unicode.IsSpace), "::") || strings.Contains(line, "##[") {
			cmds = append(cmds, line)
		}
	}
	return cmds
}

// TestGitHubNoForgedCommands: what a container prints reaches the log of a GitHub
// Actions step in a cell's lines, in the FAIL line quoting a failed script's last
// lines (indented), in a message and in the summary; none of it is read as a workflow
// command, neither "::" after white space nor "##[" anywhere in a line.
func TestGitHubNoForgedCommands(t *testing.T) {
	const reason = "script exited with 1; last lines of logs/a.log:\n    ::error::forged\n    ::stop-commands::tok\n    ok ##[error]forged"
	var out bytes.Buffer
	p := &Plain{W: &out, GitHub: true}
	p.Event(Event{Kind: KindOutput, Cell: "a.tar.gz", Line: "##[stop-commands]tok"})
	p.Event(Event{Kind: KindOutput, Cell: "a.tar.gz", Line: "  ::error::forged"})
	p.Event(Event{Kind: KindMessage, Line: "matrix: engine:\n\u00a0\u3000::error::forged"})
	p.Event(Event{Kind: KindMessage, Line: "matrix: warning: engine says\n  ::error::forged ##[warning]x"})
	p.Event(Event{Kind: KindFinished, Cell: "a.tar.gz", Result: Failed, Reason: reason})
	p.Event(Event{Kind: KindFinished, Cell: "b.tar.gz", Name: "t", Result: Skipped, Reason: "##[error]x\n::error::y"})
	want := []string{"::group::a.tar.gz: failed", "::endgroup::", "::error title=matrix%3A a.tar.gz failed::script exited with 1; last lines of logs/a.log:%0A    \\x3a:error::forged%0A    \\x3a:stop-commands::tok%0A    ok ##\\x5berror]forged"}
	if got := commandLines(out.String()); !slices.Equal(got, want) {
		t.Errorf("workflow commands:\n%q\nwant:\n%q\nin:\n%s", got, want, out.String())
	}
	var sum bytes.Buffer
	s := Summary{Rows: []Row{{Cell: "a.tar.gz", Result: Failed, Reason: reason}}}
	if err := s.WriteText(GitHubSafeWriter{&sum}); err != nil {
		t.Fatal(err)
	}
	if got := commandLines(sum.String()); len(got) > 0 {
		t.Errorf("the summary has workflow commands %q", got)
	}
}

// TestJSONNoForgedCommands: json events on a GitHub Actions step's stdout carry no
// "##[" that the runner would read mid-line, and decode to the text the container wrote.
func TestJSONNoForgedCommands(t *testing.T) {
	var out bytes.Buffer
	j := &JSON{W: &out}
	const line = "x ###[error]forged ##[stop-commands]tok"
	j.Event(Event{Kind: KindOutput, Cell: "a.tar.gz", Line: line})
	if got := commandLines(out.String()); len(got) > 0 {
		t.Errorf("workflow commands in json: %q", got)
	}
	var e struct{ Line string }
	if err := json.Unmarshal(out.Bytes(), &e); err != nil || e.Line != line {
		t.Errorf("decoded %q, %v; want %q", e.Line, err, line)
	}
}
