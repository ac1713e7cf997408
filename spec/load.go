package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Options are the variable values given to a matrix file from outside it.
type Options struct {
	Vars     []string // "NAME=VALUE" from --var, in command-line order (later wins)
	VarFiles []string // --var-file paths, in order
	Environ  []string // usually os.Environ(); MATRIX_VAR_<NAME>=VALUE entries are read
}

// envPrefix marks environment variables that set matrix variables.
const envPrefix = "MATRIX_VAR_"

// File is a parsed and validated matrix file with its variables and locals evaluated.
// Plan expands its targets into cells.
type File struct {
	path      string
	dir       string // absolute directory of the file: relative mount sources resolve here
	sha       string
	files     map[string]*hcl.File // every parsed source, for rendering diagnostics
	ctx       *hcl.EvalContext     // var, local and the functions
	targets   []*target
	sensitive map[string]bool // names of sensitive variables
}

// Path is the matrix file's path as given to Load.
func (f *File) Path() string { return f.path }

// SHA256 is the hex sha256 of the matrix file's bytes.
func (f *File) SHA256() string { return f.sha }

// TargetNames lists the targets in file order.
func (f *File) TargetNames() []string {
	names := make([]string, 0, len(f.targets))
	for _, t := range f.targets {
		names = append(names, t.name)
	}
	return names
}

var fileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "target", LabelNames: []string{"name"}},
	},
}

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

// Load parses and validates the file. It always returns a non-nil *File whose
// WriteDiagnostics can render the diagnostics (it holds the parsed sources), even on
// error.
func Load(path string, opts Options) (*File, hcl.Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		f := newFile(path, nil)
		return f, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read the matrix file",
			Detail:   err.Error(),
		}}
	}
	return LoadSource(path, src, opts)
}

// LoadSource is Load for a file already in memory; name is used in diagnostics and its
// directory is where relative mount sources resolve. --var-file paths in opts are still
// read from disk.
func LoadSource(name string, src []byte, opts Options) (*File, hcl.Diagnostics) {
	f := newFile(name, src)
	file, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	if file != nil {
		f.files[name] = file
	} else {
		f.files[name] = &hcl.File{Bytes: src}
	}
	if diags.HasErrors() {
		return f, diags
	}
	content, more := file.Body.Content(fileSchema)
	diags = append(diags, more...)

	vars, more := f.loadVariables(content.Blocks, opts)
	diags = append(diags, more...)
	varObj := make(map[string]cty.Value, len(vars))
	for _, v := range vars {
		varObj[v.name] = v.value
	}
	f.ctx = &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(varObj)},
		Functions: functions,
	}
	diags = append(diags, f.checkValidations(vars)...)

	locals, more := f.loadLocals(content.Blocks)
	diags = append(diags, more...)
	f.ctx.Variables["local"] = cty.ObjectVal(locals)

	sc := scope{vars: varObj, locals: locals}
	seen := map[string]*hcl.Block{}
	for _, b := range content.Blocks {
		if b.Type != "target" {
			continue
		}
		name := b.Labels[0]
		if prev, dup := seen[name]; dup {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate target",
				Detail:   fmt.Sprintf("A target named %q was already declared at %s. Target labels must be unique.", name, rangeString(prev.DefRange)),
				Subject:  b.LabelRanges[0].Ptr(),
				Context:  b.DefRange.Ptr(),
			})
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
	explain(diags)
	if len(seen) == 0 && !diags.HasErrors() {
		diags = append(diags, errorAt(file.Body.MissingItemRange().Ptr(), "No target", `A matrix file declares at least one target "NAME" { ... } block.`))
	}
	return f, diags
}

func newFile(name string, src []byte) *File {
	sum := sha256.Sum256(src)
	dir, err := filepath.Abs(filepath.Dir(name))
	if err != nil {
		dir = filepath.Dir(name)
	}
	return &File{
		path:      name,
		dir:       dir,
		sha:       hex.EncodeToString(sum[:]),
		files:     map[string]*hcl.File{},
		sensitive: map[string]bool{},
		ctx:       &hcl.EvalContext{Functions: functions},
	}
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
					f.sensitive[name] = v.sensitive
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
	f.files[name] = &hcl.File{Bytes: src}
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

// scope is what references an expression may make.
type scope struct {
	vars       map[string]cty.Value
	locals     map[string]cty.Value // nil: locals are not available here (validations)
	matrixKeys []string             // nil: matrix is not available here
	anyMatrix  bool                 // every matrix key is accepted (the matrix itself is invalid)
	target     string
	extra      map[string]bool // iterator names of enclosing dynamic blocks
}

// check reports every reference in expr to something that does not exist, with its
// range, before the expression is evaluated (HCL's own messages about object attributes
// do not say what was meant).
func (s scope) check(expr hcl.Expression, withMatrix bool) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, tr := range expr.Variables() {
		root := tr.RootName()
		rng := tr.SourceRange()
		switch root {
		case "var":
			if name, ok := attrName(tr, "var"); ok {
				if _, ok := s.vars[name]; !ok {
					diags = append(diags, errorAt(rng.Ptr(), "Reference to undeclared variable", fmt.Sprintf("No variable named %q is declared.%s", name, declaredList("Declared variables", sortedKeys(s.vars)))))
				}
			}
		case "local":
			if name, ok := attrName(tr, "local"); ok {
				if s.locals == nil {
					diags = append(diags, errorAt(rng.Ptr(), "Local value not available here", "A variable's validation condition and error message may refer to variables, but not to local values, which are evaluated after the variables are checked."))
					continue
				}
				if _, ok := s.locals[name]; !ok {
					diags = append(diags, errorAt(rng.Ptr(), "Reference to undeclared local value", fmt.Sprintf("No local value named %q is defined.%s", name, declaredList("Local values", sortedKeys(s.locals)))))
				}
			}
		case "matrix":
			if !withMatrix {
				diags = append(diags, errorAt(rng.Ptr(), "Matrix value not available here", "matrix.<key> refers to a cell's value, so it can only be used in a target's per-cell attributes and blocks, not in variables, locals, matrix, exclude or include."))
				continue
			}
			if name, ok := attrName(tr, "matrix"); ok && !s.anyMatrix && !slices.Contains(s.matrixKeys, name) {
				diags = append(diags, errorAt(rng.Ptr(), "Reference to unknown matrix key", fmt.Sprintf("Target %q has no axis and no include key named %q.%s", s.target, name, declaredList("Its keys are", s.matrixKeys))))
			}
		default:
			if s.extra[root] {
				continue
			}
			diags = append(diags, errorAt(rng.Ptr(), "Unknown variable", fmt.Sprintf("There is no variable named %q. References start with var., local. or, inside a target, matrix.", root)))
		}
	}
	return diags
}

// attrName is the name after root in a traversal like root.name or root["name"].
func attrName(tr hcl.Traversal, root string) (string, bool) {
	if tr.RootName() != root || len(tr) < 2 {
		return "", false
	}
	switch step := tr[1].(type) {
	case hcl.TraverseAttr:
		return step.Name, true
	case hcl.TraverseIndex:
		if step.Key.Type() == cty.String && step.Key.IsKnown() && !step.Key.IsNull() {
			return step.Key.AsString(), true
		}
	}
	return "", false
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

func sortedAttrs(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Range.Filename != out[j].Range.Filename {
			return out[i].Range.Filename < out[j].Range.Filename
		}
		return out[i].Range.Start.Byte < out[j].Range.Start.Byte
	})
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func varNames(vars []*variable) []string {
	names := make([]string, 0, len(vars))
	for _, v := range vars {
		names = append(names, v.name)
	}
	sort.Strings(names)
	return names
}

// declaredList renders " What: a, b, c." or " There are none." for detail messages.
func declaredList(what string, names []string) string {
	if len(names) == 0 {
		return fmt.Sprintf(" %s: none.", what)
	}
	return fmt.Sprintf(" %s: %s.", what, strings.Join(names, ", "))
}

func rangeString(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
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
