package spec

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// scope is what references an expression may make, and where it is evaluated.
type scope struct {
	// eval holds var, local and the functions, the registry functions bound to the
	// command's context (File.bind): one per Load or Plan call.
	eval *hcl.EvalContext
	// sens judges the arguments of registry calls and skip reasons.
	sens   sensitivity
	vars   map[string]cty.Value
	locals map[string]cty.Value // nil: locals are not available here (validations)
	// varNames and localNames are the keys of vars and locals, sorted once for
	// messages (newScope): a file may declare 20,000 locals, and refer wrongly to each.
	varNames, localNames []string
	matrixKeys           []string // nil: matrix is not available here
	anyMatrix            bool     // every matrix key is accepted (the matrix itself is invalid)
	target               string
	extra                map[string]bool // iterator names of enclosing dynamic blocks
	// files are the parsed sources, where reservedForNames finds a for expression's names.
	files map[string]*hcl.File
}

// newScope is the scope of the file's variables and locals (nil: none available),
// evaluated in eval.
func (f *File) newScope(eval *hcl.EvalContext, vars, locals map[string]cty.Value) scope {
	sc := scope{eval: eval, sens: f.sens, vars: vars, locals: locals, files: f.files, varNames: sortedKeys(vars)}
	if locals != nil {
		sc.localNames = sortedKeys(locals)
	}
	return sc
}

// check reports every reference in expr to something that does not exist, with its
// range, before the expression is evaluated (HCL's own messages about object attributes
// do not say what was meant).
func (s scope) check(expr hcl.Expression, withMatrix bool) hcl.Diagnostics {
	diags := s.reservedForNames(expr)
	for _, tr := range expr.Variables() {
		root := tr.RootName()
		rng := tr.SourceRange()
		switch root {
		case "var":
			if name, ok := attrName(tr, "var"); ok {
				if _, ok := s.vars[name]; !ok {
					diags = append(diags, errorAt(rng.Ptr(), "Reference to undeclared variable", fmt.Sprintf("No variable named %q is declared.%s", name, declaredList("Declared variables", s.varNames))))
				}
			}
		case "local":
			if name, ok := attrName(tr, "local"); ok {
				if s.locals == nil {
					diags = append(diags, errorAt(rng.Ptr(), "Local value not available here", "A variable's validation condition and error message may refer to variables, but not to local values, which are evaluated after the variables are checked."))
					continue
				}
				if _, ok := s.locals[name]; !ok {
					diags = append(diags, errorAt(rng.Ptr(), "Reference to undeclared local value", fmt.Sprintf("No local value named %q is defined.%s", name, declaredList("Local values", s.localNames))))
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
			if root == testName {
				diags = append(diags, errorAt(rng.Ptr(), "Test axis not available here", "test.<key> is a value of the test's own axes: it can be used only inside a test block that declares them, test { matrix = { node = [20, 22] } ... }."))
				continue
			}
			diags = append(diags, errorAt(rng.Ptr(), "Unknown variable", fmt.Sprintf("There is no variable named %q. References start with var., local. or, inside a target, matrix.", root)))
		}
	}
	return diags
}

// reservedForNames reports each for expression in expr that names a variable after a
// root name of the scope (var, local, matrix), which it would hide: "for matrix in ...".
func (s scope) reservedForNames(expr hcl.Expression) hcl.Diagnostics {
	node, ok := hcl.UnwrapExpression(expr).(hclsyntax.Node)
	if !ok {
		return nil
	}
	var diags hcl.Diagnostics
	hclsyntax.VisitAll(node, func(n hclsyntax.Node) hcl.Diagnostics {
		fe, ok := n.(*hclsyntax.ForExpr)
		if !ok {
			return nil
		}
		for _, name := range s.forNames(fe) {
			if slices.Contains(reservedNames, name.name) {
				diags = append(diags, reservedNameDiag("A for expression's variable", name.name, name.rng, fe.SrcRange))
			}
		}
		return nil
	})
	return diags
}

type namedRange struct {
	name string
	rng  hcl.Range
}

// forNames are the names a for expression declares, with their ranges when its
// source is known (else the range of its header, "[for k, v in").
func (s scope) forNames(fe *hclsyntax.ForExpr) []namedRange {
	header := hcl.Range{Filename: fe.OpenRange.Filename, Start: fe.OpenRange.Start, End: fe.CollExpr.Range().Start}
	var names []namedRange
	for _, name := range []string{fe.KeyVar, fe.ValVar} {
		if name != "" {
			names = append(names, namedRange{name, header})
		}
	}
	file := s.files[header.Filename]
	// A template's %{ for } directive has the whole "%{for x in coll}" as its OpenRange,
	// past the start of its collection: its names are not lexed (that cut panicked).
	if file == nil || header.End.Byte > len(file.Bytes) || fe.OpenRange.End.Byte > header.End.Byte {
		return names
	}
	var idents []namedRange // for, the names, in
	tokens, _ := hclsyntax.LexExpression(file.Bytes[fe.OpenRange.End.Byte:header.End.Byte], header.Filename, fe.OpenRange.End)
	for _, tok := range tokens {
		if tok.Type == hclsyntax.TokenIdent {
			idents = append(idents, namedRange{string(tok.Bytes), tok.Range})
		}
	}
	if len(idents) == len(names)+2 {
		return idents[1 : len(idents)-1]
	}
	return names
}

// reservedNameDiag is the error for an iterator (what) named after a root name.
func reservedNameDiag(what, name string, rng, context hcl.Range) *hcl.Diagnostic {
	return errorWithin(rng, context, "Reserved name: "+name,
		fmt.Sprintf("%s may not be named %q: var, local and matrix are the names of the values an expression refers to, and an iterator of one of these names would hide them. Choose another name.", what, name))
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

// maxListed is how many names declaredList shows: a file may declare 20,000 locals.
const maxListed = 30

// declaredList renders " What: a, b, c." or " There are none." for detail messages.
func declaredList(what string, names []string) string {
	if len(names) == 0 {
		return fmt.Sprintf(" %s: none.", what)
	}
	if len(names) > maxListed {
		return fmt.Sprintf(" %s: %s and %d more.", what, strings.Join(names[:maxListed], ", "), len(names)-maxListed)
	}
	return fmt.Sprintf(" %s: %s.", what, strings.Join(names, ", "))
}
