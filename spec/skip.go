package spec

import (
	"strings"
	"unicode"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// skipSchema is a target's skip block: its cells for which condition holds are not
// built, for reason. Like Terraform's validation blocks, a target may have any number.
var skipSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "condition", Required: true},
		{Name: "reason", Required: true},
	},
}

// checkSkip checks a skip block before any cell is evaluated: its shape, its
// references, and that its reason cannot show a sensitive value. Its condition may use
// one: it decides only whether the cell is built.
func (t *target) checkSkip(blk *hcl.Block, sc scope) hcl.Diagnostics {
	c, diags := blk.Body.Content(skipSchema)
	for _, attr := range sortedAttrs(c.Attributes) {
		diags = append(diags, sc.checkExpr(attr.Expr)...)
	}
	if reason := c.Attributes["reason"]; sc.sens.attr(reason) {
		diags = append(diags, errorWithin(reason.Expr.Range(), reason.Range, "Sensitive value in a skip reason",
			"A skip reason may not use a sensitive variable, or a value made from one: plan prints it and manifest.json records it. Say why the cell is skipped without the value; the condition may use it."))
	}
	return diags
}

// skip evaluates a cell's skip blocks in file order: the reason of the first whose
// condition is true, or "" when none is. The blocks after a true one are not
// evaluated, nor is anything else of the cell, so that a cell that cannot work need
// not evaluate. A block that cannot be evaluated fails the cell (e.failed).
func (e *evaluator) skip(blocks hcl.Blocks) string {
	for _, b := range blocks {
		if b.Type != "skip" {
			continue
		}
		content, ok := e.content(b, skipSchema)
		if !ok {
			return ""
		}
		cond, ok := e.value(content.Attributes["condition"], cty.Bool)
		if !ok {
			e.failed = true
			return ""
		}
		if cond.False() {
			continue
		}
		attr := content.Attributes["reason"]
		v, ok := e.value(attr, cty.String)
		if !ok {
			e.failed = true
			return ""
		}
		reason := strings.TrimSpace(v.AsString())
		switch {
		case reason == "":
			e.fail(attr, "Empty skip reason", "A skip block's reason says why its cells are not built: plan prints it and manifest.json records it. It must not be empty.")
		case strings.ContainsFunc(reason, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }):
			e.fail(attr, "Invalid skip reason", "A skip reason is one line of text, without control characters such as a line break or invisible formatting characters (like U+202E): plan prints each cell on one line.")
		default:
			return reason
		}
		return ""
	}
	return ""
}
