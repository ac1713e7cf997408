package registry

// Reading .npmrc as npm does: ini lines, quoting, ${VAR} expansion.

import (
	"encoding/json"
	"strings"
)

// parseNpmrc reads an .npmrc as npm's ini parser does: "key = value" lines, ";" and
// "#" comments, quoted values, keys under a [section] ignored; then ${VAR} expanded in
// keys and values.
func parseNpmrc(text string, env func(string) (string, bool)) []entry {
	var out []entry
	inSection := false
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSuffix(line, "\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || trimmed[0] == ';' || trimmed[0] == '#' {
			continue
		}
		if trimmed[0] == '[' && strings.HasSuffix(trimmed, "]") {
			inSection = true
			continue
		}
		if inSection {
			continue
		}
		k, v, hasValue := strings.Cut(line, "=")
		key, value := unquoteIni(k), "true"
		if hasValue {
			value = unquoteIni(v)
		}
		key = strings.TrimSuffix(key, "[]")
		key, unsetK := expandEnv(key, env)
		value, unsetV := expandEnv(value, env)
		if key == "" {
			continue
		}
		out = append(out, entry{line: i + 1, key: key, value: value, unset: append(unsetK, unsetV...)})
	}
	return out
}

// unquoteIni is the ini package's unsafe(): a quoted value is taken whole (JSON
// unquoted when it can be), an unquoted one ends at the first unescaped ";" or "#".
func unquoteIni(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		if s[0] == '\'' {
			s = s[1 : len(s)-1]
		}
		var u string
		if json.Unmarshal([]byte(s), &u) == nil {
			return u
		}
		return s
	}
	var b strings.Builder
	esc := false
	for _, c := range s {
		switch {
		case esc:
			if !strings.ContainsRune(`\;#`, c) {
				b.WriteByte('\\')
			}
			b.WriteRune(c)
			esc = false
		case c == ';' || c == '#':
			return strings.TrimSpace(b.String())
		case c == '\\':
			esc = true
		default:
			b.WriteRune(c)
		}
	}
	if esc {
		b.WriteByte('\\')
	}
	return strings.TrimSpace(b.String())
}

// expandEnv replaces ${NAME} as npm does: an unset variable stays as written, and
// ${NAME?} becomes "" instead; an odd run of backslashes before "$" escapes it (half
// of them are kept). It returns the names of unset variables it left in.
func expandEnv(s string, env func(string) (string, bool)) (string, []string) {
	var b strings.Builder
	var unset []string
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), unset
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			b.WriteString(s)
			return b.String(), unset
		}
		name := s[i+2 : i+end]
		optional := strings.HasSuffix(name, "?")
		name = strings.TrimSuffix(name, "?")
		if name == "" || strings.ContainsAny(name, "${}?") {
			b.WriteString(s[:i+2])
			s = s[i+2:]
			continue
		}
		esc := 0
		for esc < i && s[i-1-esc] == '\\' {
			esc++
		}
		b.WriteString(s[:i-esc])
		orig := s[i : i+end+1]
		s = s[i+end+1:]
		if esc%2 == 1 {
			b.WriteString(strings.Repeat(`\`, esc/2))
			b.WriteString(orig)
			continue
		}
		b.WriteString(strings.Repeat(`\`, esc/2))
		switch v, ok := env(name); {
		case ok:
			b.WriteString(v)
		case optional:
		default:
			b.WriteString(orig)
			unset = append(unset, name)
		}
	}
}
