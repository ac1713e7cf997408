package spec

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/dynblock"
	"github.com/zclconf/go-cty/cty"

	"github.com/matrixbuild/matrix/pack"
	"github.com/matrixbuild/matrix/plan"
)

// Defaults of a cell's optional attributes.
const (
	DefaultWorkdir     = "/build"
	DefaultTestWorkdir = "/test"
	DefaultTimeout     = 30 * time.Minute
	DefaultTestTimeout = 10 * time.Minute
	DefaultMaxSize     = pack.DefaultMaxSize // the packer's own bound
	DefaultRetries     = 2
	MaxTimeout         = 24 * time.Hour
	MaxMaxSize         = 1 << 40 // 1TiB
	MaxRetries         = 10
	// maxCells bounds the cells of a target's cartesian product, and of the whole plan,
	// so that a typo (range(1e9)) fails with a message instead of exhausting memory (an
	// evaluated cell takes a few kB).
	maxCells = 100_000
)

// Plan expands the named targets (all of them when none is named) into cells: targets
// in file order, cells in the order of their target's matrix, then its includes. An
// unknown target name is an error listing the known ones. Plan may be called after Load
// reported errors, as LoadPlan does: it skips the targets Load reported errors for (their
// diagnostics were already returned by Load) and plans the others, so that all problems
// are found.
func (f *File) Plan(ctx context.Context, targets ...string) ([]plan.Cell, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	selected := map[string]bool{}
	for _, name := range targets {
		if !slices.Contains(f.TargetNames(), name) {
			diags = append(diags, errorAt(nil, "Unknown target", fmt.Sprintf("The matrix file %s has no target named %q.%s", f.path, name, declaredList("Its targets are", f.TargetNames()))))
		}
		selected[name] = true
	}
	if diags.HasErrors() {
		return nil, diags
	}
	if f.incomplete {
		return nil, append(diags, errorAt(nil, "Incomplete matrix file", "Loading the matrix file stopped before it finished, so it cannot be planned. Load it again."))
	}
	var cells []located
	dc := newDiagCollector(f)
	eval := f.bind(ctx)
	for _, t := range f.targets {
		if (len(targets) > 0 && !selected[t.name]) || t.broken {
			continue
		}
		var tooMany bool
		var err error
		if cells, tooMany, err = f.planTarget(ctx, t, cells, dc, eval); err != nil {
			return nil, append(append(diags, dc.result()...), stoppedDiag(ctx, "Planning"))
		}
		if tooMany {
			break
		}
	}
	diags = append(diags, dc.result()...)
	// Cells that failed are not in cells, and neither are the cells of broken targets,
	// so this may miss a duplicate, but each one it reports is real: every value that
	// went into these cells loaded without error (a variable whose given value was
	// invalid is unknown, not its default, and makes the cells using it fail).
	diags = append(diags, checkArtifacts(cells)...)
	out := make([]plan.Cell, len(cells))
	for i := range cells {
		out[i] = cells[i].Cell
	}
	return out, diags
}

// located is an evaluated cell with what diagnostics about the whole plan need.
type located struct {
	plan.Cell
	// artifactRange is where the artifact name is written.
	artifactRange hcl.Range
	// artifactSensitive: the name may hold a sensitive variable's value, which
	// diagnostics leave out.
	artifactSensitive bool
}

// shownArtifact is the artifact name quoted for a diagnostic, unless it is sensitive.
func (c located) shownArtifact() string {
	if c.artifactSensitive {
		return sensitiveValue
	}
	return strconv.Quote(c.Artifact)
}

// planTarget appends the cells of t, evaluated in eval, to cells; tooMany reports that
// the plan would exceed maxCells (and is reported), so that planning stops. It stops
// with ctx's error when ctx is done: between the steps of the expansion, and between
// cells.
func (f *File) planTarget(ctx context.Context, t *target, cells []located, dc *diagCollector, eval *hcl.EvalContext) (_ []located, tooMany bool, _ error) {
	// The product is counted before it is made; the includes are at most maxCells
	// (loadKeysets), so that what expand makes is bounded before the total is checked.
	if _, tooLarge := t.productSize(); tooLarge {
		dc.add(t.tooLarge(fmt.Sprintf("The matrix of target %q has more than %d cells (the product of its axes' lengths).", t.name, maxCells)), "")
		return cells, true, nil
	}
	combos, err := t.expand(ctx)
	if err != nil {
		return cells, false, err
	}
	if planned := len(cells); planned+len(combos) > maxCells {
		dc.add(t.tooLarge(fmt.Sprintf("With the %d cells of the targets before it, target %q (%d cells) makes the plan larger than %d cells. Plan fewer targets at once (matrix plan FILE TARGET...).", planned, t.name, len(combos), maxCells)), "")
		return cells, true, nil
	}
	if len(combos) == 0 {
		// Axes are never empty, so only exclude can have removed every cell.
		dc.add(t.errorAtFirst([]string{"exclude"}, "Every cell excluded", fmt.Sprintf("The exclude of target %q removes every cell of its matrix, so the target would build nothing. Remove the target or loosen the exclude.", t.name)), "")
		return cells, false, nil
	}
	content := t.content
	if t.hasDynamic && !t.dynamicPerCell {
		// The dynamic blocks do not depend on the cell: expand them once. Their
		// attributes are still evaluated in each cell's context.
		var diags hcl.Diagnostics
		b := newBudget(maxBuilt)
		content, diags = dynblock.Expand(t.body, b.within(eval)).Content(targetSchema)
		if b.over != nil {
			diags = append(diags, b.diag(t.defRange))
		}
		if diags.HasErrors() {
			dc.addAll(t.inherited(diags), "")
			return cells, false, nil
		}
	}
	cache := blockContents{}
	cache.fillSkips(t.content)
	if !t.dynamicPerCell {
		cache.fill(content)
	}

	// Cells are independent: evaluate them on every CPU, then report in order.
	results := make([]evaluator, len(combos))
	err = parallel(ctx, len(combos), func(i int) {
		results[i] = f.evalCell(t, combos[i], content, cache, eval)
	})
	for i := range results { // when stopped, those not evaluated are empty
		e := &results[i]
		dc.addAll(t.inherited(e.diags), e.name)
		if err == nil && !e.failed && !e.diags.HasErrors() {
			cells = append(cells, e.result)
		}
	}
	return cells, false, err
}

// evalCell evaluates the cell of combination c in a child of eval, from content (the
// target's content with its dynamic blocks expanded, unless they are expanded per
// cell). A cell a skip block holds for is evaluated no further.
func (f *File) evalCell(t *target, c combo, content *hcl.BodyContent, cache blockContents, eval *hcl.EvalContext) evaluator {
	b := newBudget(maxBuilt)
	ctx := b.within(eval)
	ctx.Variables = map[string]cty.Value{"matrix": t.matrixValue(c)}
	cell := located{Cell: plan.Cell{Target: t.name, Axes: t.axesOf(c)}}
	e := evaluator{ctx: ctx, name: cell.Name(), dir: f.dir, contents: cache, sens: f.sens, budget: b}
	// Skip blocks are never generated, so the static content holds them all.
	if cell.Skip = e.skip(t.content.Blocks); cell.Skip != "" || e.failed {
		e.result = cell
		return e
	}
	if t.dynamicPerCell {
		var diags hcl.Diagnostics
		content, diags = dynblock.Expand(t.body, ctx).Content(targetSchema)
		e.diags = append(e.diags, diags...)
		if b.over != nil {
			e.diags = append(e.diags, b.diag(t.defRange))
		}
		e.contents = blockContents{}
	}
	e.cell(content, &cell)
	e.result = cell
	return e
}

// parallel calls fn for every index below n: on every CPU, in chunks, when n is large
// enough for that to pay. It stops with ctx's error when ctx is done, between calls.
func parallel(ctx context.Context, n int, fn func(i int)) error {
	workers := runtime.GOMAXPROCS(0)
	if n < 256 || workers < 2 {
		for i := 0; i < n && ctx.Err() == nil; i++ {
			fn(i)
		}
		return ctx.Err()
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Go(func() {
			for i := lo; i < hi && ctx.Err() == nil; i++ {
				fn(i)
			}
		})
	}
	wg.Wait()
	return ctx.Err()
}

// tooLarge is the "Matrix too large" diagnostic, at the matrix attribute when there is
// one (else at what made the cells: include, or the block).
func (t *target) tooLarge(detail string) *hcl.Diagnostic {
	return t.errorAtFirst([]string{"matrix", "include"}, "Matrix too large", detail+" "+tooLargeHint)
}

// tooLargeHint ends the "Matrix too large" diagnostics.
const tooLargeHint = "A typo like range(1e6) does this; a real plan this large would not fit in memory."

// errorAtFirst is an error at the first of the named attributes that t has, else at
// the target block.
func (t *target) errorAtFirst(attrNames []string, summary, detail string) *hcl.Diagnostic {
	for _, name := range attrNames {
		if attr, ok := t.content.Attributes[name]; ok {
			return errorWithin(attr.Expr.Range(), attr.Range, summary, detail)
		}
	}
	return errorAt(t.defRange.Ptr(), summary, detail)
}

// blockContents holds the decoded content of a target's nested blocks when it is the
// same for every cell, so that cells do not decode the same body again.
type blockContents map[hcl.Body]*hcl.BodyContent

func (bc blockContents) fill(content *hcl.BodyContent) {
	for _, b := range content.Blocks {
		switch b.Type {
		case "mount":
			bc.decode(b, mountSchema)
		case "test":
			if c := bc.decode(b, testSchema); c != nil {
				bc.fill(c)
			}
		}
	}
}

// fillSkips decodes the skip blocks of a target's static content.
func (bc blockContents) fillSkips(content *hcl.BodyContent) {
	for _, b := range content.Blocks {
		if b.Type == "skip" {
			bc.decode(b, skipSchema)
		}
	}
}

// decode caches b's content; nil when it does not decode (the evaluator reports why).
func (bc blockContents) decode(b *hcl.Block, schema *hcl.BodySchema) *hcl.BodyContent {
	c, diags := b.Body.Content(schema)
	if diags.HasErrors() {
		return nil
	}
	if cacheable(b.Body) {
		bc[b.Body] = c
	}
	return c
}

// get is the cached content of body, if there is one.
func (bc blockContents) get(body hcl.Body) (*hcl.BodyContent, bool) {
	if !cacheable(body) {
		return nil, false
	}
	c, ok := bc[body]
	return c, ok
}

// cacheable reports whether body can key the cache: a body by pointer, as HCL's own
// syntax makes them. A body of another kind may hold what cannot be a map key — the
// one dynblock makes for a for_each whose value is unknown holds a map — and is
// decoded anew each time instead.
func cacheable(body hcl.Body) bool {
	return body != nil && reflect.TypeOf(body).Kind() == reflect.Pointer
}
