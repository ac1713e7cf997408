package spec

import (
	"slices"

	"github.com/zclconf/go-cty/cty"

	"github.com/matrixbuild/matrix/plan"
)

// combo is one cell before evaluation: values aligned with target.keys, cty.NilVal
// where the cell has no such key.
type combo struct {
	vals []cty.Value
	strs []string
}

// expand makes the target's combinations: the cartesian product of the axes in written
// order (the first axis varies slowest), without the excluded ones, then the includes
// as GitHub Actions' strategy.matrix applies them.
func (t *target) expand() []combo {
	n := 1
	for _, a := range t.axes {
		n *= len(a.values)
	}
	nk := len(t.keys)
	cells := make([]combo, 0, n)
	idx := make([]int, len(t.axes))
	for range n {
		c := combo{vals: make([]cty.Value, nk), strs: make([]string, nk)}
		for i, a := range t.axes {
			c.vals[i], c.strs[i] = a.values[idx[i]], a.strs[idx[i]]
		}
		if !t.excluded(c) {
			cells = append(cells, c)
		}
		for i := len(idx) - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < len(t.axes[i].values) {
				break
			}
			idx[i] = 0
		}
	}
	if len(t.axes) == 0 && len(t.include) > 0 {
		cells = cells[:0] // without a matrix, only includes make cells (as on GitHub)
	}
	original := len(cells)
	for _, inc := range t.include {
		matched := false
		for ci := range original {
			if t.matches(cells[ci], inc, true) {
				matched = true
				for _, e := range inc.entries {
					if k := slices.Index(t.keys, e.name); k >= len(t.axes) {
						cells[ci].vals[k], cells[ci].strs[k] = e.value, e.str
					}
				}
			}
		}
		if !matched {
			c := combo{vals: make([]cty.Value, nk), strs: make([]string, nk)}
			for _, e := range inc.entries {
				k := slices.Index(t.keys, e.name)
				c.vals[k], c.strs[k] = e.value, e.str
			}
			cells = append(cells, c)
		}
	}
	return cells
}

func (t *target) excluded(c combo) bool {
	for _, ex := range t.exclude {
		if t.matches(c, ex, false) {
			return true
		}
	}
	return false
}

// matches reports whether every key of ks that is an original axis has the cell's
// value; with axesOnly false every key must be an axis (exclude).
func (t *target) matches(c combo, ks keyset, axesOnly bool) bool {
	for _, e := range ks.entries {
		k := slices.Index(t.keys, e.name)
		if k < 0 || k >= len(t.axes) {
			if axesOnly {
				continue
			}
			return false
		}
		if c.strs[k] != e.str {
			return false
		}
	}
	return true
}

// matrixValue is the `matrix` object of a cell: every key of the target, null where the
// cell lacks an include-only key.
func (t *target) matrixValue(c combo) cty.Value {
	m := make(map[string]cty.Value, len(t.keys))
	for i, k := range t.keys {
		if c.vals[i] == cty.NilVal {
			m[k] = cty.NullVal(cty.DynamicPseudoType)
		} else {
			m[k] = c.vals[i]
		}
	}
	return cty.ObjectVal(m)
}

func (t *target) axesOf(c combo) []plan.Axis {
	out := make([]plan.Axis, 0, len(t.keys))
	for i, k := range t.keys {
		if c.vals[i] != cty.NilVal {
			out = append(out, plan.Axis{Name: k, Value: goValue(c.vals[i])})
		}
	}
	return out
}
