package plan

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"
)

// IDHashLen is the number of hex digits of the hash that ends every cell ID.
const IDHashLen = 8

// maxSlug bounds the readable part of a cell ID, so that an ID stays a short file
// name and a GitHub job name however long the axis values are.
const maxSlug = 48

// ID is the cell's stable identifier, short and safe as a file name, a CI job name
// and a command-line argument: a readable slug, "-", and IDHashLen hex digits of a
// sha256, e.g. "sharp-lambda-arm64-0.34.5-9a169314". It depends only on the target's
// name and the cell's axes (names and values as strings, AxisString), never on the
// order of targets, axes or values in the file, on other attributes (images,
// scripts, variables that are not axes), on the plan's other cells or on the host:
// every runner computes the same ID for the same cell. The rule (README, "Selecting
// cells"):
//
//   - the axes are taken sorted by name (then value);
//   - the slug is the target's name then each axis value in that order, lowercased,
//     every run of characters other than a-z, 0-9 and "." made one "-", "-" and "."
//     trimmed from its ends, cut at maxSlug characters;
//   - the hash is sha256 over "matrix cell id 1", the target's name, then each
//     axis's name and value, each length-prefixed (so no two different cells give
//     the same bytes), of which the first IDHashLen hex digits are kept.
//
// Two cells whose slugs agree (values that differ only in characters the slug drops,
// or beyond its length) still differ by the hash; a plan in which two cells share an
// ID all the same (a 1 in 4 billion chance per pair of such cells) is refused by
// CheckIDs.
func (c Cell) ID() string {
	axes := slices.Clone(c.Axes)
	slices.SortStableFunc(axes, func(a, b Axis) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.String(), b.String()))
	})
	h := sha256.New()
	field := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field("matrix cell id 1")
	field(c.Target)
	parts := []string{c.Target}
	for _, a := range axes {
		field(a.Name)
		field(a.String())
		parts = append(parts, a.String())
	}
	sum := hex.EncodeToString(h.Sum(nil))[:IDHashLen]
	slug := slugOf(strings.Join(parts, "-"))
	if slug == "" {
		return sum
	}
	return slug + "-" + sum
}

// slugOf lowercases s, makes each run of characters other than a-z, 0-9 and "." one
// "-", trims "-" and "." from both ends and cuts the result at maxSlug.
func slugOf(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	out := b.String()
	if len(out) > maxSlug {
		out = out[:maxSlug]
	}
	return strings.Trim(out, "-.")
}

// DuplicateIDError is a plan in which two cells have the same ID.
type DuplicateIDError struct {
	ID           string
	First, Again string // the cells' names
}

func (e *DuplicateIDError) Error() string {
	return "cells " + e.First + " and " + e.Again + " have the same ID " + e.ID + "; rename an axis value or the target"
}

// CheckIDs returns a *DuplicateIDError when two cells of the plan share an ID.
func CheckIDs(cells []Cell) error {
	seen := make(map[string]string, len(cells))
	for _, c := range cells {
		id := c.ID()
		if first, ok := seen[id]; ok {
			return &DuplicateIDError{ID: id, First: first, Again: c.Name()}
		}
		seen[id] = c.Name()
	}
	return nil
}
