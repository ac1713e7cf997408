package spec

import (
	"fmt"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// evaluator evaluates the attributes of one cell, reporting problems to dc.
type evaluator struct {
	ctx      *hcl.EvalContext
	diags    hcl.Diagnostics
	contents blockContents
	result   located
	name     string // the cell's, for diagnostics
	dir      string
	failed   bool
	// sens judges which values messages leave out.
	sens sensitivity
	// budget is what the cell's evaluations may still build; ctx spends it.
	budget *budget
}

// eval evaluates attr's expression in the cell, its value spending the cell's budget;
// an error when the budget is spent (then and after, once for the cell).
func (e *evaluator) eval(attr *hcl.Attribute) (cty.Value, hcl.Diagnostics) {
	if e.budget == nil { // an evaluator made for a test
		return attr.Expr.Value(e.ctx)
	}
	spent := e.budget.over != nil
	val, diags := attr.Expr.Value(e.ctx)
	if !diags.HasErrors() {
		e.budget.spend(val, attr.Expr.Range())
	}
	if e.budget.over == nil {
		return val, diags
	}
	if !spent {
		diags = append(diags, e.budget.diag(attr.Range))
	}
	return cty.DynamicVal, diags
}

// content decodes b's body with schema, from the cache when it is there.
func (e *evaluator) content(b *hcl.Block, schema *hcl.BodySchema) (*hcl.BodyContent, bool) {
	if c, ok := e.contents.get(b.Body); ok {
		return c, true
	}
	c, diags := b.Body.Content(schema)
	switch {
	case !diags.HasErrors():
	case !breaks(diags) && c != nil:
		// An unknown attribute or block, which the load reported: the cell fails
		// without saying it again, and what the block does hold is still checked.
		e.failed = true
	default:
		e.failed = true
		e.diags = append(e.diags, diags...)
		return nil, false
	}
	return c, true
}

// shown is s quoted for a message about attr, or sensitiveValue.
func (e *evaluator) shown(attr *hcl.Attribute, s string) string {
	if e.sens.attr(attr) {
		return sensitiveValue
	}
	return strconv.Quote(s)
}

// shownPlain is shown without the quotes, for numbers and durations.
func (e *evaluator) shownPlain(attr *hcl.Attribute, s string) string {
	if e.sens.attr(attr) {
		return sensitiveValue
	}
	return s
}

func (e *evaluator) fail(attr *hcl.Attribute, summary, detail string) {
	e.failAt(attr.Expr.Range(), attr, summary, detail)
}

// failAt reports a problem with a part of attr's expression, such as one key of a map.
func (e *evaluator) failAt(rng hcl.Range, attr *hcl.Attribute, summary, detail string) {
	e.failed = true
	e.diags = append(e.diags, errorWithin(rng, attr.Range, summary, detail))
}

// keyRange is the range of the key name in attr's object constructor, or of the whole
// expression when it is not written as one.
func keyRange(attr *hcl.Attribute, name string) hcl.Range {
	pairs, diags := hcl.ExprMap(attr.Expr)
	if !diags.HasErrors() {
		for _, p := range pairs {
			if keyString(p.Key) == name {
				return p.Key.Range()
			}
		}
	}
	return attr.Expr.Range()
}

// elemRange is the range of element i of attr's tuple constructor, or of the whole
// expression when it is not written as one.
func elemRange(attr *hcl.Attribute, i int) hcl.Range {
	return exprElemRange(attr.Expr, i)
}

// exprElemRange is the range of element i of a tuple constructor, or of the whole
// expression when it is not written as one.
func exprElemRange(expr hcl.Expression, i int) hcl.Range {
	elems, diags := hcl.ExprList(expr)
	if !diags.HasErrors() && i >= 0 && i < len(elems) {
		return elems[i].Range()
	}
	return expr.Range()
}

// typeName is how messages name the types attributes convert to.
func typeName(ty cty.Type) string {
	switch {
	case ty == cty.String:
		return "a string"
	case ty == cty.Number:
		return "a number"
	case ty == cty.Bool:
		return "a bool"
	case ty.Equals(cty.Map(cty.String)):
		return "a map of strings, like { NAME = \"value\" }"
	case ty.Equals(cty.List(cty.String)):
		return "a list of strings"
	}
	return ty.FriendlyName()
}

// value evaluates attr converted to ty; ok is false when attr is absent (nil), and (the
// problem reported) when it cannot be converted, or is null.
func (e *evaluator) value(attr *hcl.Attribute, ty cty.Type) (cty.Value, bool) {
	if attr == nil {
		return cty.NilVal, false
	}
	val, diags := e.eval(attr)
	if diags.HasErrors() {
		e.failed = true
		e.diags = append(e.diags, diags...)
		return cty.NilVal, false
	}
	if !val.IsWhollyKnown() {
		e.failed = true // depends on a variable whose problem was reported
		return cty.NilVal, false
	}
	if val.IsNull() {
		e.fail(attr, "Missing value", fmt.Sprintf("The value of %q is null.", attr.Name))
		return cty.NilVal, false
	}
	out, err := convert.Convert(val, ty)
	if err != nil {
		detail := fmt.Sprintf("The value of %q must be %s, not %s.", attr.Name, typeName(ty), friendly(val))
		// The error's path names map keys and object attributes, which may be secret.
		if !ty.IsPrimitiveType() && !e.sens.attr(attr) && (val.Type().IsObjectType() || val.Type().IsTupleType() || val.Type().IsMapType() || val.Type().IsListType()) {
			detail = fmt.Sprintf("The value of %q must be %s: %s.", attr.Name, typeName(ty), err)
		}
		e.fail(attr, "Incorrect attribute value type", detail)
		return cty.NilVal, false
	}
	return out, true
}

// bool is an optional bool attribute: false when absent or invalid (reported).
func (e *evaluator) bool(attr *hcl.Attribute) bool {
	v, ok := e.value(attr, cty.Bool)
	return ok && v.True()
}

func (e *evaluator) str(attrs hcl.Attributes, name, def string) (string, *hcl.Attribute) {
	attr, ok := attrs[name]
	if !ok {
		return def, nil
	}
	v, ok := e.value(attr, cty.String)
	if !ok {
		// Its problem is reported: no further check of this attribute should add one.
		return def, nil
	}
	return v.AsString(), attr
}

// strings evaluates a list-of-strings attribute and hands each non-null element, with
// its source range, to keep, which validates it and says whether it stays.
func (e *evaluator) strings(attr *hcl.Attribute, what string, keep func(rng hcl.Range, s string) bool) []string {
	out := []string{}
	v, ok := e.value(attr, cty.List(cty.String))
	if !ok {
		return out
	}
	for it := v.ElementIterator(); it.Next(); {
		iv, ev := it.Element()
		i, _ := iv.AsBigFloat().Int64()
		rng := elemRange(attr, int(i))
		if ev.IsNull() {
			e.failAt(rng, attr, "Missing value", fmt.Sprintf("%s lists a null value.", what))
			continue
		}
		if s := ev.AsString(); keep(rng, s) {
			out = append(out, s)
		}
	}
	return out
}
