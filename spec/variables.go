package spec

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"},
		{Name: "default"},
		{Name: "description"},
		{Name: "sensitive"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "condition", Required: true},
		{Name: "error_message", Required: true},
	},
}

// variable is one declared input variable.
type variable struct {
	name       string
	declRange  hcl.Range
	typ        cty.Type
	typed      bool // a type was written; without one, raw values are strings
	defaults   *typeexpr.Defaults
	sensitive  bool
	validation []*hcl.Block
	// assignments are the values given to it, lowest precedence first: the default,
	// then MATRIX_VAR_*, --var-file, --var (see values.go); settle picks the value.
	assignments []assignment
	value       cty.Value // the settled value; unknown when none is usable
	from        string    // where value came from, for messages
}

// assignment is one value given to a variable, and where it came from.
type assignment struct {
	from  string
	value cty.Value
	ok    bool // false: the value was invalid, and that is reported
}

// declareVariables reads the variable blocks, with their defaults.
func (f *File) declareVariables(blocks hcl.Blocks) ([]*variable, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	var vars []*variable
	byName := map[string]*variable{}
	for _, b := range blocks {
		if b.Type != "variable" {
			continue
		}
		name := b.Labels[0]
		if !hclsyntax.ValidIdentifier(name) {
			diags = append(diags, errorAt(b.LabelRanges[0].Ptr(), "Invalid variable name", "A variable name must start with a letter or underscore and contain only letters, digits, underscores and dashes."))
			continue
		}
		if prev, dup := byName[name]; dup {
			diags = append(diags, errorWithin(b.LabelRanges[0], b.DefRange, "Duplicate variable", fmt.Sprintf("A variable named %q was already declared at %s.", name, rangeString(prev.declRange))))
			continue
		}
		v, more := declareVariable(b)
		diags = append(diags, more...)
		if v.sensitive {
			f.sens.vars[name] = true
		}
		byName[name] = v
		vars = append(vars, v)
	}
	return vars, diags
}

func declareVariable(b *hcl.Block) (*variable, hcl.Diagnostics) {
	v := &variable{name: b.Labels[0], declRange: b.DefRange, typ: cty.DynamicPseudoType}
	content, diags := b.Body.Content(variableSchema)
	attrs := content.Attributes
	if attr, ok := attrs["type"]; ok {
		ty, defaults, more := typeexpr.TypeConstraintWithDefaults(attr.Expr)
		diags = append(diags, more...)
		if !more.HasErrors() {
			v.typ, v.defaults, v.typed = ty, defaults, true
		}
	}
	if attr, ok := attrs["description"]; ok {
		diags = append(diags, typedLiteral(attr, cty.String)...)
	}
	if attr, ok := attrs["sensitive"]; ok {
		diags = append(diags, v.setSensitive(attr)...)
	}
	if attr, ok := attrs["default"]; ok {
		diags = append(diags, v.assignExpr(attr.Expr, "the default")...)
	}
	for _, vb := range content.Blocks {
		_, more := vb.Body.Content(validationSchema)
		diags = append(diags, more...)
		if !more.HasErrors() {
			v.validation = append(v.validation, vb)
		}
	}
	return v, diags
}

func (v *variable) setSensitive(attr *hcl.Attribute) hcl.Diagnostics {
	val, diags := evalBounded(attr.Expr, nil, attr.Range)
	if diags.HasErrors() {
		return diags
	}
	bv, err := convert.Convert(val, cty.Bool)
	if err != nil || bv.IsNull() {
		return append(diags, attrTypeDiag(attr, "bool"))
	}
	v.sensitive = bv.True()
	return diags
}

// convert applies the variable's type defaults and converts val to its type.
func (v *variable) convert(val cty.Value, rng hcl.Range, from string) (cty.Value, hcl.Diagnostics) {
	if v.defaults != nil {
		val = v.defaults.Apply(val)
	}
	out, err := convert.Convert(val, v.typ)
	if err != nil {
		why := err.Error()
		if v.sensitive { // its path names map keys and object attributes
			why = "the reason is left out, since it may show a part of the sensitive value"
		}
		return cty.DynamicVal, hcl.Diagnostics{errorAt(rng.Ptr(), "Invalid value for variable", fmt.Sprintf("The value of %s for variable %q is not a %s: %s.", from, v.name, typeexpr.TypeString(v.typ), why))}
	}
	return out, nil
}

// typedLiteral checks that a constant attribute converts to ty.
func typedLiteral(attr *hcl.Attribute, ty cty.Type) hcl.Diagnostics {
	val, diags := evalBounded(attr.Expr, nil, attr.Range)
	if diags.HasErrors() {
		return diags
	}
	if _, err := convert.Convert(val, ty); err != nil {
		return hcl.Diagnostics{attrTypeDiag(attr, ty.FriendlyName())}
	}
	return nil
}

func attrTypeDiag(attr *hcl.Attribute, want string) *hcl.Diagnostic {
	return errorWithin(attr.Expr.Range(), attr.Range, "Incorrect attribute value type", fmt.Sprintf("The value of %q must be a %s.", attr.Name, want))
}
