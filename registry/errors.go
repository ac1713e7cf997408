package registry

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotFound is matched (errors.Is) by a NotFoundError.
var ErrNotFound = errors.New("no such package")

// NotFoundError is a package the registry does not have.
type NotFoundError struct {
	Package  string
	Registry string // without credentials
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no package %q on %s", e.Package, e.Registry)
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// FetchError is a document that could not be fetched: the registry could not be
// reached, refused, failed or sent something that is not a packument.
type FetchError struct {
	Package  string
	URL      string // the document's URL, without credentials
	Attempts int
	Err      error // the last attempt's
}

func (e *FetchError) Error() string {
	tries := "1 attempt"
	if e.Attempts != 1 {
		tries = fmt.Sprintf("%d attempts", e.Attempts)
	}
	return fmt.Sprintf("cannot fetch package %q from %s (%s): %v", e.Package, e.URL, tries, e.Err)
}

func (e *FetchError) Unwrap() error { return e.Err }

// ErrNotFull is the error for a question only the full document answers (publish times,
// libc) asked of an abbreviated one: Client.Packument was called with full false.
var ErrNotFull = errors.New("the abbreviated registry document has no publish times or libc: ask Client.Packument for the full one")

// NoMatchError is a range that no selectable version satisfies.
type NoMatchError struct {
	Package  string
	Range    string
	Registry string
	// Newest are the newest versions that the options allow, whatever the range.
	Newest []string
	// Excluded counts the versions in the range that the options left out, by reason.
	Excluded []Exclusion
}

// Exclusion is a number of versions left out for one reason.
type Exclusion struct {
	Reason string // e.g. "deprecated (deprecated = true keeps them)", after a count
	Count  int
}

func (e *NoMatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "no version of %q on %s satisfies %q", e.Package, e.Registry, e.Range)
	for i, x := range e.Excluded {
		sep := ", "
		if i == 0 {
			sep = "; in the range but left out: "
		}
		fmt.Fprintf(&b, "%s%d %s", sep, x.Count, x.Reason)
	}
	if len(e.Newest) == 0 {
		b.WriteString("; no version is available")
	} else {
		fmt.Fprintf(&b, "; the newest available: %s", strings.Join(e.Newest, ", "))
	}
	return b.String()
}

// VersionError is a version the package does not have.
type VersionError struct {
	Package string
	Version string
	Newest  []string
}

func (e *VersionError) Error() string {
	msg := fmt.Sprintf("package %q has no version %q", e.Package, e.Version)
	if len(e.Newest) > 0 {
		msg += "; the newest: " + strings.Join(e.Newest, ", ")
	}
	return msg
}
