package progress

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/matrixbuild/matrix/internal/terminal"
)

// TTY renders events for a terminal: a live area at the bottom, one line per running
// cell (its phase, time so far, the last line of its output) and one line for the
// matrix (done, running, queued, failed, the time so far and an ETA), redrawn in place;
// above it, one line per finished cell and the tool's messages, which stay. A failed
// cell's last lines of output are printed above the live area when it fails.
//
// Each redraw is one write: the cursor goes back to the top of the live area (CR and
// CSI n A), each line is written clipped to the width and ended with CSI K (erase to
// the end of the line), and CSI J erases what a longer area left below. The width is
// asked again at each redraw; lines drawn at a wider width take the rows a reflowing
// terminal gives them at the new one (as VTE, iTerm2, kitty, tmux and Windows
// Terminal do). Every text an event carries is escaped (internal/terminal) before it
// is clipped, so no output reaches the terminal raw.
type TTY struct {
	W io.Writer
	// Size returns the terminal's columns and rows; nil, or a width below 10: 80x24.
	Size func() (width, height int)
	Now  func() time.Time // nil: time.Now
	// Expected holds, per artifact, how long the cell took when it was last built (the
	// previous manifest's durations): the ETA sums them. Empty: no ETA.
	Expected map[string]time.Duration
	// Slots is how many cells run at once (jobs times engines), for the ETA.
	Slots int

	mu      sync.Mutex
	cells   map[string]*ttyCell
	running []string // in the order they started
	queued  int
	done    int // built or reused
	failed  int
	skipped int
	start   time.Time
	drawn   []int // the display width of each line of the live area on screen
	buf     []byte
	closed  bool
}

type ttyCell struct {
	phase   Phase
	started time.Time
	last    string   // the last line of output, escaped
	tail    []string // the last lines of output, escaped
	running bool
	queued  bool
}

// failedTail is how many of a failed cell's last lines are printed above the live area.
const failedTail = 10

func (t *TTY) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *TTY) size() (int, int) {
	w, h := 80, 24
	if t.Size != nil {
		if sw, sh := t.Size(); sw >= 10 {
			w, h = sw, sh
		}
	}
	if h < 3 {
		h = 24
	}
	return w, h
}

func (t *TTY) cell(name string) *ttyCell {
	if t.cells == nil {
		t.cells = map[string]*ttyCell{}
	}
	c := t.cells[name]
	if c == nil {
		c = &ttyCell{}
		t.cells[name] = c
	}
	return c
}

// Event updates the state; what stays on screen (a finished cell, a message) is
// printed at once with the live area redrawn below it. The rest waits for Draw.
func (t *TTY) Event(e Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	if t.start.IsZero() {
		t.start = e.Time
		if t.start.IsZero() {
			t.start = t.now()
		}
	}
	switch e.Kind {
	case KindQueued:
		c := t.cell(e.Cell)
		c.queued = true
		t.queued++
	case KindStarted:
		c := t.cell(e.Cell)
		if c.queued {
			c.queued = false
			t.queued--
		}
		if c.running {
			// Started again on another engine (failover): one line still, and its
			// time counts from its first start.
			c.phase = "starting"
			break
		}
		c.running, c.started, c.phase = true, e.Time, "starting"
		if c.started.IsZero() {
			c.started = t.now()
		}
		t.running = append(t.running, e.Cell)
	case KindPhase:
		t.cell(e.Cell).phase = e.Phase
	case KindOutput:
		c := t.cell(e.Cell)
		// A tab would move the cursor to the next stop, up to eight columns that
		// clip cannot count: a space instead.
		c.last = strings.ReplaceAll(terminal.Escape(e.Line), "\t", " ")
		c.tail = append(c.tail, c.last)
		if len(c.tail) > failedTail {
			c.tail = slices.Delete(c.tail, 0, len(c.tail)-failedTail)
		}
	case KindMessage:
		t.print(terminal.EscapeLines(e.Line) + "\n")
	case KindFinished:
		t.finish(e)
	}
}

func (t *TTY) finish(e Event) {
	c := t.cell(e.Cell)
	if c.queued {
		c.queued = false
		t.queued--
	}
	if c.running {
		c.running = false
		t.running = slices.DeleteFunc(t.running, func(n string) bool { return n == e.Cell })
	}
	delete(t.cells, e.Cell)
	name := terminal.Escape(e.Cell)
	var text string
	switch e.Result {
	case Built, Reused:
		t.done++
		what := string(e.Result)
		if e.Retested {
			what = "reused, retested"
		}
		text = fmt.Sprintf("%-7s %s  %s  %s  sha256:%s\n", what, name, FormatSize(e.Size), FormatDuration(e.Duration), short(e.SHA256))
	case Skipped:
		t.skipped++
		text = fmt.Sprintf("skipped %s: %s\n", terminal.Escape(e.Name), terminal.Escape(e.Reason))
	case Failed:
		t.failed++
		text = fmt.Sprintf("FAILED  %s after %s\n", name, FormatDuration(e.Duration))
		for _, l := range c.tail {
			text += "  | " + l + "\n"
		}
		text += "  " + terminal.Escape(firstLine(e.Reason)) + "\n"
	}
	t.print(text)
}

// print writes text above the live area and redraws it, in one write.
func (t *TTY) print(text string) {
	width, _ := t.size()
	// The live area is erased first, in the same write as its redraw: a printed line
	// is kept whole (the terminal wraps it, and it scrolls away above the live area).
	t.buf = append(t.up(t.buf[:0], width), "\x1b[J"...)
	t.buf = append(t.buf, text...)
	t.drawn = t.drawn[:0]
	t.buf = t.frame(t.buf)
	t.W.Write(t.buf)
}

// Draw redraws the live area: the caller's ticker calls it a few times a second.
func (t *TTY) Draw() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	width, _ := t.size()
	t.buf = t.frame(t.up(t.buf[:0], width))
	t.W.Write(t.buf)
}

// Close erases the live area and stops drawing: what follows (the summary) starts
// where it was.
func (t *TTY) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.closed = true
	width, _ := t.size()
	t.buf = append(t.up(t.buf[:0], width), "\x1b[J"...)
	t.drawn = nil
	t.W.Write(t.buf)
}

// Start draws every interval until the returned stop is called, which erases the
// live area.
func (t *TTY) Start(interval time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				t.Draw()
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		t.Close()
	}
}

// up moves the cursor to the first column of the live area's first row, counting the
// rows its lines take at width.
func (t *TTY) up(dst []byte, width int) []byte {
	rows := 0
	for _, w := range t.drawn {
		rows += max(1, (w+width-1)/width)
	}
	dst = append(dst, '\r')
	if rows > 0 {
		dst = append(dst, "\x1b["...)
		dst = strconv.AppendInt(dst, int64(rows), 10)
		dst = append(dst, 'A')
	}
	return dst
}

// frame appends the live area, from the cursor down, and erases what is below it.
func (t *TTY) frame(dst []byte) []byte {
	width, height := t.size()
	now := t.now()
	var lines []string
	room := height - 2 // the matrix line, and a row for the cursor
	for i, name := range t.running {
		if i == room-1 && len(t.running) > room {
			lines = append(lines, fmt.Sprintf("  ... and %d more running", len(t.running)-i))
			break
		}
		c := t.cells[name]
		line := fmt.Sprintf("  %s  %s %s", terminal.Escape(name), c.phase, elapsed(now.Sub(c.started)))
		if c.last != "" {
			line += "  " + c.last
		}
		lines = append(lines, line)
	}
	lines = append(lines, t.matrixLine(now))
	t.drawn = t.drawn[:0]
	for _, l := range lines {
		l, w := clip(l, width-1)
		dst = append(dst, l...)
		dst = append(dst, "\x1b[K\n"...)
		t.drawn = append(t.drawn, w)
	}
	return append(dst, "\x1b[J"...)
}

// elapsed is a running cell's time so far, of a width that changes seldom: "0.4s",
// "12.3s", "2m31s".
func elapsed(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Truncate(100*time.Millisecond).Seconds())
	}
	return d.Truncate(time.Second).String()
}

// matrixLine is "[5/22] 3 done, 2 running, 16 queued, 1 failed, 0 skipped  1m02s  ETA 1m30s".
func (t *TTY) matrixLine(now time.Time) string {
	total := t.done + t.failed + t.skipped + len(t.running) + t.queued
	line := fmt.Sprintf("[%d/%d] %d done, %d running, %d queued, %d failed", t.done+t.failed+t.skipped, total, t.done, len(t.running), t.queued, t.failed)
	if t.skipped > 0 {
		line += fmt.Sprintf(", %d skipped", t.skipped)
	}
	line += "  " + now.Sub(t.start).Truncate(time.Second).String()
	if eta, ok := t.eta(now); ok {
		line += "  ETA " + eta.Round(time.Second).String()
	}
	return line
}

// eta is the work left, by the previous durations (their mean for a cell without
// one), shared among the slots.
func (t *TTY) eta(now time.Time) (time.Duration, bool) {
	if len(t.Expected) == 0 {
		return 0, false
	}
	var sum time.Duration
	for _, d := range t.Expected {
		sum += d
	}
	mean := sum / time.Duration(len(t.Expected))
	expected := func(name string) time.Duration {
		if d, ok := t.Expected[name]; ok {
			return d
		}
		return mean
	}
	var left time.Duration
	for name, c := range t.cells {
		switch {
		case c.queued:
			left += expected(name)
		case c.running:
			left += max(0, expected(name)-now.Sub(c.started))
		}
	}
	return left / time.Duration(max(1, t.Slots)), true
}

// clip cuts an escaped line to at most width columns, ending it with "…" when cut,
// and returns it with the columns it takes.
func clip(s string, width int) (string, int) {
	total := 0
	for _, r := range s {
		total += runeWidth(r)
	}
	if total <= width {
		return s, total
	}
	cols := 0
	for i, r := range s {
		w := runeWidth(r)
		if cols+w > width-1 {
			return s[:i] + "…", cols + 1
		}
		cols += w
	}
	return s, cols
}

// runeWidth is the columns a printable rune takes: 0 for a combining mark, 2 for an
// East Asian wide or full-width one and the emoji that terminals show two columns
// wide (East Asian Width W: ✅ ✨ ❌ ⚡ ⏳ 🚀 🟢 🥇 ...), 1 otherwise. Where the ranges
// are approximate they take a rune as wide: a line counted too wide is clipped early,
// one counted too narrow would wrap.
func runeWidth(r rune) int {
	switch {
	case unicode.In(r, unicode.Mn, unicode.Me) || r == 0x200b || r == 0x200d:
		return 0
	case r >= 0x1100 && r <= 0x115f, r >= 0x2e80 && r <= 0xa4cf && r != 0x303f, r >= 0xa960 && r <= 0xa97c, r >= 0xac00 && r <= 0xd7a3,
		r >= 0xf900 && r <= 0xfaff, r >= 0xfe10 && r <= 0xfe19, r >= 0xfe30 && r <= 0xfe6b, r >= 0xff00 && r <= 0xff60, r >= 0xffe0 && r <= 0xffe6,
		r >= 0x16fe0 && r <= 0x1b2ff, r == 0x1f004, r == 0x1f0cf,
		r == 0x1f18e, r >= 0x1f191 && r <= 0x1f19a, r >= 0x1f200 && r <= 0x1f265,
		r >= 0x1f300 && r <= 0x1f64f, r >= 0x1f680 && r <= 0x1f6ff, r >= 0x1f7e0 && r <= 0x1f7f0, r >= 0x1f90c && r <= 0x1faff,
		r >= 0x20000 && r <= 0x3fffd:
		return 2
	case r >= 0x231a && r <= 0x2b55:
		return emojiWidth(r)
	}
	return 1
}

// emojiWidth is the width of a rune of U+231A to U+2B55, where the emoji of East
// Asian Width W are (Unicode 15).
func emojiWidth(r rune) int {
	for _, w := range [...][2]rune{
		{0x231a, 0x231b}, {0x2329, 0x232a}, {0x23e9, 0x23ec}, {0x23f0, 0x23f0}, {0x23f3, 0x23f3},
		{0x25fd, 0x25fe}, {0x2614, 0x2615}, {0x2648, 0x2653}, {0x267f, 0x267f}, {0x2693, 0x2693},
		{0x26a1, 0x26a1}, {0x26aa, 0x26ab}, {0x26bd, 0x26be}, {0x26c4, 0x26c5}, {0x26ce, 0x26ce},
		{0x26d4, 0x26d4}, {0x26ea, 0x26ea}, {0x26f2, 0x26f3}, {0x26f5, 0x26f5}, {0x26fa, 0x26fa},
		{0x26fd, 0x26fd}, {0x2705, 0x2705}, {0x270a, 0x270b}, {0x2728, 0x2728}, {0x274c, 0x274c},
		{0x274e, 0x274e}, {0x2753, 0x2755}, {0x2757, 0x2757}, {0x2795, 0x2797}, {0x27b0, 0x27b0},
		{0x27bf, 0x27bf}, {0x2b1b, 0x2b1c}, {0x2b50, 0x2b50}, {0x2b55, 0x2b55},
	} {
		if r >= w[0] && r <= w[1] {
			return 2
		}
	}
	return 1
}
