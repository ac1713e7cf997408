package spec

import (
	"fmt"
	"math"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/matrixbuild/matrix/plan"
	"github.com/zclconf/go-cty/cty"
)

// The attributes and blocks of a target; the per-cell ones are evaluated once per cell.
var targetSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "matrix"},
		{Name: "exclude"},
		{Name: "include"},
		{Name: "image", Required: true},
		{Name: "platform"},
		{Name: "workdir"},
		{Name: "env"},
		{Name: "pass_env"},
		{Name: "network"},
		{Name: "script", Required: true},
		{Name: "collect"},
		{Name: "artifact", Required: true},
		{Name: "format"},
		{Name: "timeout"},
		{Name: "max_size"},
		{Name: "retries"},
		{Name: "lock_files"},
		{Name: "cross_built"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "mount"},
		{Type: "test"},
	},
}

var testSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "image"},
		{Name: "platform"},
		{Name: "workdir"},
		{Name: "env"},
		{Name: "network"},
		{Name: "script", Required: true},
		{Name: "timeout"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "mount"}},
}

var mountSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"},
		{Name: "source", Required: true},
		{Name: "target", Required: true},
		{Name: "read_only"},
	},
}

// dynamicSchema is what a `dynamic "mount"` block holds (see hcl/ext/dynblock).
var dynamicSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "for_each", Required: true},
		{Name: "iterator"},
		{Name: "labels"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "content"}},
}

// withDynamic adds `dynamic "TYPE"` blocks to a schema, for the static check of a body
// before dynblock expands it.
func withDynamic(s *hcl.BodySchema) *hcl.BodySchema {
	out := *s
	out.Blocks = append(slices.Clone(s.Blocks), hcl.BlockHeaderSchema{Type: "dynamic", LabelNames: []string{"type"}})
	return &out
}

var (
	targetSchemaStatic = withDynamic(targetSchema)
	testSchemaStatic   = withDynamic(testSchema)
)

// target is one target block with its matrix evaluated; cells are made by Plan.
type target struct {
	name       string
	defRange   hcl.Range
	body       hcl.Body
	content    *hcl.BodyContent // static content; per cell when hasDynamic
	hasDynamic bool
	// dynamicPerCell: a dynamic block's for_each or labels refers to matrix, so the
	// blocks are expanded for each cell.
	dynamicPerCell bool
	axes           []axis
	exclude        []keyset
	include        []keyset
	keys           []string // axes, then keys only includes add, in first-seen order
	declared       []string // every axis name written, valid or not, for reference checks
	broken         bool     // Load reported an error about it: Plan skips it
}

type axis struct {
	name   string
	values []cty.Value
	strs   []string
	rng    hcl.Range
}

// keyset is one object of exclude or include.
type keyset struct {
	entries []entry
	rng     hcl.Range
}

type entry struct {
	name  string
	value cty.Value
	str   string
	rng   hcl.Range
}

func (f *File) loadTarget(b *hcl.Block, sc scope) (*target, hcl.Diagnostics) {
	t := &target{name: b.Labels[0], defRange: b.DefRange, body: b.Body}
	content, diags := b.Body.Content(targetSchemaStatic)
	t.content = content

	matrixOK := true
	if attr, ok := content.Attributes["matrix"]; ok {
		more := f.loadAxes(t, attr, sc)
		diags = append(diags, more...)
		_, notObject := hcl.ExprMap(attr.Expr)
		matrixOK = !notObject.HasErrors()
	}
	axisNames := t.declared
	for _, a := range t.axes {
		t.keys = append(t.keys, a.name)
	}
	if attr, ok := content.Attributes["exclude"]; ok {
		sets, more := f.loadKeysets(attr, sc)
		diags = append(diags, more...)
		for _, ks := range sets {
			for _, e := range ks.entries {
				if !slices.Contains(axisNames, e.name) {
					diags = append(diags, errorAt(e.rng.Ptr(), "Exclude names an unknown axis", fmt.Sprintf("Target %q has no axis named %q.%s", t.name, e.name, declaredList("Its axes are", axisNames))))
				}
			}
		}
		t.exclude = sets
	}
	if attr, ok := content.Attributes["include"]; ok {
		sets, more := f.loadKeysets(attr, sc)
		diags = append(diags, more...)
		for _, ks := range sets {
			for _, e := range ks.entries {
				if !slices.Contains(t.keys, e.name) {
					t.keys = append(t.keys, e.name)
				}
				if !slices.Contains(t.declared, e.name) {
					t.declared = append(t.declared, e.name)
				}
			}
		}
		t.include = sets
	}

	cellScope := sc
	cellScope.matrixKeys = t.declared
	cellScope.anyMatrix = !matrixOK // its keys are unknown: do not guess
	cellScope.target = t.name
	diags = append(diags, t.checkBody(content, cellScope)...)
	t.broken = diags.HasErrors()
	return t, diags
}

// checkBody checks the references of a target's (or its test's) per-cell attributes and
// blocks, and the shape of dynamic blocks.
func (t *target) checkBody(content *hcl.BodyContent, sc scope) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, attr := range sortedAttrs(content.Attributes) {
		switch attr.Name {
		case "matrix", "exclude", "include":
			continue
		}
		diags = append(diags, sc.check(attr.Expr, true)...)
	}
	for _, blk := range content.Blocks {
		switch blk.Type {
		case "mount":
			c, more := blk.Body.Content(mountSchema)
			diags = append(diags, more...)
			diags = append(diags, t.checkBody(c, sc)...)
		case "test":
			if prev := firstBlock(content.Blocks, "test"); prev != blk {
				diags = append(diags, errorAt(blk.DefRange.Ptr(), "Duplicate test block", fmt.Sprintf("A target has at most one test block; the first is at %s.", rangeString(prev.DefRange))))
				continue
			}
			c, more := blk.Body.Content(testSchemaStatic)
			diags = append(diags, more...)
			diags = append(diags, t.checkBody(c, sc)...)
		case "dynamic":
			t.hasDynamic = true
			kind := blk.Labels[0]
			if kind != "mount" {
				diags = append(diags, errorAt(blk.LabelRanges[0].Ptr(), "Unsupported dynamic block", fmt.Sprintf("Only mount blocks can be generated with dynamic, not %q.", kind)))
				continue
			}
			c, shapeDiags := blk.Body.Content(dynamicSchema)
			diags = append(diags, shapeDiags...)
			iter := kind
			for _, attr := range sortedAttrs(c.Attributes) {
				if attr.Name == "iterator" {
					iter = hcl.ExprAsKeyword(attr.Expr)
					if iter == "" {
						diags = append(diags, errorAt(attr.Expr.Range().Ptr(), "Invalid dynamic iterator name", "The iterator must be a bare name, like iterator = m."))
						iter = kind
					}
					continue
				}
				diags = append(diags, sc.check(attr.Expr, true)...)
				for _, tr := range attr.Expr.Variables() {
					if tr.RootName() == "matrix" {
						t.dynamicPerCell = true
					}
				}
			}
			inner := sc
			inner.extra = map[string]bool{iter: true}
			for k := range sc.extra {
				inner.extra[k] = true
			}
			for _, cb := range c.Blocks {
				cc, more := cb.Body.Content(mountSchema)
				diags = append(diags, more...)
				diags = append(diags, t.checkBody(cc, inner)...)
			}
			switch {
			case len(c.Blocks) == 0 && !shapeDiags.HasErrors():
				// (When this block's own shape is wrong, that is the problem to report.)
				diags = append(diags, errorAt(blk.DefRange.Ptr(), "Missing content block", "A dynamic block holds exactly one content block: the body of each generated block."))
			case len(c.Blocks) > 1:
				diags = append(diags, errorAt(c.Blocks[1].DefRange.Ptr(), "Duplicate content block", fmt.Sprintf("A dynamic block holds exactly one content block; the first is at %s.", rangeString(c.Blocks[0].DefRange))))
			}
		}
	}
	return diags
}

func firstBlock(blocks hcl.Blocks, typ string) *hcl.Block {
	for _, b := range blocks {
		if b.Type == typ {
			return b
		}
	}
	return nil
}

// loadAxes reads the matrix attribute: an object constructor whose keys, in written
// order, are the axes.
func (f *File) loadAxes(t *target, attr *hcl.Attribute, sc scope) hcl.Diagnostics {
	var diags hcl.Diagnostics
	pairs, more := hcl.ExprMap(attr.Expr)
	if more.HasErrors() {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid matrix",
			Detail:   "The matrix must be written as an object constructor, { axis = [values...], ... }, so that its axes keep the order they are written in. A variable or function result cannot be used as the whole matrix; use one for an axis's values instead.",
			Subject:  attr.Expr.Range().Ptr(),
			Context:  attr.Range.Ptr(),
		}}
	}
	seen := map[string]hcl.Range{}
	for _, p := range pairs {
		name, ok := keyName(p.Key)
		if !ok {
			diags = append(diags, errorAt(p.Key.Range().Ptr(), "Invalid axis name", "An axis name must be an identifier (letters, digits, '_' and '-', starting with a letter or '_'), so that it can be used as matrix.<name>."))
			continue
		}
		if prev, dup := seen[name]; dup {
			diags = append(diags, errorAt(p.Key.Range().Ptr(), "Duplicate axis", fmt.Sprintf("The axis %q is already declared at %s.", name, rangeString(prev))))
			continue
		}
		seen[name] = p.Key.Range()
		t.declared = append(t.declared, name)
		if more := sc.check(p.Value, false); more.HasErrors() {
			diags = append(diags, more...)
			continue
		}
		val, more := p.Value.Value(f.ctx)
		diags = append(diags, more...)
		if more.HasErrors() || !val.IsWhollyKnown() {
			continue
		}
		ax := axis{name: name, rng: p.Value.Range()}
		ty := val.Type()
		if val.IsNull() || !(ty.IsListType() || ty.IsTupleType() || ty.IsSetType()) {
			diags = append(diags, errorAt(p.Value.Range().Ptr(), "Invalid axis values", fmt.Sprintf("The values of axis %q must be a list of strings, numbers or bools, not %s.", name, friendly(val))))
			continue
		}
		strs := map[string]int{} // value -> index of its first occurrence
		bad := false
		i := -1
		for it := val.ElementIterator(); it.Next(); {
			i++
			_, ev := it.Element()
			rng := exprElemRange(p.Value, i)
			s, ok := primitiveString(ev)
			if !ok {
				diags = append(diags, errorAt(rng.Ptr(), "Invalid axis value", fmt.Sprintf("Each value of axis %q must be a string, a number or a bool, not %s.", name, friendly(ev))))
				bad = true
				continue
			}
			if first, dup := strs[s]; dup {
				where := ""
				if firstRng := exprElemRange(p.Value, first); firstRng != rng {
					where = fmt.Sprintf(" (first at %s)", rangeString(firstRng))
				}
				diags = append(diags, errorAt(rng.Ptr(), "Duplicate axis value", fmt.Sprintf("The axis %q lists %q more than once%s; each combination would be built twice.", name, s, where)))
				bad = true
				continue
			}
			strs[s] = i
			ax.values = append(ax.values, normalNumber(ev))
			ax.strs = append(ax.strs, s)
		}
		if bad {
			continue
		}
		if len(ax.values) == 0 {
			diags = append(diags, errorAt(p.Value.Range().Ptr(), "Empty axis", fmt.Sprintf("The axis %q has no values, so the target would have no cells. Remove the axis or give it at least one value.", name)))
			continue
		}
		t.axes = append(t.axes, ax)
	}
	return diags
}

// keyName is the name an object key expression stands for: a bare identifier or a
// constant string that is a valid identifier.
func keyName(expr hcl.Expression) (string, bool) {
	s := keyString(expr)
	return s, s != "" && hclsyntax.ValidIdentifier(s)
}

// keyString is the string an object key expression stands for: a bare identifier or a
// constant string; "" when it is neither.
func keyString(expr hcl.Expression) string {
	if kw := hcl.ExprAsKeyword(expr); kw != "" {
		return kw
	}
	val, diags := expr.Value(nil)
	if diags.HasErrors() || !val.IsKnown() || val.IsNull() || val.Type() != cty.String {
		return ""
	}
	return val.AsString()
}

// loadKeysets reads exclude or include: a list of objects of key = value. When written
// as literals, keys keep their written order and each has its own range.
func (f *File) loadKeysets(attr *hcl.Attribute, sc scope) ([]keyset, hcl.Diagnostics) {
	if diags := sc.check(attr.Expr, false); diags.HasErrors() {
		return nil, diags
	}
	var diags hcl.Diagnostics
	var sets []keyset
	if elems, more := hcl.ExprList(attr.Expr); !more.HasErrors() {
		for _, el := range elems {
			if pairs, more := hcl.ExprMap(el); !more.HasErrors() {
				if len(pairs) == 0 {
					diags = append(diags, emptyKeysetDiag(attr.Name, el.Range()))
					continue
				}
				ks := keyset{rng: el.Range()}
				for _, p := range pairs {
					name, ok := keyName(p.Key)
					if !ok {
						diags = append(diags, errorAt(p.Key.Range().Ptr(), "Invalid key", fmt.Sprintf("A key in %s must be an axis name or, in include, a new key usable as matrix.<name>.", attr.Name)))
						continue
					}
					if slices.ContainsFunc(ks.entries, func(e entry) bool { return e.name == name }) {
						diags = append(diags, errorAt(p.Key.Range().Ptr(), "Duplicate key", fmt.Sprintf("The key %q appears twice in this object.", name)))
						continue
					}
					val, more := p.Value.Value(f.ctx)
					diags = append(diags, more...)
					if more.HasErrors() || !val.IsWhollyKnown() {
						continue
					}
					s, ok := primitiveString(val)
					if !ok {
						diags = append(diags, keyValueDiag(attr.Name, name, val, p.Value.Range()))
						continue
					}
					ks.entries = append(ks.entries, entry{name: name, value: normalNumber(val), str: s, rng: p.Key.Range()})
				}
				sets = append(sets, ks)
				continue
			}
			val, more := el.Value(f.ctx)
			diags = append(diags, more...)
			if more.HasErrors() || !val.IsWhollyKnown() {
				continue
			}
			ks, more := objectKeyset(attr.Name, val, el.Range())
			diags = append(diags, more...)
			if !more.HasErrors() {
				sets = append(sets, ks)
			}
		}
		return sets, diags
	}
	val, more := attr.Expr.Value(f.ctx)
	diags = append(diags, more...)
	if more.HasErrors() || !val.IsWhollyKnown() {
		return nil, diags
	}
	ty := val.Type()
	if val.IsNull() || !(ty.IsListType() || ty.IsTupleType() || ty.IsSetType()) {
		return nil, append(diags, errorAt(attr.Expr.Range().Ptr(), "Invalid "+attr.Name, fmt.Sprintf("%s must be a list of objects, not %s.", attr.Name, friendly(val))))
	}
	for it := val.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		ks, more := objectKeyset(attr.Name, ev, attr.Expr.Range())
		diags = append(diags, more...)
		if !more.HasErrors() {
			sets = append(sets, ks)
		}
	}
	return sets, diags
}

// objectKeyset reads one computed object of exclude or include; its keys come sorted.
func objectKeyset(attrName string, val cty.Value, rng hcl.Range) (keyset, hcl.Diagnostics) {
	ks := keyset{rng: rng}
	ty := val.Type()
	if val.IsNull() || !(ty.IsObjectType() || ty.IsMapType()) {
		return ks, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid " + attrName,
			Detail:   fmt.Sprintf("Each element of %s must be an object like { axis = value }, not %s.", attrName, friendly(val)),
			Subject:  rng.Ptr(),
		}}
	}
	if val.LengthInt() == 0 {
		return ks, hcl.Diagnostics{emptyKeysetDiag(attrName, rng)}
	}
	var diags hcl.Diagnostics
	for it := val.ElementIterator(); it.Next(); {
		k, v := it.Element()
		name := k.AsString()
		if !hclsyntax.ValidIdentifier(name) {
			diags = append(diags, errorAt(rng.Ptr(), "Invalid key", fmt.Sprintf("The key %q in %s is not a valid name for matrix.<name>.", name, attrName)))
			continue
		}
		s, ok := primitiveString(v)
		if !ok {
			diags = append(diags, keyValueDiag(attrName, name, v, rng))
			continue
		}
		ks.entries = append(ks.entries, entry{name: name, value: normalNumber(v), str: s, rng: rng})
	}
	return ks, diags
}

// emptyKeysetDiag reports {} in exclude or include: it matches every cell, so an exclude
// would remove them all and an include would add nothing, which no one means.
func emptyKeysetDiag(attrName string, rng hcl.Range) *hcl.Diagnostic {
	what := "An empty object in exclude matches every cell and would remove them all."
	if attrName == "include" {
		what = "An empty object in include matches every cell and adds nothing."
	}
	return errorAt(rng.Ptr(), "Empty "+attrName+" object", what+" Name at least one key, like { axis = value }.")
}

func keyValueDiag(attrName, key string, val cty.Value, rng hcl.Range) *hcl.Diagnostic {
	return errorAt(rng.Ptr(), "Invalid "+attrName+" value", fmt.Sprintf("The value of %q in %s must be a string, a number or a bool, not %s.", key, attrName, friendly(val)))
}

// primitiveString is the string form of a known, non-null string, number or bool, as
// Axis.String renders it; values compare by it, so 20 and "20" match.
func primitiveString(v cty.Value) (string, bool) {
	if !v.IsKnown() || v.IsNull() {
		return "", false
	}
	switch v.Type() {
	case cty.String:
		return v.AsString(), true
	case cty.Number:
		return plan.AxisString(numberFloat(v)), true
	case cty.Bool:
		return plan.AxisString(v.True()), true
	}
	return "", false
}

// normalNumber gives a number the float64 value that Axis.Value holds, with the small
// precision that makes formatting it into every cell's strings cheap.
func normalNumber(v cty.Value) cty.Value {
	if v.Type() != cty.Number {
		return v
	}
	f := numberFloat(v)
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return cty.NumberIntVal(int64(f))
	}
	return cty.NumberFloatVal(f)
}

func numberFloat(v cty.Value) float64 {
	fl, _ := v.AsBigFloat().Float64()
	return fl
}

// goValue is the Axis.Value form of a primitive cty value.
func goValue(v cty.Value) any {
	switch v.Type() {
	case cty.String:
		return v.AsString()
	case cty.Number:
		return numberFloat(v)
	case cty.Bool:
		return v.True()
	}
	return nil
}

func friendly(v cty.Value) string {
	if v.IsNull() {
		return "null"
	}
	return v.Type().FriendlyName()
}

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
