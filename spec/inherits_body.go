package spec

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/matrixbuild/matrix/plan"
)

// inheritedBody is the body of a target that inherits: its layers' bodies merged by the
// rules above. dynblock expands it as it would the target's own body.
type inheritedBody struct {
	target  string
	layers  []layer
	missing hcl.Range // the target's own MissingItemRange
}

func (b *inheritedBody) Content(schema *hcl.BodySchema) (*hcl.BodyContent, hcl.Diagnostics) {
	c, _, diags := b.merge(schema, false)
	return c, diags
}

func (b *inheritedBody) PartialContent(schema *hcl.BodySchema) (*hcl.BodyContent, hcl.Body, hcl.Diagnostics) {
	return b.merge(schema, true)
}

func (b *inheritedBody) JustAttributes() (hcl.Attributes, hcl.Diagnostics) {
	return nil, hcl.Diagnostics{errorAt(b.missing.Ptr(), "Unexpected attributes", "A target's body has blocks as well as attributes.")}
}

func (b *inheritedBody) MissingItemRange() hcl.Range { return b.missing }

// merge decodes each layer with schema (its required attributes checked on the merged
// result) and merges them.
func (b *inheritedBody) merge(schema *hcl.BodySchema, partial bool) (*hcl.BodyContent, hcl.Body, hcl.Diagnostics) {
	loose := relaxed(schema)
	var diags hcl.Diagnostics
	contents := make([]*hcl.BodyContent, len(b.layers))
	remain := &inheritedBody{target: b.target, missing: b.missing}
	for i, l := range b.layers {
		var c *hcl.BodyContent
		var d hcl.Diagnostics
		if partial {
			var rest hcl.Body
			c, rest, d = l.node.body.PartialContent(loose)
			remain.layers = append(remain.layers, layer{node: &node{name: l.node.name, kind: l.node.kind, body: rest}, body: l.body})
		} else {
			c, d = l.node.body.Content(loose)
		}
		diags = append(diags, d...)
		contents[i] = c
	}
	last := len(b.layers) - 1
	out := &hcl.BodyContent{Attributes: hcl.Attributes{}, MissingItemRange: b.missing}
	var envs []*hcl.Attribute
	for i, c := range contents {
		for name, attr := range c.Attributes {
			if slices.Contains(ownOnly, name) && i != last {
				continue
			}
			if name == "env" {
				envs = append(envs, attr)
			}
			out.Attributes[name] = attr
		}
	}
	if len(envs) > 1 {
		env := *envs[len(envs)-1]
		env.Expr = &inheritedEnv{attrs: envs}
		out.Attributes["env"] = &env
	}
	kind := func(blk *hcl.Block) string {
		if blk.Type == "dynamic" && len(blk.Labels) > 0 {
			return blk.Labels[0]
		}
		return blk.Type
	}
	nearest := map[string]int{}
	for i, c := range contents {
		for _, blk := range c.Blocks {
			nearest[kind(blk)] = i
		}
	}
	for i, c := range contents {
		for _, blk := range c.Blocks {
			if k := kind(blk); slices.Contains(accumulating, k) || nearest[k] == i {
				out.Blocks = append(out.Blocks, blk)
			}
		}
	}
	for _, a := range schema.Attributes {
		if _, ok := out.Attributes[a.Name]; a.Required && !ok {
			var from []string
			for _, l := range b.layers[:last] {
				from = append(from, l.node.String())
			}
			diags = append(diags, errorAt(b.missing.Ptr(), "Missing required argument", fmt.Sprintf("The argument %q is required, but neither target %q nor what it inherits (%s) sets it.", a.Name, b.target, strings.Join(from, ", "))))
		}
	}
	return out, remain, diags
}

// inheritedEnv is the env of a target and its parents: each one's map, merged key by
// key, the nearest's value winning (as bake merges args). The evaluator evaluates each
// map on its own (mergedEnv), so that a problem points at the map that has it.
type inheritedEnv struct {
	attrs []*hcl.Attribute
}

// envLayers is the env attributes attr merges, when it is an inherited env.
func envLayers(attr *hcl.Attribute) ([]*hcl.Attribute, bool) {
	if attr == nil {
		return nil, false
	}
	x, ok := attr.Expr.(*inheritedEnv)
	if !ok {
		return nil, false
	}
	return x.attrs, true
}

func (x *inheritedEnv) Value(ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	merged := map[string]cty.Value{}
	for _, a := range x.attrs {
		v, diags := a.Expr.Value(ctx)
		if diags.HasErrors() {
			return cty.DynamicVal, diags
		}
		if v.IsNull() || !v.IsKnown() || !v.CanIterateElements() {
			return cty.DynamicVal, hcl.Diagnostics{errorWithin(a.Expr.Range(), a.Range, "Incorrect attribute value type", `The value of "env" must be a map of strings, like { NAME = "value" }.`)}
		}
		for it := v.ElementIterator(); it.Next(); {
			k, ev := it.Element()
			merged[k.AsString()] = ev
		}
	}
	return cty.ObjectVal(merged), nil
}

func (x *inheritedEnv) Variables() []hcl.Traversal {
	var out []hcl.Traversal
	for _, a := range x.attrs {
		out = append(out, a.Expr.Variables()...)
	}
	return out
}

func (x *inheritedEnv) Range() hcl.Range      { return x.attrs[len(x.attrs)-1].Expr.Range() }
func (x *inheritedEnv) StartRange() hcl.Range { return x.attrs[len(x.attrs)-1].Expr.StartRange() }

// mergedEnv evaluates each env map of layers and merges them, the later winning, in
// the order of their names (as one map's are).
func (e *evaluator) mergedEnv(layers []*hcl.Attribute) []plan.EnvVar {
	byName := map[string]string{}
	for _, attr := range layers {
		for _, v := range e.env(attr) {
			byName[v.Name] = v.Value
		}
	}
	out := make([]plan.EnvVar, 0, len(byName))
	for _, name := range sortedKeys(byName) {
		out = append(out, plan.EnvVar{Name: name, Value: byName[name]})
	}
	return out
}
