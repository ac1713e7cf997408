// Package selection is the one rule for which cells of a plan a command takes:
// `--cell ID`, `--only EXPR` and `--shard K/N` of `matrix plan`, `run` and `lock`
// (README, "Selecting cells"). Every runner that reads the same file, lock and flags
// computes the same selection, whatever the order of the flags: --cell and --only
// narrow the plan, then --shard partitions what is left by the cells' IDs and
// (with durations) the time each took last, never by the plan's order.
package selection

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/matrixbuild/matrix/plan"
)

// Selection is what the command line asks for; its zero value selects every cell.
type Selection struct {
	// Cells are cell IDs (--cell): a cell is taken when it is one of them. Empty:
	// every cell.
	Cells []string
	// Only are --only expressions: a cell is taken when it matches one of them.
	// Empty: every cell.
	Only []Only
	// Shard, when N > 0, keeps the shard's part of what Cells and Only took.
	Shard Shard
	// Durations are the time each cell took, by cell ID (Durations): --shard
	// balances by them. Nil: by count.
	Durations map[string]time.Duration
}

// Empty says whether the selection takes every cell of any plan.
func (s Selection) Empty() bool {
	return len(s.Cells) == 0 && len(s.Only) == 0 && s.Shard.N == 0
}

// Apply returns the cells of the plan that s selects, in plan order. An unknown cell
// ID or an axis no cell has is an error that names it (with the IDs or axes there
// are). Skipped cells are taken by --cell and --only like the others (a command
// shows or records them as skipped) but belong to no shard.
func (s Selection) Apply(cells []plan.Cell) ([]plan.Cell, error) {
	if s.Empty() {
		return cells, nil
	}
	if err := plan.CheckIDs(cells); err != nil {
		return nil, err
	}
	if err := s.check(cells); err != nil {
		return nil, err
	}
	var out []plan.Cell
	for _, c := range cells {
		if s.takes(c) {
			out = append(out, c)
		}
	}
	if s.Shard.N == 0 {
		return out, nil
	}
	part := s.Shard.of(out, s.Durations)
	return slices.DeleteFunc(out, func(c plan.Cell) bool { return !part[c.ID()] }), nil
}

// takes says whether c passes --cell and --only.
func (s Selection) takes(c plan.Cell) bool {
	if len(s.Cells) > 0 && !slices.Contains(s.Cells, c.ID()) {
		return false
	}
	if len(s.Only) == 0 {
		return true
	}
	for _, o := range s.Only {
		if o.Match(c) {
			return true
		}
	}
	return false
}

// check refuses a --cell ID that no cell has, and an --only axis that no cell has.
func (s Selection) check(cells []plan.Cell) error {
	var problems []error
	if len(s.Cells) > 0 {
		ids := make([]string, len(cells))
		for i, c := range cells {
			ids[i] = c.ID()
		}
		for _, id := range s.Cells {
			if !slices.Contains(ids, id) {
				problems = append(problems, unknownID(id, ids))
			}
		}
	}
	if len(s.Only) > 0 {
		axes, testAxes := axisNames(cells)
		for _, o := range s.Only {
			for _, t := range o.terms {
				if slices.Contains(axes, t.name) {
					continue
				}
				problems = append(problems, unknownAxis(o, t.name, axes, testAxes))
			}
		}
	}
	return errors.Join(problems...)
}

// unknownID says that no cell has id, suggesting the cell whose ID is nearest.
func unknownID(id string, ids []string) error {
	msg := fmt.Sprintf("--cell %s: no cell of the plan has this ID (`matrix plan` lists them)", strconv.Quote(id))
	if near := nearest(id, ids); near != "" {
		msg += "; did you mean " + near + "?"
	}
	return errors.New(msg)
}

// nearest is the ID that ends with the same hash as id (its slug mistyped or from
// before a target was renamed) or whose slug id is (the hash left out), else the one within a third of id's length in edits;
// "" when there is none.
func nearest(id string, ids []string) string {
	hash := id
	if i := strings.LastIndexByte(id, '-'); i >= 0 {
		hash = id[i+1:]
	}
	for _, c := range ids {
		if len(hash) == plan.IDHashLen && (c == hash || strings.HasSuffix(c, "-"+hash)) || strings.HasPrefix(c, id+"-") && len(c) == len(id)+1+plan.IDHashLen {
			return c
		}
	}
	best, bestD := "", len(id)/3+1
	for _, c := range ids {
		if d := distance(id, c, bestD); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// distance is the Levenshtein distance of a and b, or bound when it is at least bound.
func distance(a, b string, bound int) int {
	if d := len(a) - len(b); d >= bound || -d >= bound {
		return bound
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], bound)
}

// axisNames are the names of the cells' axes and of their tests' axes, in the order
// the plan first has them.
func axisNames(cells []plan.Cell) (axes, testAxes []string) {
	for _, c := range cells {
		for _, a := range c.Axes {
			if !slices.Contains(axes, a.Name) {
				axes = append(axes, a.Name)
			}
		}
		for _, t := range c.Tests {
			for _, a := range t.Axes {
				if !slices.Contains(testAxes, a.Name) {
					testAxes = append(testAxes, a.Name)
				}
			}
		}
	}
	return axes, testAxes
}

func unknownAxis(o Only, name string, axes, testAxes []string) error {
	have := "the plan's cells have no axes"
	if len(axes) > 0 {
		have = "the axes are " + strings.Join(axes, ", ")
	}
	if slices.Contains(testAxes, name) && !slices.Contains(axes, name) {
		return fmt.Errorf("--only %s: %s is an axis of a test block: each cell is built once and tested on every %s; select cells by their own axes (%s)", strconv.Quote(o.text), strconv.Quote(name), name, strings.TrimPrefix(have, "the axes are "))
	}
	return fmt.Errorf("--only %s: no cell has an axis %s; %s", strconv.Quote(o.text), strconv.Quote(name), have)
}
