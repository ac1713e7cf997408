package spec

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// envPrefix marks environment variables that set matrix variables.
const envPrefix = "MATRIX_VAR_"

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
	value      cty.Value // cty.NilVal until set
	from       string    // where the value came from, for messages
	failed     bool      // a value was given but was invalid (already reported)
}

func (f *File) loadVariables(blocks hcl.Blocks, opts Options) ([]*variable, hcl.Diagnostics) {
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
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate variable",
				Detail:   fmt.Sprintf("A variable named %q was already declared at %s.", name, rangeString(prev.declRange)),
				Subject:  b.LabelRanges[0].Ptr(),
				Context:  b.DefRange.Ptr(),
			})
			continue
		}
		v := &variable{name: name, declRange: b.DefRange, typ: cty.DynamicPseudoType}
		byName[name] = v
		vars = append(vars, v)
		content, more := b.Body.Content(variableSchema)
		diags = append(diags, more...)
		if attr, ok := content.Attributes["type"]; ok {
			ty, defaults, more := typeexpr.TypeConstraintWithDefaults(attr.Expr)
			diags = append(diags, more...)
			if !more.HasErrors() {
				v.typ, v.defaults, v.typed = ty, defaults, true
			}
		}
		if attr, ok := content.Attributes["description"]; ok {
			diags = append(diags, typedLiteral(attr, cty.String)...)
		}
		if attr, ok := content.Attributes["sensitive"]; ok {
			val, more := attr.Expr.Value(nil)
			diags = append(diags, more...)
			if !more.HasErrors() {
				if bv, err := convert.Convert(val, cty.Bool); err != nil || bv.IsNull() {
					diags = append(diags, attrTypeDiag(attr, "bool"))
				} else {
					v.sensitive = bv.True()
					if v.sensitive {
						f.sens.vars[name] = true
					}
				}
			}
		}
		if attr, ok := content.Attributes["default"]; ok {
			val, more := attr.Expr.Value(nil)
			diags = append(diags, more...)
			if !more.HasErrors() {
				val, more = v.convert(val, attr.Expr.Range(), "the default")
				diags = append(diags, more...)
				v.value, v.from = val, "the default"
			}
			v.failed = more.HasErrors()
		}
		for _, vb := range content.Blocks {
			_, more := vb.Body.Content(validationSchema)
			diags = append(diags, more...)
			if !more.HasErrors() {
				v.validation = append(v.validation, vb)
			}
		}
	}

	// Precedence, lowest first: default, environment, --var-file in order, --var in order.
	envNames := make([]string, 0)
	envVals := map[string]string{}
	for _, kv := range opts.Environ {
		k, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, envPrefix) {
			continue
		}
		name := k[len(envPrefix):]
		if _, declared := byName[name]; !declared {
			continue // the environment is shared with other tools: ignore, as Terraform does
		}
		if _, seen := envVals[name]; !seen {
			envNames = append(envNames, name)
		}
		envVals[name] = val
	}
	for _, name := range envNames {
		v := byName[name]
		from := "environment variable " + envPrefix + name
		val, more := f.rawValue(v, envVals[name], from, "<value for var."+name+" from "+from+">")
		diags = append(diags, more...)
		v.failed = v.failed || more.HasErrors()
		if !more.HasErrors() {
			v.value, v.from = val, "environment variable "+envPrefix+name
		}
	}
	for _, path := range opts.VarFiles {
		diags = append(diags, f.loadVarFile(path, byName)...)
	}
	for i, arg := range opts.Vars {
		name, raw, ok := strings.Cut(arg, "=")
		if !ok || name == "" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid --var option",
				Detail:   fmt.Sprintf("The option --var %q is not of the form NAME=VALUE.", arg),
			})
			continue
		}
		v, declared := byName[name]
		if !declared {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Value for undeclared variable",
				Detail:   fmt.Sprintf("The option --var sets %q, but the matrix file declares no variable %q.%s", name, name, declaredList("Declared variables", varNames(vars))),
			})
			continue
		}
		// The source name holds the option's position: the same variable may be set
		// more than once, and each value's diagnostics must show its own text.
		src := fmt.Sprintf("<value for var.%s from --var option %d>", name, i+1)
		val, more := f.rawValue(v, raw, "--var "+name, src)
		diags = append(diags, more...)
		v.failed = v.failed || more.HasErrors()
		if !more.HasErrors() {
			v.value, v.from = val, "--var "+name
		}
	}

	for _, v := range vars {
		if v.failed {
			// A given value was invalid: do not plan with the default instead, which
			// could report problems (or duplicates) the intended value does not have.
			v.value = cty.DynamicVal
			continue
		}
		if v.value != cty.NilVal {
			continue
		}
		if !v.failed {
			diags = append(diags, errorAt(v.declRange.Ptr(), "No value for required variable", fmt.Sprintf("The variable %q has no default. Set it with --var %s=VALUE, in a --var-file, or with the environment variable %s%s.", v.name, v.name, envPrefix, v.name)))
		}
		v.value = cty.DynamicVal
	}
	return vars, diags
}

// convert applies the variable's type defaults and converts val to its type.
func (v *variable) convert(val cty.Value, rng hcl.Range, from string) (cty.Value, hcl.Diagnostics) {
	if v.defaults != nil {
		val = v.defaults.Apply(val)
	}
	out, err := convert.Convert(val, v.typ)
	if err != nil {
		return cty.DynamicVal, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid value for variable",
			Detail:   fmt.Sprintf("The value of %s for variable %q is not a %s: %s.", from, v.name, typeexpr.TypeString(v.typ), err),
			Subject:  rng.Ptr(),
		}}
	}
	return out, nil
}

// rawValue turns a string from the command line or the environment into a value: taken
// as is for a variable of type string or without a type, parsed as an HCL expression
// otherwise (type = any included), as Terraform does. name is the source's name in
// diagnostics; it must be unique to this value.
func (f *File) rawValue(v *variable, raw, from, name string) (cty.Value, hcl.Diagnostics) {
	if v.typ == cty.String || !v.typed {
		return cty.StringVal(raw), nil
	}
	src := []byte(raw)
	if !v.sensitive { // diagnostics show the source they point into
		f.files[name] = &hcl.File{Bytes: src}
	}
	expr, diags := hclsyntax.ParseExpression(src, name, hcl.InitialPos)
	if diags.HasErrors() {
		return cty.DynamicVal, diags
	}
	val, diags := expr.Value(nil)
	if diags.HasErrors() {
		return cty.DynamicVal, diags
	}
	return v.convert(val, expr.Range(), from)
}

func (f *File) loadVarFile(path string, byName map[string]*variable) hcl.Diagnostics {
	src, err := os.ReadFile(path)
	if err != nil {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read variable file",
			Detail:   err.Error(),
		}}
	}
	file, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if file == nil {
		file = &hcl.File{Bytes: src}
	}
	f.files[path] = file
	if diags.HasErrors() {
		return diags
	}
	attrs, more := file.Body.JustAttributes()
	diags = append(diags, more...)
	for _, attr := range sortedAttrs(attrs) {
		v, declared := byName[attr.Name]
		if !declared {
			diags = append(diags, errorAt(attr.NameRange.Ptr(), "Value for undeclared variable", fmt.Sprintf("The variable file sets %q, but the matrix file declares no such variable.%s", attr.Name, declaredList("Declared variables", sortedKeys(byName)))))
			continue
		}
		val, more := attr.Expr.Value(nil)
		diags = append(diags, more...)
		if more.HasErrors() {
			v.failed = true
			continue
		}
		from := fmt.Sprintf("%s line %d", path, attr.NameRange.Start.Line)
		val, more = v.convert(val, attr.Expr.Range(), from)
		diags = append(diags, more...)
		v.failed = v.failed || more.HasErrors()
		if !more.HasErrors() {
			v.value, v.from = val, from
		}
	}
	return diags
}

func varNames(vars []*variable) []string {
	names := make([]string, 0, len(vars))
	for _, v := range vars {
		names = append(names, v.name)
	}
	sort.Strings(names)
	return names
}

// typedLiteral checks that a constant attribute converts to ty.
func typedLiteral(attr *hcl.Attribute, ty cty.Type) hcl.Diagnostics {
	val, diags := attr.Expr.Value(nil)
	if diags.HasErrors() {
		return diags
	}
	if _, err := convert.Convert(val, ty); err != nil {
		return hcl.Diagnostics{attrTypeDiag(attr, ty.FriendlyName())}
	}
	return nil
}

func attrTypeDiag(attr *hcl.Attribute, want string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Incorrect attribute value type",
		Detail:   fmt.Sprintf("The value of %q must be a %s.", attr.Name, want),
		Subject:  attr.Expr.Range().Ptr(),
		Context:  attr.Range.Ptr(),
	}
}
