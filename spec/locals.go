package spec

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// loadLocals evaluates every local value, each after the locals it refers to.
func (f *File) loadLocals(blocks hcl.Blocks) (map[string]cty.Value, hcl.Diagnostics) {
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
	vals := map[string]cty.Value{}
	names := make(map[string]cty.Value, len(attrs))
	for n := range attrs {
		names[n] = cty.DynamicVal
	}
	sc := scope{vars: f.ctx.Variables["var"].AsValueMap(), locals: names}
	state := map[string]int{} // 1: being evaluated, 2: done
	var stack []string
	var visit func(a *hcl.Attribute)
	visit = func(a *hcl.Attribute) {
		switch state[a.Name] {
		case 2:
			return
		case 1:
			i := slices.Index(stack, a.Name)
			cycle := append(slices.Clone(stack[i:]), a.Name)
			diags = append(diags, errorAt(a.NameRange.Ptr(), "Cycle in local values", fmt.Sprintf("The local values refer to each other in a cycle: %s.", strings.Join(cycle, " -> "))))
			for _, n := range cycle {
				vals[n] = cty.DynamicVal
				state[n] = 2
			}
			return
		}
		state[a.Name] = 1
		stack = append(stack, a.Name)
		refErrs := sc.check(a.Expr, false)
		diags = append(diags, refErrs...)
		for _, tr := range a.Expr.Variables() {
			if name, ok := attrName(tr, "local"); ok {
				if dep, ok := attrs[name]; ok {
					visit(dep)
				}
			}
		}
		stack = stack[:len(stack)-1]
		if state[a.Name] == 2 { // part of a cycle found below
			return
		}
		state[a.Name] = 2
		if refErrs.HasErrors() {
			vals[a.Name] = cty.DynamicVal
			return
		}
		ctx := f.ctx.NewChild()
		ctx.Variables = map[string]cty.Value{"local": cty.ObjectVal(vals)}
		val, more := a.Expr.Value(ctx)
		diags = append(diags, more...)
		if more.HasErrors() {
			val = cty.DynamicVal
		}
		vals[a.Name] = val
	}
	for _, a := range order {
		visit(a)
	}
	return vals, diags
}
