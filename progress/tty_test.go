package progress

import (
	"strings"
	"testing"
	"time"
)

// ttyRun drives a TTY on a virtual screen of width x height with a clock it sets.
type ttyRun struct {
	t      *testing.T
	scr    *screen
	tty    *TTY
	now    time.Time
	width  int
	height int
}

func newTTYRun(t *testing.T, width, height int) *ttyRun {
	r := &ttyRun{t: t, scr: newScreen(width, height), now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), width: width, height: height}
	r.tty = &TTY{
		W:        r.scr,
		Size:     func() (int, int) { return r.width, r.height },
		Now:      func() time.Time { return r.now },
		Expected: map[string]time.Duration{"sharp-0.34.5-node22-linux-x64.tar.gz": 20 * time.Second, "sharp-0.34.5-node20-linux-x64.tar.gz": 10 * time.Second},
		Slots:    2,
	}
	return r
}

func (r *ttyRun) at(secs float64, e Event) {
	e.Time = r.now.Add(time.Duration(secs * float64(time.Second)))
	r.tty.Event(e)
}

// screenIs draws and compares the screen's rows.
func (r *ttyRun) screenIs(when string, want ...string) {
	r.t.Helper()
	r.shows(when, r.scr.lines, want)
}

// scrollbackIs draws and compares the scrollback and the screen.
func (r *ttyRun) scrollbackIs(when string, want ...string) {
	r.t.Helper()
	r.shows(when, r.scr.all, want)
}

func (r *ttyRun) shows(when string, rows func() []string, want []string) {
	r.t.Helper()
	r.tty.Draw()
	if r.scr.err != nil {
		r.t.Fatalf("%s: %v", when, r.scr.err)
	}
	got := rows()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		r.t.Errorf("%s: the screen shows\n%s\nwant\n%s", when, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, l := range got {
		if n := len([]rune(l)); n > r.width {
			r.t.Errorf("%s: a row of %d columns on a screen of %d", when, n, r.width)
		}
	}
}

const (
	cellA = "sharp-0.34.5-node22-linux-x64.tar.gz"
	cellB = "sharp-0.34.5-node20-linux-x64.tar.gz"
	cellC = "sharp-0.33.5-node22-linux-x64.tar.gz"
)

// script plays a run of three cells on two slots: one building with hostile output,
// one failing, one queued; then the first built and the third running.
func (r *ttyRun) script(check func(step string)) {
	r.at(0, Event{Kind: KindQueued, Cell: cellA})
	r.at(0, Event{Kind: KindQueued, Cell: cellB})
	r.at(0, Event{Kind: KindQueued, Cell: cellC})
	r.at(0, Event{Kind: KindStarted, Cell: cellA})
	r.at(0, Event{Kind: KindStarted, Cell: cellB})
	r.at(1, Event{Kind: KindPhase, Cell: cellA, Phase: PhaseBuilding})
	r.at(1, Event{Kind: KindPhase, Cell: cellB, Phase: PhaseBuilding})
	r.at(2, Event{Kind: KindOutput, Cell: cellA, Line: "added 13 packages in 4s \x1b[2J\x1b]0;PWNED\x07\u202e"})
	r.at(2, Event{Kind: KindOutput, Cell: cellC, Line: "\x1b[1A\u202e!"})
	r.at(2, Event{Kind: KindOutput, Cell: cellB, Line: "npm error code ERESOLVE"})
	r.now = r.now.Add(3 * time.Second)
	check("two running")
	r.at(0, Event{Kind: KindFinished, Cell: cellB, Result: Failed, Duration: 3 * time.Second, Reason: "script exited with status 1; last lines of logs/b.log:\n    npm error code ERESOLVE"})
	r.at(0, Event{Kind: KindStarted, Cell: cellC})
	check("one failed")
	r.now = r.now.Add(5 * time.Second)
	r.at(0, Event{Kind: KindFinished, Cell: cellA, Result: Built, Size: 7 << 20, SHA256: "81c0bf3e5e67e6c8056bf17a61b9b2c7", Duration: 8 * time.Second})
	r.at(0, Event{Kind: KindPhase, Cell: cellC, Phase: PhaseTesting})
	check("one built")
}

// TestTTYScreen80 checks what an 80-column terminal shows at each moment.
func TestTTYScreen80(t *testing.T) {
	r := newTTYRun(t, 80, 12)
	want := map[string][]string{
		"two running": {
			"  sharp-0.34.5-node22-linux-x64.tar.gz  building 3.0s  added 13 packages in 4s…",
			"  sharp-0.34.5-node20-linux-x64.tar.gz  building 3.0s  npm error code ERESOLVE",
			"[0/3] 0 done, 2 running, 1 queued, 0 failed  3s  ETA 20s",
		},
		"one failed": {
			"FAILED  sharp-0.34.5-node20-linux-x64.tar.gz after 3.0s",
			"  | npm error code ERESOLVE",
			"  script exited with status 1; last lines of logs/b.log: ... npm error code ERES",
			"OLVE",
			"  sharp-0.34.5-node22-linux-x64.tar.gz  building 3.0s  added 13 packages in 4s…",
			"  sharp-0.33.5-node22-linux-x64.tar.gz  starting 0.0s  \\x1b[1A\\u202e!",
			"[1/3] 0 done, 2 running, 0 queued, 1 failed  3s  ETA 16s",
		},
		"one built": {
			"FAILED  sharp-0.34.5-node20-linux-x64.tar.gz after 3.0s",
			"  | npm error code ERESOLVE",
			"  script exited with status 1; last lines of logs/b.log: ... npm error code ERES",
			"OLVE",
			"built   sharp-0.34.5-node22-linux-x64.tar.gz  7.0 MiB  8.0s  sha256:81c0bf3e5e67",
			"  sharp-0.33.5-node22-linux-x64.tar.gz  testing 5.0s  \\x1b[1A\\u202e!",
			"[2/3] 1 done, 1 running, 0 queued, 1 failed  8s  ETA 5s",
		},
	}
	r.script(func(step string) { r.screenIs(step, want[step]...) })
	r.tty.Close()
	if got := r.scr.lines(); len(got) != 5 || !strings.HasPrefix(got[4], "built   ") {
		t.Errorf("after Close the screen shows\n%s\nwant the printed lines only", strings.Join(got, "\n"))
	}
}

// TestTTYScreen40: on a 40-column terminal every live line is clipped to 39 columns,
// so none wraps and each redraw lands on the rows of the last.
func TestTTYScreen40(t *testing.T) {
	r := newTTYRun(t, 40, 12)
	want := map[string][]string{
		"two running": {
			"  sharp-0.34.5-node22-linux-x64.tar.gz…",
			"  sharp-0.34.5-node20-linux-x64.tar.gz…",
			"[0/3] 0 done, 2 running, 1 queued, 0 f…",
		},
		"one built": {
			"FAILED  sharp-0.34.5-node20-linux-x64.ta",
			"r.gz after 3.0s",
			"  | npm error code ERESOLVE",
			"  script exited with status 1; last line",
			"s of logs/b.log: ... npm error code ERES",
			"OLVE",
			"built   sharp-0.34.5-node22-linux-x64.ta",
			"r.gz  7.0 MiB  8.0s  sha256:81c0bf3e5e67",
			"  sharp-0.33.5-node22-linux-x64.tar.gz…",
			"[2/3] 1 done, 1 running, 0 queued, 1 f…",
		},
	}
	r.script(func(step string) {
		if w, ok := want[step]; ok {
			r.screenIs(step, w...)
		}
	})
}

// TestTTYResize: a terminal narrowed from 80 to 40 columns between two redraws (and
// reflowing the lines it shows) still shows the live area once, at the new width.
func TestTTYResize(t *testing.T) {
	r := newTTYRun(t, 80, 12)
	r.script(func(step string) {
		if step == "one failed" {
			r.tty.Draw()
			r.scr.resize(40)
			r.width = 40
			r.scrollbackIs("narrowed", "FAILED  sharp-0.34.5-node20-linux-x64.ta",
				"r.gz after 3.0s",
				"  | npm error code ERESOLVE",
				"  script exited with status 1; last line",
				"s of logs/b.log: ... npm error code ERES",
				"OLVE",
				"  sharp-0.34.5-node22-linux-x64.tar.gz…",
				"  sharp-0.33.5-node22-linux-x64.tar.gz…",
				"[1/3] 0 done, 2 running, 0 queued, 1 f…")
		}
	})
}

// TestTTYManyRunning: more running cells than the terminal has rows shows as many as
// fit and how many more run.
func TestTTYManyRunning(t *testing.T) {
	r := newTTYRun(t, 60, 5)
	for _, c := range []string{"a", "b", "c", "d", "e", "f"} {
		r.at(0, Event{Kind: KindQueued, Cell: c + ".tar.gz"})
		r.at(0, Event{Kind: KindStarted, Cell: c + ".tar.gz"})
	}
	r.screenIs("six running", "  a.tar.gz  starting 0.0s", "  b.tar.gz  starting 0.0s", "  ... and 4 more running", "[0/6] 0 done, 6 running, 0 queued, 0 failed  0s  ETA 45s")
}

// TestTTYTabsAndEmoji: a container's line with tabs, and with emoji that terminals
// show two columns wide (East Asian Width W: ✨ ✅ ❌ 🚀 ⚡ ⏳), is counted as the
// terminal shows it: a tab reaches the live area as a space (a terminal moves a tab to
// the next stop, so a counted column would be up to eight), and the line still fits.
func TestTTYTabsAndEmoji(t *testing.T) {
	for _, r := range "✨✅❌🚀⚡⏳⭐⌛🟢🥇🫠" {
		if runeWidth(r) != 2 {
			t.Errorf("runeWidth(%q) = %d, want 2 as terminals show it", r, runeWidth(r))
		}
	}
	for _, r := range "a→é─" {
		if runeWidth(r) != 1 {
			t.Errorf("runeWidth(%q) = %d, want 1", r, runeWidth(r))
		}
	}
	r := newTTYRun(t, 40, 6)
	r.at(0, Event{Kind: KindQueued, Cell: "a.tar.gz"})
	r.at(0, Event{Kind: KindStarted, Cell: "a.tar.gz"})
	r.at(1, Event{Kind: KindOutput, Cell: "a.tar.gz", Line: "x\ty\tz"})
	r.screenIs("tabs", "  a.tar.gz  starting 0.0s  x y z", "[0/1] 0 done, 1 running, 0 queued, 0 f…")
}

// TestTTYStartedAgain: a cell started again on another engine (failover) keeps one
// line in the live area, its time counted from its first start.
func TestTTYStartedAgain(t *testing.T) {
	r := newTTYRun(t, 60, 5)
	r.at(0, Event{Kind: KindQueued, Cell: "a.tar.gz"})
	r.at(0, Event{Kind: KindStarted, Cell: "a.tar.gz", Engine: "one"})
	r.at(2, Event{Kind: KindPhase, Cell: "a.tar.gz", Phase: PhaseBuilding})
	r.at(3, Event{Kind: KindStarted, Cell: "a.tar.gz", Engine: "two"})
	r.now = r.now.Add(3 * time.Second)
	r.screenIs("started twice", "  a.tar.gz  starting 3.0s", "[0/1] 0 done, 1 running, 0 queued, 0 failed  3s  ETA 6s")
}
