// Package filename is the one rule for the names matrix creates in an output
// directory: artifact names that a matrix file declares, that the packer writes, that
// a manifest lists and that a later run carries over or verifies. A name that passes
// is a single path element that cannot escape the directory, hide among the tool's
// own temporary files, pass for a command-line option or look like another name.
package filename

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLen bounds a name in bytes: the temporary names made from it (".NAME.tmp-RANDOM",
// ".NAME.log.tmp-RANDOM") must still fit the 255 bytes most file systems allow.
const MaxLen = 200

// Why returns the reason name is not a plain file name, as a clause that completes
// "NAME is not a plain file name: ...", or "" when it is one.
func Why(name string) string {
	switch {
	case name == "":
		return "it is empty"
	case name == "." || name == "..":
		return "it names a directory"
	case strings.ContainsAny(name, `/\`):
		return `it contains a path separator ("/" or "\"); artifacts are written directly into the output directory`
	case strings.HasPrefix(name, "."):
		return "it starts with '.', which marks the tool's own hidden and temporary files"
	case strings.HasPrefix(name, "-"):
		return "it starts with '-', which commands would take for an option"
	case len(name) > MaxLen:
		return fmt.Sprintf("it is %d bytes long, more than %d", len(name), MaxLen)
	case !utf8.ValidString(name):
		return "it is not valid UTF-8"
	case strings.ContainsFunc(name, unicode.IsControl):
		return "it contains a control character"
	case strings.ContainsFunc(name, func(r rune) bool { return unicode.Is(unicode.Cf, r) }):
		// Bidi overrides (U+202E) and invisible characters make a name look like another.
		return "it contains an invisible formatting character (Unicode category Cf, like U+202E)"
	case strings.TrimSpace(name) != name:
		return "it starts or ends with white space"
	}
	return ""
}

// Check returns an error saying why name is not a plain file name, or nil.
func Check(name string) error {
	if why := Why(name); why != "" {
		return fmt.Errorf("%s is not a plain file name: %s", strconv.Quote(name), why)
	}
	return nil
}
