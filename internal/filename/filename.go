// Package filename is the one rule for the names matrix creates in an output
// directory: artifact names that a matrix file declares, that the packer writes, that
// a manifest lists and that a later run carries over or verifies. A name that passes
// is a single path element that cannot escape the directory, hide among the tool's
// own temporary files, take the place of the tool's own records, pass for a
// command-line option or look like another name, and every name a run derives from
// it fits a file system's limit.
package filename

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The names a run derives from an artifact name NAME: the artifact, its temporary
// while it is packed and tested (atomicfile's ".NAME.tmp-RANDOM"), its log
// logs/NAME.log and the log's temporary ".NAME.log.tmp-RANDOM", the log of a failed
// attempt at a cell whose earlier artifact the records keep, logs/NAME.log.failed
// (made by renaming the log's temporary), and the undo entries that keep what the
// artifact and its log replace until the run is recorded (atomicfile.SetAside:
// ".NAME.tmp-was-RANDOM", ".NAME.log.tmp-was-RANDOM", or "new-" for "was-"). MaxLen
// fits the longest of them.
const (
	// nameMax is the longest directory entry a file system takes: NAME_MAX, 255 bytes
	// on ext4, XFS, btrfs, tmpfs and overlayfs (APFS and NTFS count 255 characters,
	// never more than the bytes).
	nameMax = 255
	// tempPrefix and tempMarker are what atomicfile puts around a name for its
	// temporary, and tempRandom the longest random part os.CreateTemp adds: a uint32
	// in decimal. undoKind is what an undo entry adds after tempMarker ("was-", "new-").
	tempPrefix = "."
	tempMarker = ".tmp-"
	tempRandom = len("4294967295")
	undoKind   = len("was-")
	// logSuffix makes a cell's log name, logs/NAME.log (the runner's logName), and
	// failedLogSuffix the name of a failed attempt's log beside it (runner.failedLog).
	logSuffix       = ".log"
	failedLogSuffix = logSuffix + ".failed"
	// MaxLen bounds a name in bytes: the longest name derived from it still fits
	// nameMax. That is the undo entry of its log, longer than the log's temporary,
	// the artifact's undo entry and the failed log.
	MaxLen = nameMax - max(len(tempPrefix+tempMarker)+undoKind+tempRandom, len(tempPrefix+logSuffix+tempMarker)+undoKind+tempRandom, len(failedLogSuffix))
)

// reserved are the entries of an output directory the tool writes itself: an artifact
// of one of these names would replace a record or be taken for one. The claim file
// .matrix.lock and the temporaries start with '.', which no name may.
var reserved = []string{"manifest.json", "SHA256SUMS", "report.html", "logs", "provenance.intoto.jsonl", "provenance.intoto.jsonl.sig"}

// Claim is the file whose flock claims an output directory for one run.
const Claim = ".matrix.lock"

// Own reports whether name is one of the tool's own entries of an output directory:
// its records, its report, its logs directory or its claim file. Its temporaries and undo
// entries are atomicfile's (atomicfile.IsTemp).
func Own(name string) bool {
	return name == Claim || slices.Contains(reserved, name)
}

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
		return fmt.Sprintf("it is %d bytes long, more than %d (the undo entry of its log, %s, must fit the %d bytes a file system allows)",
			len(name), MaxLen, tempPrefix+"NAME"+logSuffix+tempMarker+"was-RANDOM", nameMax)
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
	for _, r := range reserved {
		// Ignoring case: on a case-insensitive file system "Logs" is the directory "logs".
		if strings.EqualFold(name, r) {
			return fmt.Sprintf("it is the tool's own %s in the output directory (compared ignoring case, as case-insensitive file systems compare names)", strconv.Quote(r))
		}
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
