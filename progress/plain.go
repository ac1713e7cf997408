package progress

import (
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/matrixbuild/matrix/internal/filename"
	"github.com/matrixbuild/matrix/internal/terminal"
)

// Plain renders events as lines for a log: each line of a cell's output prefixed with
// "[ARTIFACT] ", the tool's messages as they are, and one line per finished cell
// ("ok   FILE  sha256:HEX", "FAIL ARTIFACT: ERROR", "skip NAME: REASON"). These bytes
// are what CI logs and scripts read: they do not change. Each event is one write,
// escaped but for its newlines (internal/terminal), so lines of parallel cells never
// interleave and a container's text can neither steer the terminal nor forge a line.
//
// Quiet keeps only failures and the tool's messages. GitHub (GitHub Actions) holds each
// cell's lines back and writes them when the cell ends, inside ::group::/::endgroup::,
// and a failed cell as an ::error annotation placed by Locate.
type Plain struct {
	W      io.Writer
	Quiet  bool
	GitHub bool
	// Locate gives the file and line an annotation of a failed cell points at; nil or
	// an empty file: none.
	Locate func(Event) (file string, line int)

	mu     sync.Mutex
	buf    []byte
	groups map[string]*group
}

// maxGroupBytes bounds the lines held back for one cell's group: the cell's log has
// them all (logs/ARTIFACT.log), the group its start and how many it left out.
const maxGroupBytes = 1 << 20

type group struct {
	buf     []byte
	dropped int
}

func (p *Plain) Event(e Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = p.buf[:0]
	switch e.Kind {
	case KindOutput:
		if p.Quiet {
			return
		}
		line := "[" + e.Cell + "] " + e.Line + "\n"
		if p.GitHub {
			p.hold(e.Cell, line)
			return
		}
		p.buf = terminal.AppendEscapedLines(p.buf, []byte(line))
	case KindMessage:
		p.buf = p.text(p.buf, e.Line+"\n")
	case KindFinished:
		if p.GitHub && !p.Quiet {
			p.buf = p.closeGroup(p.buf, e)
		}
		if line := finishedLine(e); line != "" && (!p.Quiet || e.Result == Failed) {
			p.buf = p.text(p.buf, line)
		}
		if p.GitHub && e.Result == Failed {
			p.buf = p.annotate(p.buf, e)
		}
	default:
		return
	}
	if len(p.buf) > 0 {
		p.W.Write(p.buf)
	}
	if cap(p.buf) > 4*maxGroupBytes {
		p.buf = nil
	}
}

// finishedLine is today's line for a finished cell.
func finishedLine(e Event) string {
	switch e.Result {
	case Built, Reused:
		return fmt.Sprintf("ok   %s  sha256:%s\n", e.Cell, e.SHA256)
	case Failed:
		return fmt.Sprintf("FAIL %s: %s\n", shown(e.Cell), e.Reason)
	case Skipped:
		return fmt.Sprintf("skip %s: %s\n", e.Name, e.Reason)
	}
	return ""
}

// shown is an artifact name as a message shows it: quoted when it is not a plain file
// name (a plan.Cell may come from JSON).
func shown(name string) string {
	if filename.Check(name) != nil {
		return strconv.Quote(name)
	}
	return name
}

func (p *Plain) hold(cell, line string) {
	if p.groups == nil {
		p.groups = map[string]*group{}
	}
	g := p.groups[cell]
	if g == nil {
		g = &group{}
		p.groups[cell] = g
	}
	if g.dropped > 0 || len(g.buf)+len(line) > maxGroupBytes {
		g.dropped++
		return
	}
	g.buf = p.text(g.buf, line)
}

// text appends s escaped for a terminal but for its newlines and, under GitHub
// Actions, so that no line of it is read as a workflow command (AppendGitHubSafe).
func (p *Plain) text(dst []byte, s string) []byte {
	if !p.GitHub {
		return terminal.AppendEscapedLines(dst, []byte(s))
	}
	return AppendGitHubSafe(dst, terminal.AppendEscapedLines(nil, []byte(s)))
}

// closeGroup appends the cell's held lines inside a group titled with its result.
func (p *Plain) closeGroup(dst []byte, e Event) []byte {
	g := p.groups[e.Cell]
	delete(p.groups, e.Cell)
	if g == nil && e.Result == Skipped {
		return dst
	}
	title := fmt.Sprintf("%s: %s", e.Cell, e.Result)
	if e.Duration > 0 {
		title += " in " + FormatDuration(e.Duration)
	}
	dst = append(dst, "::group::"...)
	dst = append(dst, escapeData(terminal.Escape(title))...)
	dst = append(dst, '\n')
	if g != nil {
		dst = append(dst, g.buf...)
		if g.dropped > 0 {
			dst = p.text(dst, fmt.Sprintf("[%s] matrix: %d more lines left out here: the cell's log holds them\n", e.Cell, g.dropped))
		}
	}
	return append(dst, "::endgroup::\n"...)
}

// annotate appends an ::error workflow command for a failed cell.
func (p *Plain) annotate(dst []byte, e Event) []byte {
	a := Annotation{Title: "matrix: " + shown(e.Cell) + " failed", Message: e.Reason}
	if p.Locate != nil {
		a.File, a.Line = p.Locate(e)
	}
	return a.AppendTo(dst)
}
