package spec

import (
	"fmt"
	"slices"
	"strings"

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
//     and loadKeysets reject it), since they make cell names; no iterator may be named
//     var, local or matrix (reservedNames), so these three are never an iterator;
//   - an iterator (of a for expression, of a dynamic block) by what it iterates: by the
//     innermost binding of its name around it (iterators), also when the expression is
//     only a part of one, as in HCL's messages; a name no binding holds, always;
//   - the item of a splat (x[*].y) without its splat, whose source is not known here.
type sensitivity struct {
	vars   map[string]bool // the sensitive variables (only true entries)
	locals map[string]bool // locals that may hold a sensitive value (only true entries)
	// iterators are the bindings of iterator names in the file, by whether each
	// iterates over a value that may be sensitive. Judging an expression adds those of
	// its for expressions; checkDynamic adds those of dynamic blocks. Every expression
	// is judged at load, before any cell is evaluated or message rendered.
	iterators map[binding]bool
	// learning: judging adds to iterators. True while the file loads; false after,
	// when cells are evaluated in parallel and only read the table.
	learning bool
}

// binding is an iterator's name and the source it is bound in: the parts of a for
// expression after its collection, the content block of a dynamic block.
type binding struct {
	name  string
	scope hcl.Range
}

func newSensitivity() sensitivity {
	return sensitivity{vars: map[string]bool{}, locals: map[string]bool{}, iterators: map[binding]bool{}, learning: true}
}

// reservedNames are the root names of a scope, which an iterator of the same name
// would hide from the expressions it scopes (and from this rule).
var reservedNames = []string{"var", "local", "matrix"}

// expr reports whether expr's value may hold a sensitive value.
func (s sensitivity) expr(expr hcl.Expression) bool {
	if expr == nil || len(s.vars) == 0 {
		return false
	}
	return s.walk(expr, nil)
}

// walk judges expr by the rule and calls visit on each node it enters; visit may
// judge a part of the expression in the scope of that node (judge.sub).
func (s sensitivity) walk(expr hcl.Expression, visit func(j *judge, n hclsyntax.Node)) bool {
	// A dynamic block's generated attributes hide the iterator from Variables.
	node, ok := hcl.UnwrapExpression(expr).(hclsyntax.Node)
	if !ok { // not native syntax: judge every name by its bindings in the file
		for _, tr := range hcl.UnwrapExpression(expr).Variables() {
			if s.name(tr) {
				return true
			}
		}
		return false
	}
	j := &judge{s: s, visit: visit}
	hclsyntax.Walk(node, j)
	return j.found
}

// name judges a reference that no for expression within the judged expression binds.
func (s sensitivity) name(tr hcl.Traversal) bool {
	switch root := tr.RootName(); root {
	case "var":
		name, ok := attrName(tr, root)
		return !ok || s.vars[name]
	case "local":
		name, ok := attrName(tr, root)
		return !ok || s.locals[name]
	case "matrix":
		return false
	}
	sens, bound := s.iterator(tr.RootName(), tr.SourceRange())
	return sens || !bound
}

// iterator judges the iterator name at rng by its innermost binding; bound is false
// when no binding of the name holds rng.
func (s sensitivity) iterator(name string, rng hcl.Range) (sens, bound bool) {
	var inner hcl.Range
	for b, bsens := range s.iterators {
		if b.name != name || b.scope.Filename != rng.Filename || b.scope.Start.Byte > rng.Start.Byte || rng.End.Byte > b.scope.End.Byte {
			continue
		}
		if !bound || b.scope.Start.Byte > inner.Start.Byte || (b.scope.Start.Byte == inner.Start.Byte && b.scope.End.Byte < inner.End.Byte) {
			inner, sens, bound = b.scope, bsens, true
		}
	}
	return sens, bound
}

// learn records that name iterates over a value that may be sensitive (sens) in scope.
func (s sensitivity) learn(name string, scope hcl.Range, sens bool) {
	if s.learning && name != "" {
		b := binding{name, scope}
		s.iterators[b] = s.iterators[b] || sens
	}
}

// judge is the walk of one expression by the rule, with the names its for expressions
// bind where it is.
type judge struct {
	s      sensitivity
	visit  func(j *judge, n hclsyntax.Node)
	scopes []map[string]bool // the names of the enclosing for expressions, innermost last
	colls  []bool            // whether each enclosing for expression's collection is sensitive
	splats map[*hclsyntax.AnonSymbolExpr]bool
	found  bool
}

func (j *judge) Enter(n hclsyntax.Node) hcl.Diagnostics {
	switch n := n.(type) {
	case *hclsyntax.ScopeTraversalExpr:
		if j.bound(n.Traversal) {
			j.found = true
		}
	case *hclsyntax.ForExpr:
		j.colls = append(j.colls, j.sub(n.CollExpr))
	case hclsyntax.ChildScope: // a part of the innermost for expression
		names := map[string]bool{}
		for name := range n.LocalNames {
			names[name] = j.colls[len(j.colls)-1]
			j.s.learn(name, n.Range(), names[name])
		}
		j.scopes = append(j.scopes, names)
	case *hclsyntax.SplatExpr: // its source is judged as a part of it
		if j.splats == nil {
			j.splats = map[*hclsyntax.AnonSymbolExpr]bool{}
		}
		j.splats[n.Item] = true
	case *hclsyntax.AnonSymbolExpr:
		if !j.splats[n] {
			j.found = true
		}
	}
	if j.visit != nil {
		j.visit(j, n)
	}
	return nil
}

func (j *judge) Exit(n hclsyntax.Node) hcl.Diagnostics {
	switch n.(type) {
	case *hclsyntax.ForExpr:
		j.colls = j.colls[:len(j.colls)-1]
	case hclsyntax.ChildScope:
		j.scopes = j.scopes[:len(j.scopes)-1]
	}
	return nil
}

// bound judges a reference, by the innermost for expression that binds its root name.
func (j *judge) bound(tr hcl.Traversal) bool {
	root := tr.RootName()
	for i := len(j.scopes) - 1; i >= 0; i-- {
		if sens, ok := j.scopes[i][root]; ok {
			return sens
		}
	}
	return j.s.name(tr)
}

// sub judges expr, a part of the expression walked, where the walk is.
func (j *judge) sub(expr hclsyntax.Expression) bool {
	k := &judge{s: j.s, scopes: slices.Clip(j.scopes), splats: j.splats}
	hclsyntax.Walk(expr, k)
	return k.found
}

// attr is expr for an attribute that may be absent (nil).
func (s sensitivity) attr(attr *hcl.Attribute) bool {
	return attr != nil && s.expr(attr.Expr)
}

// redact drops the values HCL would print for an expression that may hold a sensitive
// value ("with x as ..."), a function's own message, which may quote its arguments,
// and HCL's own detail when it quotes something other than the file's text: HCL quotes
// values and map keys there ("Duplicate object key", a conversion error's path, like
// element "KEY", an object attribute a conditional's results disagree on).
func (s sensitivity) redact(d *hcl.Diagnostic) *hcl.Diagnostic {
	if d.Expression == nil || !s.expr(d.Expression) {
		return d
	}
	return redacted(d)
}

// redacted is d without what may show a sensitive value, as redact leaves it out.
func redacted(d *hcl.Diagnostic) *hcl.Diagnostic {
	c := *d
	c.Expression, c.EvalContext = nil, nil
	if call, ok := hcl.DiagnosticExtra[hclsyntax.FunctionCallDiagExtra](d); ok {
		c.Detail = fmt.Sprintf("Call to function %q failed; its message is left out, since it may show a sensitive value.", call.CalledFunctionName())
	} else if strings.ContainsRune(c.Detail, '"') && !slices.Contains(quotingSource, c.Summary) {
		c.Detail = "The detail is left out, since it may quote a sensitive value."
	}
	return &c
}

// quotingSource are the summaries of HCL's messages whose details quote only what the
// file writes: the name of a function, or of an attribute in a traversal (.name).
var quotingSource = []string{"Call to unknown function", "Unsupported attribute", "Missing map element"}

// registryCalls reports every argument of a registry function call in expr that may
// hold a sensitive value, by the rule of expr: such an argument is refused, not
// redacted, since it would leave in the request to the registry and in the call
// recorded in matrix.lock.json, which is committed.
func (s sensitivity) registryCalls(expr hcl.Expression) hcl.Diagnostics {
	if expr == nil || len(s.vars) == 0 {
		return nil
	}
	var diags hcl.Diagnostics
	s.walk(expr, func(j *judge, n hclsyntax.Node) {
		call, ok := n.(*hclsyntax.FunctionCallExpr)
		if !ok || !isRegistryFunction(call.Name) {
			return
		}
		for _, arg := range call.Args {
			if j.sub(arg) {
				diags = append(diags, errorWithin(arg.Range(), call.Range(), "Sensitive value in a registry call",
					fmt.Sprintf("The arguments of %s may not use a sensitive variable, or a value made from one: the call is sent to the npm registry and recorded, with its answer, in matrix.lock.json.", call.Name)))
			}
		}
	})
	return diags
}

// cellValue is the error for an attribute of a cell (name: "env", "mount.source", ...)
// that may hold a sensitive value: plan prints every value of every cell, so none may
// be secret; a secret the build needs is read from the host at run time (pass_env).
func cellValue(name string, attr *hcl.Attribute) *hcl.Diagnostic {
	what := "A cell's attributes"
	why := "plan and plan --json print every value of every cell, and a run records many of them"
	if name == "artifact" {
		what = "An artifact name"
		why = "it is printed everywhere: by plan, on the progress lines of a run, in manifest.json and SHA256SUMS, and as the name of its file and log"
	}
	return errorWithin(attr.Expr.Range(), attr.Range, "Sensitive value in "+name,
		fmt.Sprintf("%s may not use a sensitive variable, or a value made from one: %s. Pass a secret the build needs from the host with pass_env, which is read only when the cell runs and never printed. A skip condition may use a sensitive value.", what, why))
}
