package report

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/matrixbuild/matrix/internal/terminal"
	"github.com/matrixbuild/matrix/manifest"
)

// valueString is an axis value as the report shows it: a string as it is, a number
// as HCL writes it, anything else (a list or an object, which an axis may hold) as
// JSON.
func valueString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return "null"
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}

// valueKey tells axis values apart: "s:" for strings, "n:" for numbers, "j:" for the rest.
func valueKey(v any) string {
	switch v := v.(type) {
	case string:
		return "s:" + v
	case float64:
		return "n:" + strconv.FormatFloat(v, 'g', -1, 64)
	}
	return "j:" + valueString(v)
}

// compareValues orders axis values: numbers by value before strings in natural order
// ("0.9.1" before "0.10.0", "node18" before "node20"), then everything else by its JSON.
// The manifest lists artifacts by file name, so the report sorts rather than keeping
// an order the manifest does not hold.
func compareValues(a, b any) int {
	ra, rb := valueRank(a), valueRank(b)
	if ra != rb {
		return ra - rb
	}
	if fa, ok := a.(float64); ok {
		fb := b.(float64)
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		case math.IsNaN(fa) || math.IsNaN(fb):
			return 0
		}
		return 0
	}
	return naturalCompare(valueString(a), valueString(b))
}

func valueRank(v any) int {
	switch v.(type) {
	case float64:
		return 0
	case string:
		return 1
	}
	return 2
}

// naturalCompare compares a and b with runs of digits compared as numbers.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) - len(nb)
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		ca, sa := utf8.DecodeRuneInString(a)
		cb, sb := utf8.DecodeRuneInString(b)
		if ca != cb {
			if ca < cb {
				return -1
			}
			return 1
		}
		a, b = a[sa:], b[sb:]
	}
	return len(a) - len(b)
}

func digits(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// shown is text from the manifest, which is hostile, as the report shows it: escaped
// as on a terminal (controls and bidi overrides cannot reorder or hide what is
// around them; html/template escapes the markup) and clipped to max runes.
func shown(s string, max int) string {
	if len(s) > 4*max {
		s = s[:4*max] // a rune is at most 4 bytes, and escaping only lengthens
	}
	s = terminal.Escape(s)
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// axesString is "name=value,..." of axes, as a cell's name writes them.
func axesString(axes []manifest.Axis) string {
	var b strings.Builder
	for i, a := range axes {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(a.Name)
		b.WriteByte('=')
		b.WriteString(valueString(a.Value))
	}
	return b.String()
}

// lastLine is the last line of s that is not blank.
func lastLine(s string) string {
	s = strings.TrimRight(s, " \t\r\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimSpace(s)
}

// firstLine is the first line of s.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// sizeString is n bytes in the largest binary unit that keeps it at least 1.
func sizeString(n int64) string {
	switch {
	case n < 0:
		return "?"
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}

// durationString is secs as "12.3s" or "2m05s".
func durationString(secs float64) string {
	if math.IsNaN(secs) || secs < 0 || secs > 1e9 {
		return "?"
	}
	if secs < 60 {
		return fmt.Sprintf("%.1fs", secs)
	}
	s := int64(math.Round(secs))
	if s < 3600 {
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm%02ds", s/3600, s/60%60, s%60)
}
