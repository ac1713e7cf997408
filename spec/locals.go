package spec

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// loadLocals evaluates every local value, each after the locals it refers to, and
// records which may hold a sensitive value.
func (f *File) loadLocals(blocks hcl.Blocks, eval *hcl.EvalContext) (map[string]cty.Value, hcl.Diagnostics) {
	attrs, order, diags := localAttributes(blocks)
	names := make(map[string]cty.Value, len(attrs))
	for n := range attrs {
		names[n] = cty.DynamicVal
	}
	l := &localGraph{
		f:     f,
		attrs: attrs,
		sc:    scope{eval: eval, sens: f.sens, vars: f.ctx.Variables["var"].AsValueMap(), locals: names, files: f.files},
		vals:  map[string]cty.Value{},
		state: map[string]visitState{},
	}
	for _, a := range order {
		l.visit(a)
	}
	return l.vals, append(diags, l.diags...)
}

// localAttributes gathers the attributes of every locals block, in file order.
func localAttributes(blocks hcl.Blocks) (map[string]*hcl.Attribute, []*hcl.Attribute, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	attrs := map[string]*hcl.Attribute{}
	var order []*hcl.Attribute
	for _, b := range blocks {
		if b.Type != "locals" {
			continue
		}
		as, more := b.Body.JustAttributes()
		diags = append(diags, more...)
		for _, a := range sortedAttrs(as) {
			if prev, dup := attrs[a.Name]; dup {
				diags = append(diags, errorAt(a.NameRange.Ptr(), "Duplicate local value", fmt.Sprintf("A local value named %q was already defined at %s.", a.Name, rangeString(prev.Range))))
				continue
			}
			attrs[a.Name] = a
			order = append(order, a)
		}
	}
	return attrs, order, diags
}

type visitState int

const (
	unvisited visitState = iota
	evaluating
	done
)

// localGraph evaluates locals depth first along their references.
type localGraph struct {
	f     *File
	attrs map[string]*hcl.Attribute
	sc    scope
	vals  map[string]cty.Value
	state map[string]visitState
	stack []string // the locals being evaluated, outermost first
	diags hcl.Diagnostics
}

func (l *localGraph) visit(a *hcl.Attribute) {
	switch l.state[a.Name] {
	case done:
		return
	case evaluating:
		l.cycle(a)
		return
	}
	l.state[a.Name] = evaluating
	l.stack = append(l.stack, a.Name)
	refErrs := l.sc.check(a.Expr, false)
	l.diags = append(l.diags, refErrs...)
	for _, tr := range a.Expr.Variables() {
		if name, ok := attrName(tr, "local"); ok {
			if dep, ok := l.attrs[name]; ok {
				l.visit(dep)
			}
		}
	}
	l.stack = l.stack[:len(l.stack)-1]
	if l.state[a.Name] == done { // part of a cycle found below
		return
	}
	l.state[a.Name] = done
	if l.f.sens.expr(a.Expr) { // its dependencies are judged by now
		l.f.sens.locals[a.Name] = true
	}
	// Only now are the locals it refers to judged, which its registry calls need.
	callErrs := l.f.sens.registryCalls(a.Expr)
	l.diags = append(l.diags, callErrs...)
	if refErrs.HasErrors() || callErrs.HasErrors() {
		l.vals[a.Name] = cty.DynamicVal
		return
	}
	ctx := l.sc.eval.NewChild()
	ctx.Variables = map[string]cty.Value{"local": cty.ObjectVal(l.vals)}
	val, more := a.Expr.Value(ctx)
	l.diags = append(l.diags, more...)
	if more.HasErrors() {
		val = cty.DynamicVal
	}
	l.vals[a.Name] = val
}

// cycle reports the cycle that ends at a; its locals are unknown from then on.
func (l *localGraph) cycle(a *hcl.Attribute) {
	i := slices.Index(l.stack, a.Name)
	cycle := append(slices.Clone(l.stack[i:]), a.Name)
	l.diags = append(l.diags, errorAt(a.NameRange.Ptr(), "Cycle in local values", fmt.Sprintf("The local values refer to each other in a cycle: %s.", strings.Join(cycle, " -> "))))
	for _, n := range cycle {
		l.vals[n] = cty.DynamicVal
		l.state[n] = done
	}
}
