package spec

import (
	"fmt"
	"math"
	"reflect"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// What one evaluation may build. HCL evaluates eagerly, and values share their parts:
// a chain of 40 locals each "${a}${a}" of the one before, a for expression inside a
// for expression inside a for expression over range(1000), or jsonencode(1e99999999)
// asked for terabytes, a billion values or hours of digits. Every value an expression
// makes where it can grow (see boundExpr) is measured as it is made, and what one
// evaluation makes in all is bounded: past the bound, the evaluation stops building
// (its values are unknown from there on) and is an error where it was exceeded.
const (
	// maxBuilt bounds what one evaluation (a variable, a local, a target's matrix,
	// include or exclude, or one cell) builds, in the units of valueSize: a string
	// counts its length, a number its digits, a collection elementSize an element.
	maxBuilt = 128 << 20
	// maxLoaded bounds the values a load keeps: every variable and local, measured as
	// maxBuilt measures, however much of them they share.
	maxLoaded = 256 << 20
	// callSize is what each measuring of a value counts beside the value: what HCL
	// spends around it (a for expression's iteration, a function call) is some
	// microseconds however small the value, and a billion of them take hours.
	callSize = 1024
	// elementSize is what valueSize counts for each element of a collection beside
	// the element itself: cty spends a microsecond or so on each, in several passes,
	// and some hundred bytes of memory.
	elementSize = 128
	// maxNumberDigits bounds the digits of a number written in full, as jsonencode and
	// tostring write it, and of a number read from text: both take time quadratic in
	// the digits (a million take seconds), and a plan has no use for a number beyond
	// float64's 1e308.
	maxNumberDigits = 1000
)

// log2of10 converts a number's binary exponent to decimal digits.
const log10of2 = 0.30103

// valueSize measures v in the units of maxBuilt, walking it only until it is over
// limit (then the size returned is over limit too). problem is not empty when v holds
// something no value may be, whatever its size: a number of more than maxNumberDigits
// digits, or a string that reads as one.
func valueSize(v cty.Value, limit int64) (size int64, problem string) {
	w := sizeWalk{limit: limit}
	w.walk(v)
	return w.size, w.problem
}

type sizeWalk struct {
	size, limit int64
	problem     string
}

func (w *sizeWalk) done() bool { return w.size > w.limit || w.problem != "" }

func (w *sizeWalk) walk(v cty.Value) {
	v, _ = v.Unmark()
	w.size++
	if !v.IsKnown() || v.IsNull() || w.done() {
		return
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		s := v.AsString()
		w.size += int64(len(s))
		if len(s) > maxNumberDigits && numeric(s) {
			w.problem = fmt.Sprintf("a string of %d digits, which as a number would take long to read (at most %d)", len(s), maxNumberDigits)
		}
	case ty == cty.Number:
		digits := numberDigits(v)
		w.size += digits
		if digits > maxNumberDigits {
			w.problem = fmt.Sprintf("a number of about %d digits written in full, more than %d", digits, maxNumberDigits)
		}
	case ty.IsMapType() || ty.IsObjectType():
		for it := v.ElementIterator(); it.Next() && !w.done(); {
			k, e := it.Element()
			w.size += elementSize + int64(len(k.AsString()))
			w.walk(e)
		}
	case v.CanIterateElements():
		for it := v.ElementIterator(); it.Next() && !w.done(); {
			_, e := it.Element()
			w.size += elementSize
			w.walk(e)
		}
	}
}

// numberDigits is about how many digits a known number has written in full (as
// big.Float's Text('f', -1) writes it): those before the point of a large one, or
// after it of a small one, plus what its precision may add.
func numberDigits(v cty.Value) int64 {
	f := v.AsBigFloat()
	if f.IsInf() || f.Sign() == 0 {
		return 1
	}
	exp := f.MantExp(nil)
	return int64(math.Abs(float64(exp))*log10of2) + 1
}

// numeric reports whether s is made only of what a number is written with, so that
// converting it to a number would read every digit.
func numeric(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c == '.', c == 'e', c == 'E', c == '+', c == '-':
		default:
			return false
		}
	}
	return true
}

// budget is what one evaluation may still build. The function boundFunction makes
// from it measures each value the evaluation makes where boundExpr wrapped it, and
// makes it unknown once the budget is spent, so that what follows is cheap: a for
// expression over an unknown collection does not iterate, a function called with an
// unknown argument does not run.
type budget struct {
	left int64
	// over is the first place a value went over the budget, or was something no value
	// may be (why); nil while none did.
	over *hcl.Range
	why  string
}

func newBudget(n int64) *budget { return &budget{left: n} }

// spend measures v, made at rng, against the budget; false when it is spent (or
// was before).
func (b *budget) spend(v cty.Value, rng hcl.Range) bool {
	if b.over != nil {
		return false
	}
	size, problem := valueSize(v, b.left)
	b.left -= size + callSize
	switch {
	case problem != "":
		b.over, b.why = rng.Ptr(), "It holds "+problem+"."
	case b.left < 0:
		b.over, b.why = rng.Ptr(), fmt.Sprintf("Evaluating it would build more than %d MiB of values (counted as if written out, a value as often as it is used). Chains of locals or templates that double a value, for expressions nested in for expressions, or a value repeated where it is used, do this.", maxBuilt>>20)
	}
	return b.over == nil
}

// diag is the error of a spent budget, within the attribute or expression at context.
func (b *budget) diag(context hcl.Range) *hcl.Diagnostic {
	if b.why != "" && b.why[:9] == "It holds " {
		return errorWithin(*b.over, context, "Value too large", b.why+" Numbers are bounded to what a plan can use.")
	}
	return errorWithin(*b.over, context, "Value too large", b.why)
}

// boundName is the name of the function boundExpr wraps expressions in; no source can
// call it, since it is not an identifier.
const boundName = "<bounded>"

// rangeType holds, as a literal argument, the range of the expression a call wraps.
var rangeType = cty.Capsule("range", reflect.TypeFor[hcl.Range]())

// function is the function that measures a wrapped expression's value against b.
func (b *budget) function() function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{
			{Name: "value", Type: cty.DynamicPseudoType, AllowUnknown: true, AllowNull: true, AllowDynamicType: true, AllowMarked: true},
			{Name: "range", Type: rangeType},
		},
		// Not the value's type: cty checks a result against the type declared, and
		// compares tuple types element by element, shared or not, which is as slow as
		// what this bounds.
		Type: function.StaticReturnType(cty.DynamicPseudoType),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if !b.spend(args[0], *args[1].EncapsulatedValue().(*hcl.Range)) {
				return cty.DynamicVal, nil
			}
			return args[0], nil
		},
	})
}

// within is a child of ctx (which may be nil) where what is evaluated spends b.
func (b *budget) within(ctx *hcl.EvalContext) *hcl.EvalContext {
	if ctx == nil {
		ctx = &hcl.EvalContext{}
	}
	child := ctx.NewChild()
	child.Functions = map[string]function.Function{boundName: b.function()}
	return child
}

// hasFunctions reports whether a call may be made in ctx (or its parents).
func hasFunctions(ctx *hcl.EvalContext) bool {
	for ; ctx != nil; ctx = ctx.Parent() {
		if ctx.Functions != nil {
			return true
		}
	}
	return false
}

// evalBounded evaluates expr in ctx within a budget of its own, its value included;
// a value over it is unknown, and the error is among the diagnostics. context is the
// range of what expr is a part of (its attribute).
func evalBounded(expr hcl.Expression, ctx *hcl.EvalContext, context hcl.Range) (cty.Value, hcl.Diagnostics) {
	b := newBudget(maxBuilt)
	val, diags := expr.Value(b.within(ctx))
	if !hasFunctions(ctx) {
		// Where HCL allows no call (a variable's default, a --var value), the bound
		// function is the only one: say what HCL would say without it.
		for _, d := range diags {
			if d.Summary == "Call to unknown function" {
				d.Summary, d.Detail = "Function calls not allowed", "Functions may not be called here."
			}
		}
	}
	if !diags.HasErrors() {
		b.spend(val, expr.Range())
	}
	if b.over != nil {
		return cty.DynamicVal, append(diags, b.diag(context))
	}
	return val, diags
}

// boundExpr wraps, in place, each part of expr whose value can be larger than the
// values it is made of, or that HCL converts to a number, in a call that measures it
// (budget.function): the collection, key and value of a for expression, the parts of
// a template, a function's arguments, an operator's operands and an index key.
// A reference is measured each time it is used there, since that is what may add up:
// "${local.a}${local.a}". Literals are left as they are, checked here: the error is at
// the first literal no value may be.
func boundExpr(expr hclsyntax.Expression) hcl.Diagnostics {
	var diags hcl.Diagnostics
	wrap := func(e *hclsyntax.Expression) {
		switch x := (*e).(type) {
		case *hclsyntax.LiteralValueExpr, nil:
			return
		case *hclsyntax.TemplateExpr:
			if x.IsStringLiteral() { // a quoted string: its literal is checked
				return
			}
		}
		// Ranges as the expression's own: HCL points at a call's StartRange.
		rng, start := (*e).Range(), (*e).StartRange()
		*e = &hclsyntax.FunctionCallExpr{
			Name:            boundName,
			Args:            []hclsyntax.Expression{*e, &hclsyntax.LiteralValueExpr{Val: cty.CapsuleVal(rangeType, &rng), SrcRange: rng}},
			NameRange:       start,
			OpenParenRange:  start,
			CloseParenRange: hcl.Range{Filename: rng.Filename, Start: rng.End, End: rng.End},
		}
	}
	// An operand of arithmetic, a comparison or a logical operator is converted to a
	// number or a bool: a reference is to a value measured already, and another
	// operator makes a number or a bool of its own operands. Measuring them would
	// cost every loop that counts.
	wrapOperand := func(e *hclsyntax.Expression) {
		switch (*e).(type) {
		case *hclsyntax.ScopeTraversalExpr, *hclsyntax.BinaryOpExpr, *hclsyntax.UnaryOpExpr:
			return
		}
		wrap(e)
	}
	hclsyntax.VisitAll(expr, func(n hclsyntax.Node) hcl.Diagnostics {
		switch n := n.(type) {
		case *hclsyntax.ForExpr:
			wrap(&n.CollExpr)
			wrap(&n.KeyExpr)
			wrap(&n.ValExpr)
		case *hclsyntax.TemplateExpr:
			for i := range n.Parts {
				wrap(&n.Parts[i])
			}
		case *hclsyntax.FunctionCallExpr:
			if n.Name != boundName {
				for i := range n.Args {
					wrap(&n.Args[i])
				}
			}
		case *hclsyntax.BinaryOpExpr:
			if n.Op == hclsyntax.OpEqual || n.Op == hclsyntax.OpNotEqual { // walks both whole
				wrap(&n.LHS)
				wrap(&n.RHS)
			} else {
				wrapOperand(&n.LHS)
				wrapOperand(&n.RHS)
			}
		case *hclsyntax.UnaryOpExpr:
			wrapOperand(&n.Val)
		case *hclsyntax.IndexExpr:
			wrap(&n.Key)
		case *hclsyntax.LiteralValueExpr:
			if _, problem := valueSize(n.Val, math.MaxInt64); problem != "" && len(diags) == 0 {
				diags = append(diags, errorAt(n.SrcRange.Ptr(), "Value too large", "It holds "+problem+". Numbers are bounded to what a plan can use."))
			}
		case *hclsyntax.ScopeTraversalExpr:
			diags = append(diags, traversalKeys(n.Traversal, len(diags) > 0)...)
		case *hclsyntax.RelativeTraversalExpr:
			diags = append(diags, traversalKeys(n.Traversal, len(diags) > 0)...)
		}
		return nil
	})
	return diags
}

// traversalKeys checks the literal keys of a traversal (x["..."], x[1]), which HCL
// converts to numbers to index a list.
func traversalKeys(tr hcl.Traversal, reported bool) hcl.Diagnostics {
	if reported {
		return nil
	}
	for _, step := range tr {
		if ix, ok := step.(hcl.TraverseIndex); ok {
			if _, problem := valueSize(ix.Key, math.MaxInt64); problem != "" {
				return hcl.Diagnostics{errorAt(ix.SrcRange.Ptr(), "Value too large", "It holds "+problem+". Numbers are bounded to what a plan can use.")}
			}
		}
	}
	return nil
}

// boundBody applies boundExpr to every attribute of body and of its blocks, but a
// variable's type, which is read as written, never evaluated.
func boundBody(body *hclsyntax.Body) hcl.Diagnostics {
	return boundBlockBody(body, "")
}

func boundBlockBody(body *hclsyntax.Body, blockType string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, name := range sortedKeys(body.Attributes) {
		if blockType == "variable" && name == "type" {
			continue
		}
		diags = append(diags, boundExpr(body.Attributes[name].Expr)...)
	}
	for _, b := range body.Blocks {
		diags = append(diags, boundBlockBody(b.Body, b.Type)...)
	}
	return diags
}
