package spec

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// sensitiveValue stands in messages for a value that may be sensitive.
const sensitiveValue = "(sensitive value)"

// sensitivity is the one rule for "may this expression's value hold (a part of) a
// sensitive variable's value?", used by our own messages and by HCL's alike. It judges
// an expression by what it refers to, and leaves a value out when in doubt:
//   - var.NAME when NAME is sensitive; local.NAME when NAME's expression is, by this rule;
//   - var or local as a whole, or with a computed name, when any variable is sensitive;
//   - matrix never: matrix, exclude and include may not use a sensitive value (loadAxes
//     and loadKeysets reject it), since they make cell names;
//   - any other name, which is the iterator of a for expression or of a dynamic block,
//     when any variable is sensitive: what it iterates over is not known here.
type sensitivity struct {
	vars   map[string]bool // the sensitive variables (only true entries)
	locals map[string]bool // locals that may hold a sensitive value (only true entries)
}

func newSensitivity() sensitivity {
	return sensitivity{vars: map[string]bool{}, locals: map[string]bool{}}
}

// expr reports whether expr's value may hold a sensitive value.
func (s sensitivity) expr(expr hcl.Expression) bool {
	if expr == nil || len(s.vars) == 0 {
		return false
	}
	// A dynamic block's generated attributes hide the iterator from Variables.
	for _, tr := range hcl.UnwrapExpression(expr).Variables() {
		switch root := tr.RootName(); root {
		case "var":
			if name, ok := attrName(tr, root); !ok || s.vars[name] {
				return true
			}
		case "local":
			if name, ok := attrName(tr, root); !ok || s.locals[name] {
				return true
			}
		case "matrix":
		default:
			return true
		}
	}
	return false
}

// attr is expr for an attribute that may be absent (nil).
func (s sensitivity) attr(attr *hcl.Attribute) bool {
	return attr != nil && s.expr(attr.Expr)
}

// redact drops the values HCL would print for an expression that may hold a sensitive
// value ("with x as ..."), and a function's own message, which may quote its arguments.
func (s sensitivity) redact(d *hcl.Diagnostic) *hcl.Diagnostic {
	if d.Expression == nil || !s.expr(d.Expression) {
		return d
	}
	c := *d
	c.Expression, c.EvalContext = nil, nil
	if call, ok := hcl.DiagnosticExtra[hclsyntax.FunctionCallDiagExtra](d); ok {
		c.Detail = fmt.Sprintf("Call to function %q failed; its message is left out, since it may show a sensitive value.", call.CalledFunctionName())
	}
	return &c
}

// registryCalls reports every argument of a registry function call in expr that may
// hold a sensitive value, by the rule of expr: such an argument is refused, not
// redacted, since it would leave in the request to the registry and in the call
// recorded in matrix.lock.json, which is committed.
func (s sensitivity) registryCalls(expr hcl.Expression) hcl.Diagnostics {
	if expr == nil || len(s.vars) == 0 {
		return nil
	}
	node, ok := hcl.UnwrapExpression(expr).(hclsyntax.Node)
	if !ok {
		return nil
	}
	var diags hcl.Diagnostics
	hclsyntax.VisitAll(node, func(n hclsyntax.Node) hcl.Diagnostics {
		call, ok := n.(*hclsyntax.FunctionCallExpr)
		if !ok || !isRegistryFunction(call.Name) {
			return nil
		}
		for _, arg := range call.Args {
			if s.expr(arg) {
				diags = append(diags, errorWithin(arg.Range(), call.Range(), "Sensitive value in a registry call",
					fmt.Sprintf("The arguments of %s may not use a sensitive variable, or a value made from one: the call is sent to the npm registry and recorded, with its answer, in matrix.lock.json.", call.Name)))
			}
		}
		return nil
	})
	return diags
}
