package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/matrixbuild/matrix/manifest"
)

// value is one axis value of a cell, or none when the cell lacks the axis (a
// hand-written or merged manifest may mix cells of different axes in one target).
type value struct {
	v    any
	none bool
}

func (v value) key() string {
	if v.none {
		return "none"
	}
	return valueKey(v.v)
}

func (v value) String() string {
	if v.none {
		return "(none)"
	}
	return valueString(v.v)
}

func compare(a, b value) int {
	if a.none || b.none {
		return boolInt(a.none) - boolInt(b.none)
	}
	return compareValues(a.v, b.v)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func valueOf(axes []manifest.Axis, name string) value {
	for _, a := range axes {
		if a.Name == name {
			return value{v: a.Value}
		}
	}
	return value{none: true}
}

// sectionOf lays out one target's cells: the grid axes opts chooses (or the default),
// one grid per combination of the other axes.
func sectionOf(target string, cells []*cell, opts Options) section {
	var names []string
	for _, c := range cells {
		for _, a := range c.axes {
			if !slices.Contains(names, a.Name) {
				names = append(names, a.Name)
			}
		}
	}
	rowAxis, colAxis := axesFor(names, opts)
	var rest []string
	for _, n := range names {
		if n != rowAxis && n != colAxis {
			rest = append(rest, n)
		}
	}
	s := section{Target: shown(target, maxName), Axes: shown(strings.Join(names, " × "), maxHeader), Count: plural(len(cells), "cell")}

	type group struct {
		values []value
		cells  []*cell
	}
	groups := map[string]*group{}
	var order []*group
	for _, c := range cells {
		var vals []value
		var key strings.Builder
		for _, n := range rest {
			v := valueOf(c.axes, n)
			vals = append(vals, v)
			key.WriteString(v.key())
			key.WriteByte(0)
		}
		g := groups[key.String()]
		if g == nil {
			g = &group{values: vals}
			groups[key.String()] = g
			order = append(order, g)
		}
		g.cells = append(g.cells, c)
	}
	slices.SortStableFunc(order, func(a, b *group) int {
		for i := range a.values {
			if c := compare(a.values[i], b.values[i]); c != 0 {
				return c
			}
		}
		return 0
	})
	for _, g := range order {
		var title []string
		for i, n := range rest {
			title = append(title, n+" = "+g.values[i].String())
		}
		s.Grids = append(s.Grids, gridOf(shown(strings.Join(title, ", "), maxHeader), g.cells, rowAxis, colAxis))
	}
	return s
}

// axesFor picks the rows' and the columns' axes of a target with the axes names.
func axesFor(names []string, opts Options) (rows, cols string) {
	if slices.Contains(names, opts.Rows) {
		rows = opts.Rows
	}
	if slices.Contains(names, opts.Cols) {
		cols = opts.Cols
	}
	for _, n := range names {
		if rows == "" && n != cols {
			rows = n
		}
	}
	for _, n := range names {
		if cols == "" && n != rows {
			cols = n
		}
	}
	return rows, cols
}

// gridOf is a table of cells: a row per value of rowAxis, a column per value of
// colAxis. A grid much larger than its cells (each cell a row and a column of its
// own) would bound the page by the square of the cells: it then has one column.
func gridOf(title string, cells []*cell, rowAxis, colAxis string) grid {
	rows, cols := distinct(cells, rowAxis), distinct(cells, colAxis)
	if len(rows)*len(cols) > 4*len(cells)+16 {
		colAxis, cols = "", distinct(cells, "")
	}
	g := grid{Title: title, RowAxis: shown(rowAxis, maxAxisKey), ColAxis: shown(colAxis, maxAxisKey)}
	colIndex := map[string]int{}
	for i, v := range cols {
		colIndex[v.key()] = i
		g.Cols = append(g.Cols, shown(v.String(), maxAxisKey))
	}
	if colAxis == "" {
		g.Cols = []string{""}
	}
	rowIndex := map[string]int{}
	for i, v := range rows {
		rowIndex[v.key()] = i
		head := ""
		if rowAxis != "" {
			head = shown(v.String(), maxAxisKey)
		}
		g.Rows = append(g.Rows, gridRow{Head: head, Cells: make([][]*cell, len(cols))})
	}
	for _, c := range cells {
		r := rowIndex[axisKey(c, rowAxis)]
		k := colIndex[axisKey(c, colAxis)]
		g.Rows[r].Cells[k] = append(g.Rows[r].Cells[k], c)
	}
	return g
}

func axisKey(c *cell, axis string) string {
	if axis == "" {
		return value{v: "all"}.key()
	}
	return valueOf(c.axes, axis).key()
}

// distinct is the sorted values of axis among cells; one value for no axis.
func distinct(cells []*cell, axis string) []value {
	if axis == "" {
		return []value{{v: "all"}}
	}
	seen := map[string]bool{}
	var out []value
	for _, c := range cells {
		v := valueOf(c.axes, axis)
		if !seen[v.key()] {
			seen[v.key()] = true
			out = append(out, v)
		}
	}
	slices.SortStableFunc(out, compare)
	return out
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
