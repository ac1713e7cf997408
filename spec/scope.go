package spec

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// scope is what references an expression may make, and where it is evaluated.
type scope struct {
	// eval holds var, local and the functions, the registry functions bound to the
	// command's context (File.bind): one per Load or Plan call.
	eval *hcl.EvalContext
	// sens judges the arguments of registry calls and skip reasons.
	sens       sensitivity
	vars       map[string]cty.Value
	locals     map[string]cty.Value // nil: locals are not available here (validations)
	matrixKeys []string             // nil: matrix is not available here
	anyMatrix  bool                 // every matrix key is accepted (the matrix itself is invalid)
	target     string
	extra      map[string]bool // iterator names of enclosing dynamic blocks
}

// check reports every reference in expr to something that does not exist, with its
// range, before the expression is evaluated (HCL's own messages about object attributes
// do not say what was meant).
func (s scope) check(expr hcl.Expression, withMatrix bool) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, tr := range expr.Variables() {
		root := tr.RootName()
		rng := tr.SourceRange()
		switch root {
		case "var":
			if name, ok := attrName(tr, "var"); ok {
				if _, ok := s.vars[name]; !ok {
					diags = append(diags, errorAt(rng.Ptr(), "Reference to undeclared variable", fmt.Sprintf("No variable named %q is declared.%s", name, declaredList("Declared variables", sortedKeys(s.vars)))))
				}
			}
		case "local":
			if name, ok := attrName(tr, "local"); ok {
				if s.locals == nil {
					diags = append(diags, errorAt(rng.Ptr(), "Local value not available here", "A variable's validation condition and error message may refer to variables, but not to local values, which are evaluated after the variables are checked."))
					continue
				}
				if _, ok := s.locals[name]; !ok {
					diags = append(diags, errorAt(rng.Ptr(), "Reference to undeclared local value", fmt.Sprintf("No local value named %q is defined.%s", name, declaredList("Local values", sortedKeys(s.locals)))))
				}
			}
		case "matrix":
			if !withMatrix {
				diags = append(diags, errorAt(rng.Ptr(), "Matrix value not available here", "matrix.<key> refers to a cell's value, so it can only be used in a target's per-cell attributes and blocks, not in variables, locals, matrix, exclude or include."))
				continue
			}
			if name, ok := attrName(tr, "matrix"); ok && !s.anyMatrix && !slices.Contains(s.matrixKeys, name) {
				diags = append(diags, errorAt(rng.Ptr(), "Reference to unknown matrix key", fmt.Sprintf("Target %q has no axis and no include key named %q.%s", s.target, name, declaredList("Its keys are", s.matrixKeys))))
			}
		default:
			if s.extra[root] {
				continue
			}
			diags = append(diags, errorAt(rng.Ptr(), "Unknown variable", fmt.Sprintf("There is no variable named %q. References start with var., local. or, inside a target, matrix.", root)))
		}
	}
	return diags
}

// attrName is the name after root in a traversal like root.name or root["name"].
func attrName(tr hcl.Traversal, root string) (string, bool) {
	if tr.RootName() != root || len(tr) < 2 {
		return "", false
	}
	switch step := tr[1].(type) {
	case hcl.TraverseAttr:
		return step.Name, true
	case hcl.TraverseIndex:
		if step.Key.Type() == cty.String && step.Key.IsKnown() && !step.Key.IsNull() {
			return step.Key.AsString(), true
		}
	}
	return "", false
}

// declaredList renders " What: a, b, c." or " There are none." for detail messages.
func declaredList(what string, names []string) string {
	if len(names) == 0 {
		return fmt.Sprintf(" %s: none.", what)
	}
	return fmt.Sprintf(" %s: %s.", what, strings.Join(names, ", "))
}
