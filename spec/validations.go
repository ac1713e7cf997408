package spec

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// checkValidations runs every variable's validation blocks against the final values.
func (f *File) checkValidations(vars []*variable) hcl.Diagnostics {
	var diags hcl.Diagnostics
	sc := scope{vars: f.ctx.Variables["var"].AsValueMap()}
	for _, v := range vars {
		if !v.value.IsWhollyKnown() {
			continue // its problem is already reported
		}
		for _, b := range v.validation {
			content, _ := b.Body.Content(validationSchema)
			cond := content.Attributes["condition"]
			msgAttr := content.Attributes["error_message"]
			if more := sc.check(cond.Expr, false); more.HasErrors() {
				diags = append(diags, more...)
				continue
			}
			val, more := cond.Expr.Value(f.ctx)
			diags = append(diags, more...)
			if more.HasErrors() || !val.IsWhollyKnown() {
				continue
			}
			bv, err := convert.Convert(val, cty.Bool)
			if err != nil || bv.IsNull() {
				diags = append(diags, errorAt(cond.Expr.Range().Ptr(), "Invalid validation condition", "The condition must be a bool: true when the value is acceptable."))
				continue
			}
			if bv.True() {
				continue
			}
			msg := "The value is not acceptable."
			if more := sc.check(msgAttr.Expr, false); !more.HasErrors() {
				if mv, more := msgAttr.Expr.Value(f.ctx); !more.HasErrors() {
					if s, err := convert.Convert(mv, cty.String); err == nil && !s.IsNull() && s.IsKnown() {
						msg = s.AsString()
					}
				}
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid value for variable",
				Detail:   fmt.Sprintf("%s\n\nThe value of %q comes from %s; this validation rule rejected it.", msg, v.name, v.from),
				Subject:  cond.Expr.Range().Ptr(),
				Context:  b.DefRange.Ptr(),
			})
		}
	}
	return diags
}
