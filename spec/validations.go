package spec

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// checkValidations runs every variable's validation blocks against the final values.
func (f *File) checkValidations(vars []*variable, eval *hcl.EvalContext) hcl.Diagnostics {
	var diags hcl.Diagnostics
	sc := f.newScope(eval, f.ctx.Variables["var"].AsValueMap(), nil)
	for _, v := range vars {
		if !v.value.IsWhollyKnown() {
			continue // its problem is already reported
		}
		for _, b := range v.validation {
			diags = append(diags, f.checkValidation(v, b, sc)...)
		}
	}
	return diags
}

// checkValidation runs one validation block of v.
func (f *File) checkValidation(v *variable, b *hcl.Block, sc scope) hcl.Diagnostics {
	content, _ := b.Body.Content(validationSchema)
	cond := content.Attributes["condition"]
	if diags := append(sc.check(cond.Expr, false), sc.sens.registryCalls(cond.Expr)...); diags.HasErrors() {
		return diags
	}
	val, diags := evalBounded(cond.Expr, sc.eval, b.DefRange)
	if diags.HasErrors() || !val.IsWhollyKnown() {
		return diags
	}
	bv, err := convert.Convert(val, cty.Bool)
	if err != nil || bv.IsNull() {
		return append(diags, errorAt(cond.Expr.Range().Ptr(), "Invalid validation condition", "The condition must be a bool: true when the value is acceptable."))
	}
	if bv.True() {
		return diags
	}
	msg := f.errorMessage(content.Attributes["error_message"], sc)
	return append(diags, errorWithin(cond.Expr.Range(), b.DefRange, "Invalid value for variable", fmt.Sprintf("%s\n\nThe value of %q comes from %s; this validation rule rejected it.", msg, v.name, v.from)))
}

// errorMessage is a validation's error_message, or a stand-in when it cannot be
// evaluated or may show a sensitive value.
func (f *File) errorMessage(attr *hcl.Attribute, sc scope) string {
	if f.sens.attr(attr) {
		return "The value is not acceptable. (The error message is left out: it refers to a sensitive value.)"
	}
	if diags := sc.check(attr.Expr, false); diags.HasErrors() {
		return "The value is not acceptable."
	}
	mv, diags := evalBounded(attr.Expr, sc.eval, attr.Range)
	if diags.HasErrors() {
		return "The value is not acceptable."
	}
	s, err := convert.Convert(mv, cty.String)
	if err != nil || s.IsNull() || !s.IsKnown() {
		return "The value is not acceptable."
	}
	return s.AsString()
}
