package resolve

import (
	"bytes"
	"encoding/json"

	"github.com/matrixbuild/matrix/plan"
)

// How a cell differs between the plan with the pins and the plan of today.
const (
	CellAdded   = "added"   // only today's plan has it
	CellRemoved = "removed" // only the pinned plan has it
	CellSkip    = "skip"    // skipped in one plan and not the other, or for another reason
	CellBuild   = "build"   // built in both, from a different definition
)

// CellChange is a cell that differs between two plans.
type CellChange struct {
	Cell   string      `json:"cell"`
	Target string      `json:"target"`
	Axes   []plan.Axis `json:"axes"`
	Change string      `json:"change"`
	// Skipped is why today's plan skips the cell; WasSkipped why the pinned one did.
	Skipped    string `json:"skipped,omitempty"`
	WasSkipped string `json:"was_skipped,omitempty"`
}

// CompareCells lists the cells that differ between the plan with the pins and the
// plan of today, by cell name: the cells today's plan adds, in its order; those it
// removes, in the pinned plan's order; then those that both have but skip or build
// otherwise, in today's order.
func CompareCells(pinned, today []plan.Cell) []CellChange {
	before := map[string]plan.Cell{}
	for _, c := range pinned {
		before[c.Name()] = c
	}
	after := map[string]bool{}
	var added, removed, changed []CellChange
	for _, c := range today {
		name := c.Name()
		after[name] = true
		ch := CellChange{Cell: name, Target: c.Target, Axes: c.Axes, Skipped: c.Skip}
		old, ok := before[name]
		switch {
		case !ok:
			ch.Change = CellAdded
			added = append(added, ch)
		case old.Skip != c.Skip:
			ch.Change, ch.WasSkipped = CellSkip, old.Skip
			changed = append(changed, ch)
		case c.Skip == "" && !sameCell(old, c):
			ch.Change = CellBuild
			changed = append(changed, ch)
		}
	}
	for _, c := range pinned {
		if name := c.Name(); !after[name] {
			removed = append(removed, CellChange{Cell: name, Target: c.Target, Axes: c.Axes, Change: CellRemoved, WasSkipped: c.Skip})
		}
	}
	return append(append(added, removed...), changed...)
}

func sameCell(a, b plan.Cell) bool {
	ja, erra := json.Marshal(a)
	jb, errb := json.Marshal(b)
	return erra == nil && errb == nil && bytes.Equal(ja, jb)
}
