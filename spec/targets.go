package spec

import (
	"context"
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// The attributes and blocks of a target; the per-cell ones are evaluated once per cell.
var targetSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "matrix"},
		{Name: "exclude"},
		{Name: "include"},
		{Name: "image", Required: true},
		{Name: "platform"},
		{Name: "workdir"},
		{Name: "env"},
		{Name: "pass_env"},
		{Name: "network"},
		{Name: "script"}, // or an npm block: checkNpmBlocks
		{Name: "collect"},
		{Name: "artifact", Required: true},
		{Name: "format"},
		{Name: "timeout"},
		{Name: "max_size"},
		{Name: "warn_size"},
		{Name: "retries"},
		{Name: "lock_files"},
		{Name: "cross_built"},
		{Name: "libc"},
		{Name: "glibc"},
		{Name: "elf_ignore"},
		{Name: "metadata"},
		{Name: "inherits"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "mount"},
		{Type: "test"},
		{Type: "skip"},
		{Type: "npm"},
	},
}

var testSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "matrix"}, // the test's own axes: testaxes.go
		{Name: "image"},
		{Name: "platform"},
		{Name: "workdir"},
		{Name: "env"},
		{Name: "network"},
		{Name: "script", Required: true},
		{Name: "timeout"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "mount"}, {Type: "skip"}},
}

var mountSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"},
		{Name: "source", Required: true},
		{Name: "target", Required: true},
		{Name: "read_only"},
	},
}

// dynamicSchema is what a `dynamic "mount"` block holds (see hcl/ext/dynblock).
var dynamicSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "for_each", Required: true},
		{Name: "iterator"},
		{Name: "labels"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "content"}},
}

// withDynamic adds `dynamic "TYPE"` blocks to a schema, for the static check of a body
// before dynblock expands it.
func withDynamic(s *hcl.BodySchema) *hcl.BodySchema {
	out := *s
	out.Blocks = append(slices.Clone(s.Blocks), hcl.BlockHeaderSchema{Type: "dynamic", LabelNames: []string{"type"}})
	return &out
}

var (
	targetSchemaStatic = withDynamic(targetSchema)
	testSchemaStatic   = withDynamic(testSchema)
)

// target is one target block with its matrix evaluated; cells are made by Plan.
type target struct {
	name       string
	defRange   hcl.Range
	body       hcl.Body
	content    *hcl.BodyContent // static content; per cell when hasDynamic
	hasDynamic bool
	// dynamicPerCell: a dynamic block's for_each or labels refers to matrix, so the
	// blocks are expanded for each cell.
	dynamicPerCell bool
	axes           []axis
	exclude        []keyset
	include        []keyset
	keys           []string // axes, then keys only includes add, in first-seen order
	declared       []string // every axis name written, valid or not, for reference checks
	broken         bool     // Load reported an error about it: Plan skips it
	// inherit is what the target inherits (inherits.go); nil when it inherits nothing.
	inherit *inheritance
}

// loadTargets reads every target block, in file order. It stops with ctx's error when
// ctx is done, between two targets.
func (f *File) loadTargets(ctx context.Context, blocks hcl.Blocks, sc scope) (hcl.Diagnostics, error) {
	var diags hcl.Diagnostics
	seen := map[string]*hcl.Block{}
	for _, b := range blocks {
		if b.Type != "target" {
			continue
		}
		if err := ctx.Err(); err != nil {
			return diags, err
		}
		name := b.Labels[0]
		if prev, dup := seen[name]; dup {
			diags = append(diags, errorWithin(b.LabelRanges[0], b.DefRange, "Duplicate target", fmt.Sprintf("A target named %q was already declared at %s. Target labels must be unique.", name, rangeString(prev.DefRange))))
			continue
		}
		seen[name] = b
		if !validLabel(name) {
			diags = append(diags, errorAt(b.LabelRanges[0].Ptr(), "Invalid target label", "A target label must be non-empty and use only letters, digits, '-', '_' and '.', since it appears in names, logs and on the command line."))
		}
		t, more := f.loadTarget(b, sc)
		diags = append(diags, more...)
		f.targets = append(f.targets, t)
	}
	return append(diags, f.loadInheritance(blocks, sc)...), nil
}

func (f *File) loadTarget(b *hcl.Block, sc scope) (*target, hcl.Diagnostics) {
	t := &target{name: b.Labels[0], defRange: b.DefRange, body: b.Body}
	content, diags := b.Body.Content(staticSchemaOf(b.Body))
	t.content = content

	matrixOK := true
	if attr, ok := content.Attributes["matrix"]; ok {
		more := f.loadAxes(t, attr, sc)
		diags = append(diags, more...)
		_, notObject := hcl.ExprMap(attr.Expr)
		matrixOK = !notObject.HasErrors()
	}
	axisNames := slices.Clone(t.declared)
	keyIndex := make(map[string]int, len(t.axes))
	for i, a := range t.axes {
		t.keys = append(t.keys, a.name)
		keyIndex[a.name] = i
	}
	if attr, ok := content.Attributes["exclude"]; ok {
		sets, more := f.loadKeysets(t, attr, sc)
		diags = append(diags, more...)
		for _, ks := range sets {
			for i, e := range ks.entries {
				if !slices.Contains(axisNames, e.name) {
					diags = append(diags, errorAt(e.rng.Ptr(), "Exclude names an unknown axis", fmt.Sprintf("Target %q has no axis named %q.%s", t.name, e.name, declaredList("Its axes are", axisNames))))
				}
				if k, ok := keyIndex[e.name]; ok {
					ks.entries[i].key = k
				}
			}
		}
		t.exclude = sets
	}
	includeOK := true
	if attr, ok := content.Attributes["include"]; ok {
		sets, more := f.loadKeysets(t, attr, sc)
		diags = append(diags, more...)
		diags = append(diags, t.includeKeys(attr, sets, keyIndex)...)
		t.include = sets
		includeOK = sets != nil || !more.HasErrors()
	}

	cellScope := sc
	cellScope.matrixKeys = t.declared
	cellScope.anyMatrix = !matrixOK || !includeOK // its keys are unknown: do not guess
	cellScope.target = t.name
	t.inherit = newInheritance(content, cellScope)
	diags = append(diags, t.checkBody(content, cellScope, "")...)
	// A target that inherits may get its script or npm block from a parent: it is
	// checked once merged (inheritFrom).
	_, inherits := content.Attributes["inherits"]
	diags = append(diags, checkNpmBlocks(t.name, b.Body.MissingItemRange(), content, !inherits)...)
	t.broken = breaks(diags)
	return t, diags
}

// breaks reports whether diags, a target's load errors, keep it from being planned. An
// attribute or block the schema does not know is ignored by what plans the target,
// so the target is still planned, and validate reports every problem in one pass (a
// bad timeout with the typo beside it), not the typo first and the timeout after.
func breaks(diags hcl.Diagnostics) bool {
	for _, d := range diags {
		if d.Severity == hcl.DiagError && d.Summary != "Unsupported argument" && d.Summary != "Unsupported block type" {
			return true
		}
	}
	return false
}

// includeKeys adds the keys of the include objects sets to t.keys and t.declared, in
// the order they first appear, and sets each entry's key; more than maxKeys in all are
// an error.
func (t *target) includeKeys(attr *hcl.Attribute, sets []keyset, keyIndex map[string]int) hcl.Diagnostics {
	declared := make(map[string]bool, len(t.declared))
	for _, name := range t.declared {
		declared[name] = true
	}
	for _, ks := range sets {
		for i, e := range ks.entries {
			k, ok := keyIndex[e.name]
			if !ok {
				if len(t.keys) == maxKeys {
					return hcl.Diagnostics{tooManyKeys(t.name, attr.Expr.Range())}
				}
				k = len(t.keys)
				t.keys = append(t.keys, e.name)
				keyIndex[e.name] = k
			}
			ks.entries[i].key = k
			if !declared[e.name] {
				declared[e.name] = true
				t.declared = append(t.declared, e.name)
			}
		}
	}
	return nil
}

// tooManyKeys is the error for a matrix or include that makes more than maxKeys keys.
func tooManyKeys(target string, rng hcl.Range) *hcl.Diagnostic {
	return errorAt(rng.Ptr(), "Too many matrix keys", fmt.Sprintf("Target %q has more than %d matrix keys (its axes and the keys its includes add); every cell holds a value for each. Put values that belong together in one axis, or in locals looked up by one key.", target, maxKeys))
}

// checkBody checks the references of a target's (or its test's) per-cell attributes and
// blocks, and the shape of dynamic blocks. in names the block the content is of in
// messages ("", "test.", "mount.", ...). A cell's attributes may not use a sensitive value
// (cellValue): plan prints them all.
func (t *target) checkBody(content *hcl.BodyContent, sc scope, in string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, attr := range sortedAttrs(content.Attributes) {
		switch attr.Name {
		case "matrix", "exclude", "include", "inherits":
			continue
		}
		diags = append(diags, sc.checkExpr(attr.Expr)...)
		if sc.sens.attr(attr) {
			diags = append(diags, cellValue(in+attr.Name, attr))
		}
	}
	for _, blk := range content.Blocks {
		switch blk.Type {
		case "skip":
			diags = append(diags, t.checkSkip(blk, sc)...)
		case "mount":
			c, more := blk.Body.Content(mountSchema)
			diags = append(diags, more...)
			diags = append(diags, t.checkBody(c, sc, in+"mount.")...)
		case "test":
			if prev := firstBlock(content.Blocks, "test"); prev != blk {
				diags = append(diags, errorAt(blk.DefRange.Ptr(), "Duplicate test block", fmt.Sprintf("A target has at most one test block; the first is at %s.", rangeString(prev.DefRange))))
				continue
			}
			c, more := blk.Body.Content(testSchemaStatic)
			diags = append(diags, more...)
			diags = append(diags, checkTestMatrix(c, sc)...)
			diags = append(diags, t.checkBody(c, testScope(c, sc), in+"test.")...)
		case "npm":
			c, more := blk.Body.Content(npmSchema)
			diags = append(diags, more...)
			diags = append(diags, t.checkBody(c, sc, in+"npm.")...)
		case "dynamic":
			diags = append(diags, t.checkDynamic(blk, sc, in)...)
		}
	}
	return diags
}

// checkExpr checks the references of a per-cell expression, and its registry calls.
func (s scope) checkExpr(expr hcl.Expression) hcl.Diagnostics {
	return append(s.check(expr, true), s.sens.registryCalls(expr)...)
}

// checkDynamic checks a dynamic block: a mount generator with one content block, whose
// for_each may use matrix (then it is expanded per cell) and whose content may use its
// iterator, which is as sensitive as for_each.
func (t *target) checkDynamic(blk *hcl.Block, sc scope, in string) hcl.Diagnostics {
	t.hasDynamic = true
	kind := blk.Labels[0]
	if kind != "mount" {
		return hcl.Diagnostics{errorAt(blk.LabelRanges[0].Ptr(), "Unsupported dynamic block", fmt.Sprintf("Only mount blocks can be generated with dynamic, not %q.", kind))}
	}
	c, shapeDiags := blk.Body.Content(dynamicSchema)
	diags := slices.Clone(shapeDiags)
	iter := kind
	for _, attr := range sortedAttrs(c.Attributes) {
		if attr.Name == "iterator" {
			iter = hcl.ExprAsKeyword(attr.Expr)
			switch {
			case iter == "":
				diags = append(diags, errorAt(attr.Expr.Range().Ptr(), "Invalid dynamic iterator name", "The iterator must be a bare name, like iterator = m."))
				iter = kind
			case slices.Contains(reservedNames, iter):
				diags = append(diags, reservedNameDiag("A dynamic block's iterator", iter, attr.Expr.Range(), attr.Range))
			}
			continue
		}
		diags = append(diags, sc.checkExpr(attr.Expr)...)
		for _, tr := range attr.Expr.Variables() {
			if tr.RootName() == "matrix" {
				t.dynamicPerCell = true
			}
		}
	}
	inner := sc
	inner.extra = map[string]bool{iter: true}
	for k := range sc.extra {
		inner.extra[k] = true
	}
	forEach := sc.sens.attr(c.Attributes["for_each"])
	for _, cb := range c.Blocks {
		if body, ok := cb.Body.(*hclsyntax.Body); ok { // else unbound: judged sensitive
			sc.sens.learn(iter, body.SrcRange, forEach)
		}
		cc, more := cb.Body.Content(mountSchema)
		diags = append(diags, more...)
		diags = append(diags, t.checkBody(cc, inner, in+kind+".")...)
	}
	switch {
	case len(c.Blocks) == 0 && !shapeDiags.HasErrors():
		// (When this block's own shape is wrong, that is the problem to report.)
		diags = append(diags, errorAt(blk.DefRange.Ptr(), "Missing content block", "A dynamic block holds exactly one content block: the body of each generated block."))
	case len(c.Blocks) > 1:
		diags = append(diags, errorAt(c.Blocks[1].DefRange.Ptr(), "Duplicate content block", fmt.Sprintf("A dynamic block holds exactly one content block; the first is at %s.", rangeString(c.Blocks[0].DefRange))))
	}
	return diags
}

func firstBlock(blocks hcl.Blocks, typ string) *hcl.Block {
	for _, b := range blocks {
		if b.Type == typ {
			return b
		}
	}
	return nil
}

func validLabel(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return true
}
