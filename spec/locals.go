package spec

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// loadLocals evaluates every local value, each after the locals it refers to, and
// records which may hold a sensitive value. It stops with ctx's error when ctx is done.
func (f *File) loadLocals(ctx context.Context, blocks hcl.Blocks, eval *hcl.EvalContext) (map[string]cty.Value, hcl.Diagnostics, error) {
	attrs, order, diags := localAttributes(blocks)
	names := make(map[string]cty.Value, len(attrs))
	for n := range attrs {
		names[n] = cty.DynamicVal
	}
	l := &localGraph{
		f:     f,
		attrs: attrs,
		sc:    f.newScope(eval, f.ctx.Variables["var"].AsValueMap(), names),
		vals:  make(map[string]cty.Value, len(attrs)),
		state: make(map[string]visitState, len(attrs)),
		depth: typeDepths{},
	}
	for _, a := range order {
		if err := l.visit(ctx, a); err != nil {
			return l.vals, append(diags, l.diags...), err
		}
	}
	return l.vals, append(diags, l.diags...), nil
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

// localGraph evaluates locals depth first along their references, with a stack of its
// own: a chain of 100,000 locals each naming the one before would be as deep.
type localGraph struct {
	f     *File
	attrs map[string]*hcl.Attribute
	sc    scope
	vals  map[string]cty.Value
	state map[string]visitState
	stack []localFrame // the locals being evaluated, outermost first
	diags hcl.Diagnostics
	depth typeDepths
}

// localFrame is a local being evaluated and the locals it refers to.
type localFrame struct {
	attr    *hcl.Attribute
	refErrs hcl.Diagnostics
	deps    []*hcl.Attribute // in the order it refers to them, each once
	next    int              // deps[next:] are still to visit
	// whole: it refers to local as a whole, or by a computed name (local[var.k]), and
	// is evaluated with every local evaluated so far.
	whole bool
}

// visit evaluates a, after the locals it refers to. It stops with ctx's error when ctx
// is done, between two locals.
func (l *localGraph) visit(ctx context.Context, a *hcl.Attribute) error {
	if l.state[a.Name] != unvisited {
		return nil
	}
	l.enter(a)
	for len(l.stack) > 0 {
		top := &l.stack[len(l.stack)-1]
		if top.next < len(top.deps) {
			dep := top.deps[top.next]
			top.next++
			switch l.state[dep.Name] {
			case evaluating:
				l.cycle(dep)
			case unvisited:
				l.enter(dep)
			}
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		fr := *top
		l.stack = l.stack[:len(l.stack)-1]
		l.evaluate(fr)
	}
	return nil
}

// enter starts evaluating a: its references are checked and its dependencies listed.
func (l *localGraph) enter(a *hcl.Attribute) {
	l.state[a.Name] = evaluating
	fr := localFrame{attr: a, refErrs: l.sc.check(a.Expr, false)}
	l.diags = append(l.diags, fr.refErrs...)
	seen := map[string]bool{}
	for _, tr := range a.Expr.Variables() {
		if tr.RootName() != "local" {
			continue
		}
		name, ok := attrName(tr, "local")
		if !ok {
			fr.whole = true
			continue
		}
		if dep, ok := l.attrs[name]; ok && !seen[name] {
			seen[name] = true
			fr.deps = append(fr.deps, dep)
		}
	}
	l.stack = append(l.stack, fr)
}

// evaluate finishes fr, whose dependencies are evaluated. Its expression sees only the
// locals it names (unless whole), so that each local costs what it refers to, not what
// the file declares: an object of all of them for each made 20,000 locals take 46 s.
func (l *localGraph) evaluate(fr localFrame) {
	a := fr.attr
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
	if fr.refErrs.HasErrors() || callErrs.HasErrors() {
		l.vals[a.Name] = cty.DynamicVal
		return
	}
	var local cty.Value
	if fr.whole {
		local = cty.ObjectVal(l.vals)
	} else {
		deps := make(map[string]cty.Value, len(fr.deps))
		for _, dep := range fr.deps {
			deps[dep.Name] = l.vals[dep.Name]
		}
		local = cty.ObjectVal(deps)
	}
	scope := l.sc.eval.NewChild()
	scope.Variables = map[string]cty.Value{"local": local}
	val, more := evalBounded(a.Expr, scope, a.Range)
	l.diags = append(l.diags, more...)
	if more.HasErrors() {
		val = cty.DynamicVal
	} else if !l.f.keep(val) {
		l.diags = append(l.diags, errorWithin(a.Expr.Range(), a.Range, "Values too large", fmt.Sprintf("With local %q, the variables and locals hold more than %d MiB of values (counted as evaluations count them, a value as often as it is held). A chain of locals that each repeat the one before does this.", a.Name, maxLoaded>>20)))
		val = cty.DynamicVal
	} else if l.depth.depth(val.Type(), maxValueDepth) > maxValueDepth {
		l.diags = append(l.diags, errorWithin(a.Expr.Range(), a.Range, "Value nested too deep", fmt.Sprintf("The value of local %q nests more than %d levels deep (lists, tuples, maps and objects inside one another). Values are converted, compared and encoded one level at a time, and this many levels would exhaust the stack.", a.Name, maxValueDepth)))
		val = cty.DynamicVal
	}
	l.vals[a.Name] = val
}

// cycle reports the cycle that ends at a; its locals are unknown from then on.
func (l *localGraph) cycle(a *hcl.Attribute) {
	i := slices.IndexFunc(l.stack, func(fr localFrame) bool { return fr.attr.Name == a.Name })
	cycle := make([]string, 0, len(l.stack)-i+1)
	for _, fr := range l.stack[i:] {
		cycle = append(cycle, fr.attr.Name)
	}
	cycle = append(cycle, a.Name)
	l.diags = append(l.diags, errorAt(a.NameRange.Ptr(), "Cycle in local values", fmt.Sprintf("The local values refer to each other in a cycle: %s.", strings.Join(cycle, " -> "))))
	for _, n := range cycle {
		l.vals[n] = cty.DynamicVal
		l.state[n] = done
	}
}
