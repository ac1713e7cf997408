package spec

import (
	"context"

	"github.com/zclconf/go-cty/cty"

	"github.com/matrixbuild/matrix/plan"
)

// maxKeys bounds a target's matrix keys (axes and the keys only includes add): every
// cell holds a value for each, and no real matrix has more than a handful.
const maxKeys = 64

// combo is one cell before evaluation: values aligned with target.keys, cty.NilVal
// where the cell has no such key.
type combo struct {
	vals []cty.Value
	strs []string
}

// productSize is the number of cells of the cartesian product of t's axes; too large
// when it is more than maxCells (then size is not counted further).
func (t *target) productSize() (size int, tooLarge bool) {
	size = 1
	for _, a := range t.axes {
		size *= len(a.values)
		if size > maxCells {
			return size, true
		}
	}
	return size, false
}

// expand makes the target's combinations: the cartesian product of the axes in written
// order (the first axis varies slowest), without the excluded ones, then the includes
// as GitHub Actions' strategy.matrix applies them. The product must have at most
// maxCells cells and the includes are at most maxCells (see loadKeysets), so the
// result has at most twice that. Each exclude and include visits only the cells it
// names (found by their position in the product), so that large excludes and includes
// cost what they touch. It stops with ctx's error when ctx is done.
func (t *target) expand(ctx context.Context) ([]combo, error) {
	n, _ := t.productSize()
	p := newProduct(t)
	excluded := make([]bool, n)
	if err := p.exclude(ctx, t.exclude, excluded); err != nil {
		return nil, err
	}
	nk := len(t.keys)
	var cells []combo
	// at[i] is the position in cells of the product's cell i; -1 when excluded.
	at := make([]int32, n)
	digits := make([]int, len(t.axes))
	for i := range n {
		if i%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		at[i] = -1
		if !excluded[i] {
			p.digits(i, digits)
			c := combo{vals: make([]cty.Value, nk), strs: make([]string, nk)}
			for k, a := range t.axes {
				c.vals[k], c.strs[k] = a.values[digits[k]], a.strs[digits[k]]
			}
			at[i] = int32(len(cells))
			cells = append(cells, c)
		}
	}
	if len(t.axes) == 0 && len(t.include) > 0 {
		cells = cells[:0] // without a matrix, only includes make cells (as on GitHub)
	}
	added, err := p.include(ctx, t.include, cells, at)
	if err != nil {
		return nil, err
	}
	for _, inc := range added {
		c := combo{vals: make([]cty.Value, nk), strs: make([]string, nk)}
		for _, e := range inc.entries {
			c.vals[e.key], c.strs[e.key] = e.value, e.str
		}
		cells = append(cells, c)
	}
	return cells, nil
}

// product finds cells of a target's cartesian product by their axis values: cell i of
// the product has, on axis k, the value digits(i)[k].
type product struct {
	t       *target
	strides []int            // strides[k]: how many cells one step of axis k skips
	values  []map[string]int // per axis, a value (as primitiveString renders it) to its index
}

func newProduct(t *target) *product {
	p := &product{t: t, strides: make([]int, len(t.axes)), values: make([]map[string]int, len(t.axes))}
	stride := 1
	for k := len(t.axes) - 1; k >= 0; k-- {
		p.strides[k] = stride
		stride *= len(t.axes[k].values)
		p.values[k] = make(map[string]int, len(t.axes[k].strs))
		for i, s := range t.axes[k].strs {
			p.values[k][s] = i
		}
	}
	return p
}

// digits sets d to the value index of each axis in cell i of the product.
func (p *product) digits(i int, d []int) {
	for k, s := range p.strides {
		d[k] = i / s % len(p.t.axes[k].values)
	}
}

// selection is the cells of the product that a keyset names by axis values.
type selection struct {
	fixed []int  // per axis, the value index it names; -1: any value
	axes  uint64 // bit k: axis k is named (maxKeys is 64)
	base  int    // the product position of the named values, the others at 0
}

// selects is the selection of ks, which names only axes with their values (entries
// for other keys are left out when axesOnly, else they make it select nothing);
// false when it selects no cell.
func (p *product) selects(ks keyset, axesOnly bool) (selection, bool) {
	s := selection{fixed: make([]int, len(p.strides))}
	for k := range s.fixed {
		s.fixed[k] = -1
	}
	for _, e := range ks.entries {
		if e.key < 0 || e.key >= len(p.strides) {
			if axesOnly {
				continue
			}
			return s, false
		}
		v, ok := p.values[e.key][e.str]
		if !ok {
			return s, false
		}
		s.fixed[e.key] = v
		s.axes |= 1 << e.key
		s.base += v * p.strides[e.key]
	}
	return s, true
}

// each calls fn with the position of every cell of the product in s, in order, until
// fn returns false; false when it did.
func (p *product) each(s selection, fn func(i int) bool) bool {
	free := make([]int, 0, len(p.strides)) // the axes s does not name, slowest first
	for k, v := range s.fixed {
		if v < 0 {
			free = append(free, k)
		}
	}
	count := make([]int, len(free))
	i := s.base
	for {
		if !fn(i) {
			return false
		}
		// Step the free axes like an odometer, the last one fastest.
		j := len(free) - 1
		for ; j >= 0; j-- {
			k := free[j]
			count[j]++
			i += p.strides[k]
			if count[j] < len(p.t.axes[k].values) {
				break
			}
			i -= count[j] * p.strides[k]
			count[j] = 0
		}
		if j < 0 {
			return true
		}
	}
}

// exclude marks the cells of the product that an exclude object matches. Equal
// objects are visited once.
func (p *product) exclude(ctx context.Context, excludes []keyset, excluded []bool) error {
	seen := map[[2]uint64]bool{}
	visited := 0
	for _, ks := range excludes {
		s, ok := p.selects(ks, false)
		key := [2]uint64{s.axes, uint64(s.base)}
		if !ok || seen[key] {
			continue
		}
		seen[key] = true
		var err error
		p.each(s, func(i int) bool {
			if visited++; visited%4096 == 0 {
				err = ctx.Err()
			}
			excluded[i] = true
			return err == nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// include applies the include objects as GitHub Actions does: one that matches cells
// of the product (by the axis values it names) adds its other keys to each of them, a
// later one overriding an earlier one; one that matches none is a cell of its own,
// which include returns in order. at maps product positions to cells (-1: excluded).
//
// The includes are applied last first, so that a key a later include set is not set
// again: an include whose keys later includes of the same axis values, or of none
// (which match every cell), all set is skipped without visiting its cells.
func (p *product) include(ctx context.Context, includes []keyset, cells []combo, at []int32) ([]keyset, error) {
	type applied struct {
		keys    uint64 // the include-only keys set by later includes of this selection
		matched bool
	}
	bySelection := map[[2]uint64]applied{}
	var everywhere uint64             // include-only keys set by a later include naming no axis
	set := make([]uint64, len(cells)) // per cell, the include-only keys already set
	matched := make([]bool, len(includes))
	visited := 0
	for ii := len(includes) - 1; ii >= 0; ii-- {
		ks := includes[ii]
		s, ok := p.selects(ks, true)
		if !ok || len(cells) == 0 {
			continue
		}
		var keys uint64
		for _, e := range ks.entries {
			if e.key >= len(p.strides) {
				keys |= 1 << e.key
			}
		}
		sel := [2]uint64{s.axes, uint64(s.base)}
		prev, seen := bySelection[sel]
		live := keys &^ (prev.keys | everywhere)
		if seen && live == 0 {
			matched[ii] = prev.matched
			continue
		}
		var err error
		p.each(s, func(i int) bool {
			if visited++; visited%4096 == 0 {
				err = ctx.Err()
			}
			c := at[i]
			if c < 0 {
				return err == nil
			}
			matched[ii] = true
			if live == 0 {
				return false // matched is all there is to find
			}
			for _, e := range ks.entries {
				if e.key < len(p.strides) {
					continue // an axis
				}
				if bit := uint64(1) << e.key; live&bit != 0 && set[c]&bit == 0 {
					cells[c].vals[e.key], cells[c].strs[e.key] = e.value, e.str
					set[c] |= bit
				}
			}
			return err == nil
		})
		if err != nil {
			return nil, err
		}
		bySelection[sel] = applied{keys: prev.keys | keys, matched: matched[ii]}
		if s.axes == 0 {
			everywhere |= keys
		}
	}
	var added []keyset
	for ii, ks := range includes {
		if !matched[ii] {
			added = append(added, ks)
		}
	}
	return added, nil
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
