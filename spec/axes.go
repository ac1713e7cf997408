package spec

import (
	"fmt"
	"math"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/matrixbuild/matrix/plan"
)

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
	key   int // the index of name in target.keys; -1 in an exclude naming no axis
}

// loadAxes reads the matrix attribute: an object constructor whose keys, in written
// order, are the axes.
func (f *File) loadAxes(t *target, attr *hcl.Attribute, sc scope) hcl.Diagnostics {
	var diags hcl.Diagnostics
	pairs, more := hcl.ExprMap(attr.Expr)
	if more.HasErrors() {
		return hcl.Diagnostics{errorWithin(attr.Expr.Range(), attr.Range, "Invalid matrix", "The matrix must be written as an object constructor, { axis = [values...], ... }, so that its axes keep the order they are written in. A variable or function result cannot be used as the whole matrix; use one for an axis's values instead.")}
	}
	if len(pairs) > maxKeys {
		return hcl.Diagnostics{tooManyKeys(t.name, attr.Expr.Range())}
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
		ax, more := f.loadAxis(name, p.Value, sc)
		diags = append(diags, more...)
		if ax != nil {
			t.axes = append(t.axes, *ax)
		}
	}
	return diags
}

// loadAxis evaluates the values of one axis; nil when they are not usable (reported).
func (f *File) loadAxis(name string, expr hcl.Expression, sc scope) (*axis, hcl.Diagnostics) {
	if diags := sc.check(expr, false); diags.HasErrors() {
		return nil, diags
	}
	if f.sens.expr(expr) {
		return nil, hcl.Diagnostics{sensitiveCellsDiag("matrix", expr.Range())}
	}
	val, diags := evalBounded(expr, sc.eval, expr.Range())
	if diags.HasErrors() || !val.IsKnown() {
		return nil, diags
	}
	ty := val.Type()
	if val.IsNull() || !(ty.IsListType() || ty.IsTupleType() || ty.IsSetType()) {
		if !val.IsWhollyKnown() {
			return nil, diags
		}
		return nil, append(diags, errorAt(expr.Range().Ptr(), "Invalid axis values", fmt.Sprintf("The values of axis %q must be a list of strings, numbers or bools, not %s.", name, friendly(val))))
	}
	// Counted before anything else walks it.
	if n := val.LengthInt(); n > maxCells {
		return nil, append(diags, errorAt(expr.Range().Ptr(), "Matrix too large", fmt.Sprintf("The axis %q has %d values, more than a plan has cells (%d). %s", name, n, maxCells, tooLargeHint)))
	}
	if !val.IsWhollyKnown() {
		return nil, diags
	}
	ax, more := axisValues(name, val, expr)
	diags = append(diags, more...)
	if more.HasErrors() {
		return nil, diags
	}
	if len(ax.values) == 0 {
		return nil, append(diags, errorAt(expr.Range().Ptr(), "Empty axis", fmt.Sprintf("The axis %q has no values, so the target would have no cells. Remove the axis or give it at least one value.", name)))
	}
	return ax, diags
}

// axisValues checks every element of an axis's list and reports each bad one, at the
// element when the list is written as a tuple.
func axisValues(name string, val cty.Value, expr hcl.Expression) (*axis, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	ax := &axis{name: name, rng: expr.Range()}
	strs := map[string]int{} // value -> index of its first occurrence
	i := -1
	for it := val.ElementIterator(); it.Next(); {
		i++
		_, ev := it.Element()
		rng := exprElemRange(expr, i)
		s, ok := primitiveString(ev)
		if !ok {
			diags = append(diags, errorAt(rng.Ptr(), "Invalid axis value", fmt.Sprintf("Each value of axis %q must be a string, a number or a bool, not %s.", name, friendly(ev))))
			continue
		}
		if first, dup := strs[s]; dup {
			where := ""
			if firstRng := exprElemRange(expr, first); firstRng != rng {
				where = fmt.Sprintf(" (first at %s)", rangeString(firstRng))
			}
			diags = append(diags, errorAt(rng.Ptr(), "Duplicate axis value", fmt.Sprintf("The axis %q lists %q more than once%s; each combination would be built twice.", name, s, where)))
			continue
		}
		strs[s] = i
		ax.values = append(ax.values, normalNumber(ev))
		ax.strs = append(ax.strs, s)
	}
	return ax, diags
}

// sensitiveCellsDiag reports a sensitive value in matrix, exclude or include (what).
func sensitiveCellsDiag(what string, rng hcl.Range) *hcl.Diagnostic {
	return errorAt(rng.Ptr(), "Sensitive value in "+what, fmt.Sprintf("The %s may not use a sensitive variable, or a value made from one: cells are named after their matrix values, and matrix, exclude and include decide which cells exist, which the plan, logs and diagnostics all show. Use the value in a cell's attributes instead.", what))
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

// loadKeysets reads exclude or include of t: a list of objects of key = value. When
// written as literals, keys keep their written order and each has its own range. A
// list of more objects than a plan has cells is refused before its objects are read.
func (f *File) loadKeysets(t *target, attr *hcl.Attribute, sc scope) ([]keyset, hcl.Diagnostics) {
	if diags := sc.check(attr.Expr, false); diags.HasErrors() {
		return nil, diags
	}
	if f.sens.attr(attr) {
		return nil, hcl.Diagnostics{sensitiveCellsDiag(attr.Name, attr.Expr.Range())}
	}
	elems, notList := hcl.ExprList(attr.Expr)
	if notList.HasErrors() {
		return f.computedKeysets(t, attr, sc.eval)
	}
	if d := t.keysetsTooMany(attr, len(elems)); d != nil {
		return nil, hcl.Diagnostics{d}
	}
	var diags hcl.Diagnostics
	var sets []keyset
	for _, el := range elems {
		ks, more := f.loadKeyset(t, attr.Name, el, sc.eval)
		diags = append(diags, more...)
		if ks != nil {
			sets = append(sets, *ks)
		}
	}
	return sets, diags
}

// keysetsTooMany is the error for an exclude or include (attr) of n objects, when that
// is more than a plan has cells; nil when it is not.
func (t *target) keysetsTooMany(attr *hcl.Attribute, n int) *hcl.Diagnostic {
	if n <= maxCells {
		return nil
	}
	if attr.Name == "include" { // each may add a cell
		return errorWithin(attr.Expr.Range(), attr.Range, "Matrix too large", fmt.Sprintf("The include of target %q has %d objects, more than a plan has cells (%d), and each one that matches no cell of the matrix adds one. %s", t.name, n, maxCells, tooLargeHint))
	}
	return errorWithin(attr.Expr.Range(), attr.Range, "Exclude too large", fmt.Sprintf("The exclude of target %q has %d objects, more than a plan has cells (%d). %s", t.name, n, maxCells, tooLargeHint))
}

// loadKeyset reads one element of exclude or include (attrName) of t: an object
// constructor keeps its keys' order and ranges, another expression is evaluated. nil
// when the element is not usable (reported).
func (f *File) loadKeyset(t *target, attrName string, el hcl.Expression, eval *hcl.EvalContext) (*keyset, hcl.Diagnostics) {
	pairs, notMap := hcl.ExprMap(el)
	if notMap.HasErrors() {
		val, diags := evalBounded(el, eval, el.Range())
		if diags.HasErrors() || !val.IsWhollyKnown() {
			return nil, diags
		}
		ks, more := objectKeyset(t, attrName, val, el.Range())
		if more.HasErrors() {
			return nil, append(diags, more...)
		}
		return &ks, append(diags, more...)
	}
	if len(pairs) == 0 {
		return nil, hcl.Diagnostics{emptyKeysetDiag(attrName, el.Range())}
	}
	if len(pairs) > maxKeys {
		return nil, hcl.Diagnostics{tooManyKeys(t.name, el.Range())}
	}
	var diags hcl.Diagnostics
	ks := &keyset{rng: el.Range()}
	for _, p := range pairs {
		name, ok := keyName(p.Key)
		if !ok {
			diags = append(diags, errorAt(p.Key.Range().Ptr(), "Invalid key", fmt.Sprintf("A key in %s must be an axis name or, in include, a new key usable as matrix.<name>.", attrName)))
			continue
		}
		if slices.ContainsFunc(ks.entries, func(e entry) bool { return e.name == name }) {
			diags = append(diags, errorAt(p.Key.Range().Ptr(), "Duplicate key", fmt.Sprintf("The key %q appears twice in this object.", name)))
			continue
		}
		val, more := evalBounded(p.Value, eval, p.Value.Range())
		diags = append(diags, more...)
		if more.HasErrors() || !val.IsWhollyKnown() {
			continue
		}
		s, ok := primitiveString(val)
		if !ok {
			diags = append(diags, keyValueDiag(attrName, name, val, p.Value.Range()))
			continue
		}
		ks.entries = append(ks.entries, entry{name: name, value: normalNumber(val), str: s, rng: p.Key.Range(), key: -1})
	}
	return ks, diags
}

// computedKeysets reads exclude or include of t written as one expression, not a list.
func (f *File) computedKeysets(t *target, attr *hcl.Attribute, eval *hcl.EvalContext) ([]keyset, hcl.Diagnostics) {
	val, diags := evalBounded(attr.Expr, eval, attr.Range)
	if diags.HasErrors() || !val.IsKnown() {
		return nil, diags
	}
	ty := val.Type()
	if val.IsNull() || !(ty.IsListType() || ty.IsTupleType() || ty.IsSetType()) {
		if !val.IsWhollyKnown() {
			return nil, diags
		}
		return nil, append(diags, errorAt(attr.Expr.Range().Ptr(), "Invalid "+attr.Name, fmt.Sprintf("%s must be a list of objects, not %s.", attr.Name, friendly(val))))
	}
	// Counted before anything else walks it.
	if d := t.keysetsTooMany(attr, val.LengthInt()); d != nil {
		return nil, append(diags, d)
	}
	if !val.IsWhollyKnown() {
		return nil, diags
	}
	var sets []keyset
	for it := val.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		ks, more := objectKeyset(t, attr.Name, ev, attr.Expr.Range())
		diags = append(diags, more...)
		if !more.HasErrors() {
			sets = append(sets, ks)
		}
	}
	return sets, diags
}

// objectKeyset reads one computed object of exclude or include of t; its keys come
// sorted.
func objectKeyset(t *target, attrName string, val cty.Value, rng hcl.Range) (keyset, hcl.Diagnostics) {
	ks := keyset{rng: rng}
	ty := val.Type()
	if val.IsNull() || !(ty.IsObjectType() || ty.IsMapType()) {
		return ks, hcl.Diagnostics{errorAt(rng.Ptr(), "Invalid "+attrName, fmt.Sprintf("Each element of %s must be an object like { axis = value }, not %s.", attrName, friendly(val)))}
	}
	switch n := val.LengthInt(); {
	case n == 0:
		return ks, hcl.Diagnostics{emptyKeysetDiag(attrName, rng)}
	case n > maxKeys:
		return ks, hcl.Diagnostics{tooManyKeys(t.name, rng)}
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
		ks.entries = append(ks.entries, entry{name: name, value: normalNumber(v), str: s, rng: rng, key: -1})
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
