package progress

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// screen is a minimal virtual terminal: the sequences the TTY renderer emits (printable
// runes with xterm's delayed autowrap, CR, LF, CSI n A, CSI K, CSI J), a scrollback of
// the rows that scroll off the top, and a resize that reflows wrapped lines as VTE,
// kitty and tmux do. Any other control fails the test that wrote it (err).
type screen struct {
	width, height int
	rows          []srow // scrollback then the screen: the last height rows
	x, y          int    // cursor; y indexes rows
	pendingWrap   bool
	err           error
}

type srow struct {
	cells   []rune // one per column; 0 for the right half of a wide rune
	wrapped bool   // the logical line goes on in the next row
}

func newScreen(width, height int) *screen {
	s := &screen{width: width, height: height}
	for range height {
		s.rows = append(s.rows, s.blank())
	}
	s.y = 0
	return s
}

func (s *screen) blank() srow { return srow{cells: make([]rune, s.width)} }

func (s *screen) top() int { return len(s.rows) - s.height }

func (s *screen) Write(p []byte) (int, error) {
	str := string(p)
	for i := 0; i < len(str); {
		c := str[i]
		switch {
		case c == '\r':
			s.x, s.pendingWrap = 0, false
			i++
		case c == '\n':
			s.lineFeed()
			s.x, s.pendingWrap = 0, false // the renderer writes to a tty with onlcr
			i++
		case c == 0x1b:
			n, err := s.csi(str[i:])
			if err != nil && s.err == nil {
				s.err = err
			}
			i += n
		case c < 0x20 || c == 0x7f:
			if s.err == nil {
				s.err = fmt.Errorf("raw control %q reached the terminal", c)
			}
			i++
		default:
			r, n := utf8.DecodeRuneInString(str[i:])
			if r >= 0x80 && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
				if s.err == nil {
					s.err = fmt.Errorf("raw control %U reached the terminal", r)
				}
			}
			s.put(r)
			i += n
		}
	}
	return len(p), nil
}

func (s *screen) csi(str string) (int, error) {
	if len(str) < 2 || str[1] != '[' {
		return 1, fmt.Errorf("escape %q is not a CSI the renderer uses", str[:min(len(str), 8)])
	}
	j := 2
	for j < len(str) && str[j] >= '0' && str[j] <= '9' {
		j++
	}
	if j == len(str) {
		return j, fmt.Errorf("unterminated CSI %q", str)
	}
	n := 1
	if j > 2 {
		fmt.Sscanf(str[2:j], "%d", &n)
	}
	switch str[j] {
	case 'A':
		s.y = max(s.top(), s.y-n)
		s.pendingWrap = false
	case 'K':
		row := s.rows[s.y].cells
		for k := s.x; k < s.width; k++ {
			row[k] = 0
		}
		s.rows[s.y].wrapped = false
	case 'J':
		row := s.rows[s.y].cells
		for k := s.x; k < s.width; k++ {
			row[k] = 0
		}
		s.rows[s.y].wrapped = false
		for k := s.y + 1; k < len(s.rows); k++ {
			s.rows[k] = s.blank()
		}
	default:
		return j + 1, fmt.Errorf("CSI %q is not one the renderer uses", str[:j+1])
	}
	return j + 1, nil
}

func (s *screen) lineFeed() {
	s.y++
	if s.y == len(s.rows) {
		s.rows = append(s.rows, s.blank())
	}
}

func (s *screen) put(r rune) {
	w := runeWidth(r)
	if w == 0 {
		return
	}
	if s.pendingWrap || s.x+w > s.width {
		s.rows[s.y].wrapped = true
		s.lineFeed()
		s.x, s.pendingWrap = 0, false
	}
	s.rows[s.y].cells[s.x] = r
	if w == 2 {
		s.rows[s.y].cells[s.x+1] = 0
	}
	s.x += w
	if s.x == s.width {
		s.x, s.pendingWrap = s.width-1, true
	}
}

// resize reflows every logical line to width, keeping the cursor on the same
// character, and the cursor's row on screen.
func (s *screen) resize(width int) {
	type pos struct{ line, off int }
	var lines [][]rune
	var cur pos
	var line []rune
	for i, row := range s.rows {
		if i == s.y {
			cur = pos{len(lines), len(line) + s.x}
		}
		cells := row.cells
		if !row.wrapped {
			cells = []rune(strings.TrimRight(string(trimNUL(cells)), " "))
		}
		line = append(line, trimNUL(cells)...)
		if !row.wrapped {
			lines, line = append(lines, line), nil
		}
	}
	s.width = width
	s.rows = nil
	for li, l := range lines {
		start := len(s.rows)
		for len(l) > width {
			s.rows = append(s.rows, srow{cells: pad(l[:width], width), wrapped: true})
			l = l[width:]
		}
		s.rows = append(s.rows, srow{cells: pad(l, width)})
		if li == cur.line {
			s.y, s.x = start+cur.off/width, cur.off%width
		}
	}
	for len(s.rows) < s.height {
		s.rows = append(s.rows, s.blank())
	}
	// Rows below the cursor that are blank go: the screen ends at the cursor's rows.
	for len(s.rows) > s.height && s.y < len(s.rows)-1 && strings.TrimSpace(string(trimNUL(s.rows[len(s.rows)-1].cells))) == "" {
		s.rows = s.rows[:len(s.rows)-1]
	}
	s.pendingWrap = false
}

func trimNUL(cells []rune) []rune {
	out := make([]rune, 0, len(cells))
	for _, c := range cells {
		if c != 0 {
			out = append(out, c)
		}
	}
	return out
}

func pad(l []rune, width int) []rune {
	out := make([]rune, width)
	copy(out, l)
	return out
}

// lines are the rows on screen, trailing blanks trimmed, and blank rows at the end
// dropped.
func (s *screen) lines() []string {
	var out []string
	for _, row := range s.rows[s.top():] {
		out = append(out, strings.TrimRight(string(trimNUL(row.cells)), " "))
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// all is the scrollback and the screen.
func (s *screen) all() []string {
	var out []string
	for _, row := range s.rows {
		out = append(out, strings.TrimRight(string(trimNUL(row.cells)), " "))
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}
