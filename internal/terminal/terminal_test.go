package terminal

import "testing"

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain text, ünïcode ✓": "plain text, ünïcode ✓",
		"a\tb":                  "a\tb",
		"\x1b]0;PWNED\x07\x1b[2J\r\x1b[Kfake ok line": `\x1b]0;PWNED\x07\x1b[2J\x0d\x1b[Kfake ok line`,
		"new\nline":                       `new\x0aline`,
		"del\x7f":                         `del\x7f`,
		"c1 \u009b2J":                     `c1 \u009b2J`,
		"bad \xff\xc2 utf8":               `bad \xff\xc2 utf8`,
		"\ufffd literal replacement char": "\ufffd literal replacement char",
		"evil\u202egpj.exe":               `evil\u202egpj.exe`,
		"\u202a\u202b\u202c\u202d\u202e":  `\u202a\u202b\u202c\u202d\u202e`,
		"\u2066\u2067\u2068\u2069":        `\u2066\u2067\u2068\u2069`,
		"\u200e\u200f\u061c":              `\u200e\u200f\u061c`,
		"zero\u200bwidth, \u2065, \u2070": "zero\u200bwidth, \u2065, \u2070", // not bidi controls: kept
		"arabic \u0627\u0644 kept":        "arabic \u0627\u0644 kept",
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEscapeLines(t *testing.T) {
	for in, want := range map[string]string{
		"one line":                          "one line",
		"script exited\n    last\n    line": "script exited\n    last\n    line",
		"a\n\x1b[2J\r\n\n\xff\n":            "a\n\\x1b[2J\\x0d\n\n\\xff\n",
		"tab\tkept\u009b":                   "tab\tkept\\u009b",
		"rtl\u202e\nnext\u2067":             "rtl\\u202e\nnext\\u2067",
	} {
		if got := EscapeLines(in); got != want {
			t.Errorf("EscapeLines(%q) = %q, want %q", in, got, want)
		}
		if got := string(AppendEscapedLines([]byte("> "), []byte(in))); got != "> "+want {
			t.Errorf("AppendEscapedLines(%q) = %q, want %q", in, got, "> "+want)
		}
	}
}
