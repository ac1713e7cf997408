package spec

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// A target may inherit, as docker buildx bake's targets do: inherits = ["NAME", ...]
// names templates (template "NAME" { ... }: a target's attributes and blocks, none
// required, never planned) and other targets. Parents apply in the order listed, each
// after what it inherits itself; the target's own settings come last. Of an attribute
// the last definition wins, except env, whose maps merge key by key; mount blocks
// (and dynamic "mount") accumulate in that order; any other block type is taken whole
// from the last of them that has one (a test, the skip blocks). matrix, exclude and
// include are never inherited. The result is a body like any target's: its
// expressions are evaluated per cell, in the inheriting target's scope.

// maxLayers bounds what a target inherits (itself included, each template or target
// once): every cell evaluates them, and a real file has a handful.
const maxLayers = 64

// ownOnly are the attributes a target never inherits: its cells are its own.
var ownOnly = []string{"matrix", "exclude", "include", "inherits"}

// accumulating are the block types whose blocks a target adds to its parents'.
var accumulating = []string{"mount"}

// inheritance is a target's inherits attribute, resolved by loadInheritance.
type inheritance struct {
	attr   *hcl.Attribute
	scope  scope   // the target's cell scope: what it inherits is checked against its keys
	layers []layer // the bodies it is made of, the target's own last; nil until resolved
}

// layer is one body a target's settings come from.
type layer struct {
	node *node
	body *hclsyntax.Body // nil when the body is not native syntax (never, from a file)
}

// node is a template or a target, as inherits names them.
type node struct {
	name    string
	kind    string // "template" or "target"
	body    hcl.Body
	content *hcl.BodyContent // the static content, as checked
	attr    *hcl.Attribute   // its inherits; nil when none
	refs    []parentRef
	checked *target // what checkBody ran on: its flags say whether it has dynamic blocks
	// broken: its own load reported an error; bad: what it inherits cannot be resolved.
	broken, bad bool
	state       int // 0: not visited, 1: being resolved, 2: resolved
	lin         []*node
}

func (n *node) String() string { return fmt.Sprintf("%s %q", n.kind, n.name) }

// parentRef is one name in an inherits list, where it is written.
type parentRef struct {
	name string
	rng  hcl.Range
}

// newInheritance is the inheritance of a target of content, checked in sc; nil when
// it inherits nothing.
func newInheritance(content *hcl.BodyContent, sc scope) *inheritance {
	attr, ok := content.Attributes["inherits"]
	if !ok {
		return nil
	}
	return &inheritance{attr: attr, scope: sc}
}

// relaxed is s without required attributes: a target that inherits, and a template,
// may leave any of them to its parents.
func relaxed(s *hcl.BodySchema) *hcl.BodySchema {
	out := *s
	out.Attributes = slices.Clone(s.Attributes)
	for i := range out.Attributes {
		out.Attributes[i].Required = false
	}
	return &out
}

var (
	layerSchema       = relaxed(targetSchema)
	layerSchemaStatic = withDynamic(layerSchema)
)

// staticSchemaOf is the schema a target's own body is checked with: required
// attributes are checked after inheritance when it inherits.
func staticSchemaOf(body hcl.Body) *hcl.BodySchema {
	c, _, _ := body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "inherits"}}})
	if _, ok := c.Attributes["inherits"]; ok {
		return layerSchemaStatic
	}
	return targetSchemaStatic
}

// loadInheritance reads the templates, then resolves the inherits of every target and
// template: each name must be a template or a target, and nothing may inherit from
// itself, directly or through others. A target that inherits gets the merged body; one
// whose inherits cannot be resolved, or that inherits from something with errors, is
// broken (the errors are reported where they are).
func (f *File) loadInheritance(blocks hcl.Blocks, sc scope) hcl.Diagnostics {
	var diags hcl.Diagnostics
	nodes := map[string]*node{}
	var order []*node
	defs := map[string]hcl.Range{}
	for _, t := range f.targets {
		n := &node{name: t.name, kind: "target", body: t.body, content: t.content, checked: t, broken: t.broken}
		if t.inherit != nil {
			n.attr = t.inherit.attr
		}
		nodes[t.name] = n
		defs[t.name] = t.defRange
		order = append(order, n)
	}
	for _, b := range blocks {
		if b.Type != "template" {
			continue
		}
		name := b.Labels[0]
		if prev, dup := nodes[name]; dup {
			summary := "Duplicate template"
			if prev.kind == "target" {
				summary = "Template named like a target"
			}
			diags = append(diags, errorWithin(b.LabelRanges[0], b.DefRange, summary, fmt.Sprintf("A %s named %q is declared at %s. Templates and targets share one set of names, which inherits refers to: each must be unique.", prev.kind, name, rangeString(defs[name]))))
			continue
		}
		n, more := f.loadTemplate(b, sc)
		diags = append(diags, more...)
		nodes[name] = n
		defs[name] = b.DefRange
		order = append(order, n)
	}
	for _, n := range order {
		if n.attr != nil {
			refs, more := parseInherits(n, nodes)
			diags = append(diags, more...)
			n.refs = refs
			n.bad = more.HasErrors()
		}
	}
	r := &linearizer{nodes: nodes}
	for _, n := range order {
		r.resolve(n)
	}
	diags = append(diags, r.diags...)
	for _, t := range f.targets {
		if t.inherit == nil {
			continue
		}
		n := nodes[t.name]
		if n.bad {
			t.broken = true
			continue
		}
		more := t.inheritFrom(n.lin)
		diags = append(diags, more...)
		t.broken = t.broken || more.HasErrors() || slices.ContainsFunc(n.lin, func(p *node) bool { return p.broken })
	}
	return diags
}

// loadTemplate reads and checks a template block. What it writes is checked as a
// target's is, except the matrix keys it refers to: those are checked in each target
// that inherits it, against that target's keys.
func (f *File) loadTemplate(b *hcl.Block, sc scope) (*node, hcl.Diagnostics) {
	name := b.Labels[0]
	var diags hcl.Diagnostics
	if !validLabel(name) {
		diags = append(diags, errorAt(b.LabelRanges[0].Ptr(), "Invalid template label", "A template label must be non-empty and use only letters, digits, '-', '_' and '.', like a target's."))
	}
	content, more := b.Body.Content(layerSchemaStatic)
	diags = append(diags, more...)
	for _, attr := range sortedAttrs(content.Attributes) {
		switch attr.Name {
		case "matrix", "exclude", "include":
			diags = append(diags, errorWithin(attr.NameRange, attr.Range, "Matrix in a template", fmt.Sprintf("Template %q sets %s, but a template has no cells: each target that inherits it has its own matrix, exclude and include, which are never inherited. Set %s in the targets.", name, attr.Name, attr.Name)))
		}
	}
	t := &target{name: name, defRange: b.DefRange, body: b.Body, content: content}
	cs := sc
	cs.anyMatrix = true
	cs.target = name
	diags = append(diags, t.checkBody(content, cs, "")...)
	diags = append(diags, checkNpmBlocks(name, b.Body.MissingItemRange(), content, false)...)
	n := &node{name: name, kind: "template", body: b.Body, content: content, checked: t, broken: diags.HasErrors()}
	if attr, ok := content.Attributes["inherits"]; ok {
		n.attr = attr
	}
	return n, diags
}

// parseInherits reads n's inherits: a list of quoted names, known when the file loads,
// each a template or a target other than n, listed once.
func parseInherits(n *node, nodes map[string]*node) ([]parentRef, hcl.Diagnostics) {
	attr := n.attr
	const how = `inherits is a list of template and target names in quotes, like inherits = ["base", "ca"]`
	if vars := attr.Expr.Variables(); len(vars) > 0 {
		rng := vars[0].SourceRange()
		return nil, hcl.Diagnostics{errorWithin(rng, attr.Range, "Inherits is not constant", fmt.Sprintf("%s: it is read when the file loads, before any variable, local or cell exists, so it may not refer to var, local or matrix.", how))}
	}
	if call := firstCall(attr.Expr); call != nil {
		return nil, hcl.Diagnostics{errorWithin(call.Range(), attr.Range, "Inherits is not constant", fmt.Sprintf("%s: it is read when the file loads, so it may not call functions (%s).", how, call.Name))}
	}
	elems, d := hcl.ExprList(attr.Expr)
	if d.HasErrors() {
		return nil, hcl.Diagnostics{errorWithin(attr.Expr.Range(), attr.Range, "Invalid inherits", how+".")}
	}
	var diags hcl.Diagnostics
	var refs []parentRef
	for _, el := range elems {
		v, d := el.Value(nil)
		if d.HasErrors() || v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
			diags = append(diags, errorWithin(el.Range(), attr.Range, "Invalid inherits", how+"."))
			continue
		}
		name := v.AsString()
		p, ok := nodes[name]
		switch {
		case name == n.name:
			diags = append(diags, errorWithin(el.Range(), attr.Range, "Inherits itself", fmt.Sprintf("%s lists its own name in inherits; it can inherit only from other templates and targets.", upperFirst(n.String()))))
		case !ok:
			diags = append(diags, errorWithin(el.Range(), attr.Range, "Unknown template or target", fmt.Sprintf("%s inherits %q, which is neither a template nor a target.%s%s%s", upperFirst(n.String()), name, didYouMean(name, nodes), declaredList("Templates", namesOf(nodes, "template")), declaredList("Targets", namesOf(nodes, "target")))))
		case slices.ContainsFunc(refs, func(r parentRef) bool { return r.name == name }):
			diags = append(diags, errorWithin(el.Range(), attr.Range, "Duplicate inherits", fmt.Sprintf("%s is listed twice.", upperFirst(p.String()))))
		default:
			refs = append(refs, parentRef{name, el.Range()})
		}
	}
	return refs, diags
}

// firstCall is the first function call in expr, or nil.
func firstCall(expr hcl.Expression) *hclsyntax.FunctionCallExpr {
	node, ok := expr.(hclsyntax.Node)
	if !ok {
		return nil
	}
	var found *hclsyntax.FunctionCallExpr
	hclsyntax.VisitAll(node, func(n hclsyntax.Node) hcl.Diagnostics {
		if call, ok := n.(*hclsyntax.FunctionCallExpr); ok && found == nil {
			found = call
		}
		return nil
	})
	return found
}

// namesOf lists the names of the nodes of a kind, sorted.
func namesOf(nodes map[string]*node, kind string) []string {
	var out []string
	for name, n := range nodes {
		if n.kind == kind {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// didYouMean is " Did you mean "NAME"?" for the name in nodes closest to name, when
// one is close enough to be a typo of it; else "".
func didYouMean(name string, nodes map[string]*node) string {
	best, bestDist := "", len(name)/3+2
	for _, cand := range sortedKeys(nodes) {
		if d := levenshtein.Distance(name, cand, nil); d < bestDist {
			best, bestDist = cand, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

// linearizer orders what each node inherits, reporting cycles.
type linearizer struct {
	nodes map[string]*node
	stack []*node     // the nodes being resolved, outermost first
	via   []parentRef // via[i]: the name stack[i] inherits stack[i+1] by
	diags hcl.Diagnostics
}

// resolve sets n.lin: what n inherits, in the order it applies (each parent after what
// it inherits itself, each node once, at its last place), then n. false when n cannot
// be resolved (n.bad).
func (r *linearizer) resolve(n *node) bool {
	switch n.state {
	case 2:
		return !n.bad
	case 1:
		return false // a cycle: reported by the node that closes it
	}
	n.state = 1
	r.stack = append(r.stack, n)
	var lin []*node
	for _, ref := range n.refs {
		p := r.nodes[ref.name]
		if p.state == 1 {
			r.cycle(p, n, ref)
			n.bad = true
			continue
		}
		r.via = append(r.via, ref)
		ok := r.resolve(p)
		r.via = r.via[:len(r.via)-1]
		if !ok {
			n.bad = true
			continue
		}
		lin = append(lin, p.lin...)
	}
	lin = append(lin, n)
	n.lin = lastOccurrences(lin)
	if len(n.lin) > maxLayers && !n.bad {
		n.bad = true
		r.diags = append(r.diags, errorWithin(n.attr.Expr.Range(), n.attr.Range, "Too many parents", fmt.Sprintf("%s inherits from %d templates and targets in all (counting what they inherit); at most %d are allowed.", upperFirst(n.String()), len(n.lin)-1, maxLayers-1)))
	}
	r.stack = r.stack[:len(r.stack)-1]
	n.state = 2
	return !n.bad
}

// cycle reports the cycle that from inheriting p (by ref) closes: every link, where it
// is written.
func (r *linearizer) cycle(p, from *node, ref parentRef) {
	start := slices.Index(r.stack, p)
	var links []string
	for i := start; i < len(r.stack)-1; i++ {
		links = append(links, fmt.Sprintf("%s inherits %s (%s)", r.stack[i], r.stack[i+1], rangeString(r.via[i].rng)))
	}
	links = append(links, fmt.Sprintf("%s inherits %s (%s)", from, p, rangeString(ref.rng)))
	r.diags = append(r.diags, errorWithin(ref.rng, from.attr.Range, "Inheritance cycle", fmt.Sprintf("%s: nothing can inherit from itself, even through others. Remove one of these names.", upperFirst(strings.Join(links, ", ")))))
}

// lastOccurrences is nodes with each one kept only at its last place: a template two
// parents inherit applies once, where the later one has it.
func lastOccurrences(nodes []*node) []*node {
	seen := map[*node]bool{}
	var out []*node
	for i := len(nodes) - 1; i >= 0; i-- {
		if !seen[nodes[i]] {
			seen[nodes[i]] = true
			out = append(out, nodes[i])
		}
	}
	slices.Reverse(out)
	return out
}

// inheritFrom makes t's body of the nodes in lin (t's own last): its static content,
// with the required attributes checked, and the matrix keys of what it inherits
// checked against its own.
func (t *target) inheritFrom(lin []*node) hcl.Diagnostics {
	in := t.inherit
	for _, n := range lin {
		body, _ := n.body.(*hclsyntax.Body)
		in.layers = append(in.layers, layer{node: n, body: body})
		t.hasDynamic = t.hasDynamic || n.checked.hasDynamic
		t.dynamicPerCell = t.dynamicPerCell || n.checked.dynamicPerCell
	}
	body := &inheritedBody{target: t.name, layers: in.layers, missing: t.body.MissingItemRange()}
	t.body = body
	content, diags := body.Content(targetSchemaStatic)
	t.content = content
	if content != nil {
		// Duplicates were reported in the layer that has them.
		diags = append(diags, checkRuns(t.name, body.missing, content)...)
	}
	for _, d := range t.inherited(in.matrixRefs(content)) {
		diags = append(diags, withNote(d))
	}
	return diags
}

// matrixRefs reports each reference, in what content holds from parents, to a matrix
// key the target does not have (the target's own are checked as it loads).
func (in *inheritance) matrixRefs(content *hcl.BodyContent) hcl.Diagnostics {
	var exprs []hcl.Expression
	for _, attr := range content.Attributes {
		attrs := []*hcl.Attribute{attr}
		if layers, ok := envLayers(attr); ok {
			attrs = layers
		}
		for _, a := range attrs {
			if in.parentOf(a.Range) != nil {
				exprs = append(exprs, a.Expr)
			}
		}
	}
	for _, b := range content.Blocks {
		if body, ok := b.Body.(*hclsyntax.Body); ok && in.parentOf(b.DefRange) != nil {
			hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
				if a, ok := n.(*hclsyntax.Attribute); ok {
					exprs = append(exprs, a.Expr)
				}
				return nil
			})
		}
	}
	sort.Slice(exprs, func(i, j int) bool { return exprs[i].Range().Start.Byte < exprs[j].Range().Start.Byte })
	var diags hcl.Diagnostics
	for _, expr := range exprs {
		for _, d := range in.scope.check(expr, true) {
			if d.Summary == "Reference to unknown matrix key" {
				diags = append(diags, d)
			}
		}
	}
	return diags
}

// parentOf is the inherited layer whose body holds rng; nil when it is the target's
// own (or no layer's).
func (in *inheritance) parentOf(rng hcl.Range) *node {
	for _, l := range in.layers[:max(len(in.layers)-1, 0)] {
		if l.body != nil && l.body.SrcRange.Filename == rng.Filename && l.body.SrcRange.Start.Byte <= rng.Start.Byte && rng.End.Byte <= l.body.SrcRange.End.Byte {
			return l.node
		}
	}
	return nil
}

// inherited marks each of diags about a place in what t inherits, so that its message
// says which target inherits it, and from where (inheritedFrom).
func (t *target) inherited(diags hcl.Diagnostics) hcl.Diagnostics {
	if t.inherit == nil || len(t.inherit.layers) < 2 {
		return diags
	}
	out := make(hcl.Diagnostics, len(diags))
	for i, d := range diags {
		out[i] = d
		if d.Subject == nil {
			continue
		}
		if p := t.inherit.parentOf(*d.Subject); p != nil {
			c := *d
			c.Extra = &inheritedFrom{target: t.name, parent: p.String(), use: t.inherit.attr.Range, inner: d.Extra}
			out[i] = &c
		}
	}
	return out
}

// inheritedFrom is the Extra of a diagnostic about a place in a template (or target)
// that a target inherits. It wraps the diagnostic's own Extra.
type inheritedFrom struct {
	target, parent string
	use            hcl.Range // the target's inherits
	inner          any
}

func (x *inheritedFrom) UnwrapDiagnosticExtra() any { return x.inner }

// note is the sentence a message about an inherited place ends with.
func (x *inheritedFrom) note() string {
	return fmt.Sprintf("Target %q inherits this from %s (inherits at %s).", x.target, x.parent, rangeString(x.use))
}

// inheritedOf is d's inheritedFrom, or nil.
func inheritedOf(d *hcl.Diagnostic) *inheritedFrom {
	x, _ := hcl.DiagnosticExtra[*inheritedFrom](d)
	return x
}

// withNote is d with the inherited note added to its detail (d itself when it has none).
func withNote(d *hcl.Diagnostic) *hcl.Diagnostic {
	x := inheritedOf(d)
	if x == nil {
		return d
	}
	c := *d
	if c.Detail != "" {
		c.Detail += " "
	}
	c.Detail += x.note()
	return &c
}
