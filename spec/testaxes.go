package spec

import (
	"fmt"
	"maps"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/matrixbuild/matrix/plan"
)

// A test block may declare its own axes, test { matrix = { node = var.nodes } ... }:
// the cell's artifact is built once and tested once per combination of them, the
// first axis varying slowest. The test's attributes and skip blocks see the
// combination as test.KEY (matrix.KEY stays the cell's), so that a test axis never
// hides a cell axis of the same name.

// maxTests bounds the tests of one cell: each runs a container.
const maxTests = 64

// testName is the root name of a test's own axis values in its attributes.
const testName = "test"

// testScope is the scope of a test block's attributes and blocks: with test.KEY
// when the block declares axes.
func testScope(c *hcl.BodyContent, sc scope) scope {
	if _, ok := c.Attributes["matrix"]; !ok {
		return sc
	}
	inner := sc
	inner.extra = map[string]bool{testName: true}
	maps.Copy(inner.extra, sc.extra)
	return inner
}

// checkTestMatrix checks the shape and references of a test block's matrix.
func checkTestMatrix(c *hcl.BodyContent, sc scope) hcl.Diagnostics {
	attr, ok := c.Attributes["matrix"]
	if !ok {
		return nil
	}
	pairs, diags := hcl.ExprMap(attr.Expr)
	if diags.HasErrors() {
		return hcl.Diagnostics{errorWithin(attr.Expr.Range(), attr.Range, "Invalid test matrix", "A test's matrix must be written as an object constructor, { axis = [values...], ... }, so that its axes keep the order they are written in.")}
	}
	seen := map[string]hcl.Range{}
	for _, p := range pairs {
		name, ok := keyName(p.Key)
		switch {
		case !ok:
			diags = append(diags, errorAt(p.Key.Range().Ptr(), "Invalid test axis name", "A test axis name must be an identifier (letters, digits, '_' and '-', starting with a letter or '_'), so that it can be used as test.<name>."))
		case seen[name] != hcl.Range{}:
			diags = append(diags, errorAt(p.Key.Range().Ptr(), "Duplicate test axis", fmt.Sprintf("The test axis %q is already declared at %s.", name, rangeString(seen[name]))))
		default:
			seen[name] = p.Key.Range()
		}
		diags = append(diags, sc.checkExpr(p.Value)...)
		if sc.sens.expr(p.Value) {
			diags = append(diags, sensitiveCellsDiag("test matrix", p.Value.Range()))
		}
	}
	return diags
}

// tests evaluates a test block that declares axes into one test per combination,
// a skipped one with only its axes and its skip block's reason.
func (e *evaluator) tests(b *hcl.Block, content *hcl.BodyContent, c *plan.Cell) []plan.Test {
	attr := content.Attributes["matrix"]
	pairs, diags := hcl.ExprMap(attr.Expr)
	if diags.HasErrors() {
		e.failed = true // reported by the load
		return nil
	}
	var axes []axis
	total := 1
	for _, p := range pairs {
		name, _ := keyName(p.Key)
		val, ok := e.value(&hcl.Attribute{Name: "test axis " + name, Expr: p.Value, Range: p.Value.Range()}, cty.DynamicPseudoType)
		if !ok {
			return nil
		}
		ty := val.Type()
		if !(ty.IsListType() || ty.IsTupleType() || ty.IsSetType()) {
			e.failAt(p.Value.Range(), attr, "Invalid test axis values", fmt.Sprintf("The values of test axis %q must be a list of strings, numbers or bools, not %s.", name, friendly(val)))
			return nil
		}
		if n := val.LengthInt(); n == 0 || n > maxTests {
			e.failAt(p.Value.Range(), attr, "Invalid test axis values", fmt.Sprintf("The test axis %q has %d values: a test axis has from 1 to %d.", name, n, maxTests))
			return nil
		}
		ax, more := axisValues(name, val, p.Value)
		if more.HasErrors() {
			e.failed = true
			e.diags = append(e.diags, more...)
			return nil
		}
		axes = append(axes, *ax)
		if total *= len(ax.values); total > maxTests {
			e.fail(attr, "Too many tests", fmt.Sprintf("The test's axes make more than %d tests of each cell; each runs a container.", maxTests))
			return nil
		}
	}
	outer := e.ctx
	defer func() { e.ctx = outer }()
	var out []plan.Test
	for i := range total {
		vals := map[string]cty.Value{}
		var planAxes []plan.Axis
		for k, rest := len(axes)-1, i; k >= 0; k-- {
			v := axes[k].values[rest%len(axes[k].values)]
			rest /= len(axes[k].values)
			vals[axes[k].name] = v
			planAxes = append([]plan.Axis{{Name: axes[k].name, Value: goValue(v)}}, planAxes...)
		}
		e.ctx = outer.NewChild()
		e.ctx.Variables = map[string]cty.Value{testName: cty.ObjectVal(vals)}
		if reason := e.skip(content.Blocks); e.failed {
			return nil
		} else if reason != "" {
			out = append(out, plan.Test{Axes: planAxes, Skip: reason})
			continue
		}
		t := e.test(b, c)
		if t == nil {
			return nil
		}
		t.Axes = planAxes
		out = append(out, *t)
	}
	return out
}
