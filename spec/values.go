package spec

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/zclconf/go-cty/cty"
)

// envPrefix marks environment variables that set matrix variables.
const envPrefix = "MATRIX_VAR_"

// loadVariables declares the variables, collects the values given to each from every
// source, lowest precedence first (default, MATRIX_VAR_*, each --var-file in order, each
// --var in order), then settles each variable's value from its list.
func (f *File) loadVariables(blocks hcl.Blocks, opts Options) ([]*variable, hcl.Diagnostics) {
	vars, diags := f.declareVariables(blocks)
	byName := make(map[string]*variable, len(vars))
	for _, v := range vars {
		byName[v.name] = v
	}
	diags = append(diags, f.envValues(opts.Environ, byName)...)
	for _, path := range opts.VarFiles {
		diags = append(diags, f.varFileValues(path, byName)...)
	}
	diags = append(diags, f.optionValues(opts.Vars, byName)...)
	for _, v := range vars {
		if d := v.settle(); d != nil {
			diags = append(diags, d)
		}
	}
	return vars, diags
}

func (v *variable) assign(from string, val cty.Value, ok bool) {
	v.assignments = append(v.assignments, assignment{from: from, value: val, ok: ok})
}

// settle sets the value from the last assignment, or reports that a required variable
// has none. When any given value was invalid, the value is unknown: planning with
// another one in its place could report problems (or duplicates) the intended value
// does not have.
func (v *variable) settle() *hcl.Diagnostic {
	v.value = cty.DynamicVal
	if slices.ContainsFunc(v.assignments, func(a assignment) bool { return !a.ok }) {
		return nil
	}
	if len(v.assignments) == 0 {
		return errorAt(v.declRange.Ptr(), "No value for required variable", fmt.Sprintf("The variable %q has no default. Set it with --var %s=VALUE, in a --var-file, or with the environment variable %s%s.", v.name, v.name, envPrefix, v.name))
	}
	last := v.assignments[len(v.assignments)-1]
	v.value, v.from = last.value, last.from
	return nil
}

// assignExpr assigns a constant expression: a default, or a line of a --var-file.
func (v *variable) assignExpr(expr hcl.Expression, from string) hcl.Diagnostics {
	val, diags := evalBounded(expr, nil, expr.Range())
	diags = v.hide(diags)
	if !diags.HasErrors() {
		var more hcl.Diagnostics
		val, more = v.convert(val, expr.Range(), from)
		diags = append(diags, more...)
	}
	v.assign(from, val, !diags.HasErrors())
	return diags
}

// hide leaves out of HCL's diagnostics about a given value of a sensitive variable what
// they would show of it (see redacted): the value may be computed, like
// [for t in ["..."] : t + 1], and HCL prints "with t as ...".
func (v *variable) hide(diags hcl.Diagnostics) hcl.Diagnostics {
	if !v.sensitive {
		return diags
	}
	out := make(hcl.Diagnostics, len(diags))
	for i, d := range diags {
		out[i] = redacted(d)
	}
	return out
}

// assignRaw assigns a string from the command line or the environment (see rawValue).
func (f *File) assignRaw(v *variable, raw, from, name string) hcl.Diagnostics {
	val, diags := f.rawValue(v, raw, from, name)
	v.assign(from, val, !diags.HasErrors())
	return diags
}

// envValues assigns MATRIX_VAR_NAME=VALUE entries of declared variables, each name once
// (its last entry), in the order the names first appear.
func (f *File) envValues(environ []string, byName map[string]*variable) hcl.Diagnostics {
	var names []string
	vals := map[string]string{}
	for _, kv := range environ {
		k, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, envPrefix) {
			continue
		}
		name := k[len(envPrefix):]
		if _, declared := byName[name]; !declared {
			continue // the environment is shared with other tools: ignore, as Terraform does
		}
		if _, seen := vals[name]; !seen {
			names = append(names, name)
		}
		vals[name] = val
	}
	var diags hcl.Diagnostics
	for _, name := range names {
		from := "environment variable " + envPrefix + name
		diags = append(diags, f.assignRaw(byName[name], vals[name], from, "<value for var."+name+" from "+from+">")...)
	}
	return diags
}

// varFileValues assigns the attributes of a --var-file. Diagnostics show its source,
// but not where it sets a sensitive variable (f.hidden), nor, when the matrix file
// declares a sensitive variable, the line of a name it does not declare (a sensitive
// one's, mistyped) or any line of a file that is not a plain list of attributes (it
// does not parse, or has a block): where such a file sets what is not known (a
// quoted name, a block, JSON, a line HCL's scanner reads otherwise).
func (f *File) varFileValues(path string, byName map[string]*variable) hcl.Diagnostics {
	src, err := atomicfile.ReadFile(path, MaxFileSize)
	if err != nil {
		return hcl.Diagnostics{errorAt(nil, "Cannot read variable file", err.Error())}
	}
	secret := false
	for _, v := range byName {
		secret = secret || v.sensitive
	}
	file, diags := parseConfig(src, path)
	var attrs hcl.Attributes
	if !diags.HasErrors() {
		var more hcl.Diagnostics
		attrs, more = file.Body.JustAttributes()
		diags = append(diags, more...)
	}
	shown := !diags.HasErrors() || !secret
	if !shown {
		for i, d := range diags {
			diags[i] = redacted(d)
		}
	}
	diags = withJSONHint(diags, path)
	if shown {
		if file == nil {
			file = &hcl.File{Bytes: src}
		}
		f.files[path] = file
	}
	for _, attr := range sortedAttrs(attrs) {
		v, declared := byName[attr.Name]
		if !declared {
			if secret {
				f.hidden = append(f.hidden, attr.Range)
			}
			diags = append(diags, errorAt(attr.NameRange.Ptr(), "Value for undeclared variable", fmt.Sprintf("The variable file sets %q, but the matrix file declares no such variable.%s", attr.Name, declaredList("Declared variables", sortedKeys(byName)))))
			continue
		}
		if v.sensitive {
			f.hidden = append(f.hidden, attr.Range)
		}
		diags = append(diags, v.assignExpr(attr.Expr, fmt.Sprintf("%s line %d", path, attr.NameRange.Start.Line))...)
	}
	return diags
}

// withJSONHint adds to the first error of a var-file named *.json that it is read as
// HCL's native syntax (Terraform reads *.tfvars.json as JSON; matrix does not).
func withJSONHint(diags hcl.Diagnostics, path string) hcl.Diagnostics {
	if !strings.HasSuffix(strings.ToLower(path), ".json") {
		return diags
	}
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			d.Detail = strings.TrimSpace(d.Detail + "\n\nA variable file is read as lines of NAME = value in HCL's native syntax, whatever its name: JSON is not supported.")
			break
		}
	}
	return diags
}

// optionValues assigns the NAME=VALUE arguments of --var.
func (f *File) optionValues(args []string, byName map[string]*variable) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for i, arg := range args {
		name, raw, ok := strings.Cut(arg, "=")
		if !ok || name == "" {
			shown := strconv.Quote(arg)
			if len(f.sens.vars) > 0 { // it may be NAME and a value, mistyped
				shown = fmt.Sprintf("number %d (%s)", i+1, sensitiveValue)
			}
			diags = append(diags, errorAt(nil, "Invalid --var option", fmt.Sprintf("The option --var %s is not of the form NAME=VALUE.", shown)))
			continue
		}
		v, declared := byName[name]
		if !declared {
			diags = append(diags, errorAt(nil, "Value for undeclared variable", fmt.Sprintf("The option --var sets %q, but the matrix file declares no variable %q.%s", name, name, declaredList("Declared variables", sortedKeys(byName)))))
			continue
		}
		// The source name holds the option's position: the same variable may be set
		// more than once, and each value's diagnostics must show its own text.
		src := fmt.Sprintf("<value for var.%s from --var option %d>", name, i+1)
		diags = append(diags, f.assignRaw(v, raw, "--var "+name, src)...)
	}
	return diags
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
	expr, diags := parseExpression(src, name)
	if diags.HasErrors() {
		return cty.DynamicVal, v.hide(withRawHint(diags, v, raw, from))
	}
	val, diags := evalBounded(expr, nil, expr.Range())
	if diags.HasErrors() {
		return cty.DynamicVal, v.hide(withRawHint(diags, v, raw, from))
	}
	val, diags = v.convert(val, expr.Range(), from)
	return val, withRawHint(diags, v, raw, from)
}

// withRawHint adds to the first error of diags how a value given as text is read for
// a variable that is not a string: `--var versions=2.0.2` for a list(string) is the
// number literal 2.0.2, which HCL's own message does not explain.
func withRawHint(diags hcl.Diagnostics, v *variable, raw, from string) hcl.Diagnostics {
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		if d.Summary == "Nesting too deep" || d.Summary == "Value too large" || d.Summary == "Number too long" {
			break // the value was meant as HCL: no hint
		}
		example := exampleOf(v.typ, raw)
		if v.sensitive {
			example = exampleOf(v.typ, "")
		}
		how := fmt.Sprintf("--var '%s=%s'", v.name, example)
		if strings.HasPrefix(from, "environment") {
			how = fmt.Sprintf("%s%s='%s'", envPrefix, v.name, example)
		}
		d.Detail = strings.TrimSpace(d.Detail + fmt.Sprintf("\n\nVariable %q is of type %s, so its value (%s) is read as an HCL expression, not as text: for example %s.", v.name, typeexpr.TypeString(v.typ), from, how))
		break
	}
	return diags
}

// exampleOf is a value of type ty written in HCL, made of raw where raw is a bare
// word that fits (2.0.2 for a list(string): ["2.0.2"]).
func exampleOf(ty cty.Type, raw string) string {
	word := raw != "" && !strings.ContainsAny(raw, "\"'[]{}()$%\\\n=,") && len(raw) <= 40
	switch {
	case ty == cty.String || ty == cty.DynamicPseudoType:
		if word {
			return strconv.Quote(raw)
		}
		return `"text"`
	case ty == cty.Number:
		return "3"
	case ty == cty.Bool:
		return "true"
	case ty.IsListType() || ty.IsSetType():
		return "[" + exampleOf(ty.ElementType(), raw) + "]"
	case ty.IsMapType():
		return "{ key = " + exampleOf(ty.ElementType(), raw) + " }"
	case ty.IsTupleType() && len(ty.TupleElementTypes()) > 0:
		parts := make([]string, len(ty.TupleElementTypes()))
		for i, et := range ty.TupleElementTypes() {
			parts[i] = exampleOf(et, "")
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case ty.IsObjectType() && len(ty.AttributeTypes()) > 0:
		names := slices.Sorted(maps.Keys(ty.AttributeTypes()))
		return "{ " + names[0] + " = " + exampleOf(ty.AttributeType(names[0]), "") + " }"
	}
	return "[]"
}
