package pack

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors, wrapped in an *EntryError; test with errors.Is.
var (
	ErrAbsoluteLink    = errors.New("absolute link target")
	ErrEscapes         = errors.New("link target leaves the tree")
	ErrLoop            = errors.New("link loop")
	ErrDangling        = errors.New("dangling link")
	ErrUnsupportedType = errors.New("unsupported entry type")
	ErrTooLarge        = errors.New("content exceeds the size limit")
	ErrTooManyEntries  = errors.New("too many entries")
	ErrBadName         = errors.New("bad entry name")
	ErrConflict        = errors.New("conflicting entries")
	// ErrEmpty reports a stream without entries.
	ErrEmpty = errors.New("empty tar stream")
)

// EntryError names the entry of the input stream that cannot be packed.
type EntryError struct {
	Entry  string // name in the stream (normalised where it could be)
	Link   string // "symlink" or "hard link" when Target is a link target, else ""
	Target string // the link target as the stream gives it
	Err    error  // why; wraps one of the sentinels
}

func (e *EntryError) Error() string {
	s := printable(e.Entry)
	if e.Link != "" {
		s += ": " + e.Link + " to " + strconv.Quote(clip(e.Target))
	}
	return s + ": " + e.Err.Error()
}

// maxShown bounds a name from the stream in a message: names come from the build
// container, and a hostile one could be megabytes long or hold terminal escapes.
const maxShown = 300

func clip(s string) string {
	if len(s) > maxShown {
		return s[:maxShown] + "..."
	}
	return s
}

// printable shows a plain name as it is and quotes anything else.
func printable(name string) string {
	name = clip(name)
	if name != "" && strconv.Quote(name) == `"`+name+`"` && !strings.ContainsAny(name, " :") {
		return name
	}
	return strconv.Quote(name)
}

func (e *EntryError) Unwrap() error { return e.Err }
