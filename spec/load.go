// Package spec reads a matrix file: it parses the HCL, evaluates variables and locals,
// checks every target, and expands the targets into evaluated cells (package plan).
package spec

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/plan"
)

// Options are the variable values given to a matrix file from outside it.
type Options struct {
	Vars     []string // "NAME=VALUE" from --var, in command-line order (later wins)
	VarFiles []string // --var-file paths, in order
	Environ  []string // usually os.Environ(); MATRIX_VAR_<NAME>=VALUE entries are read
	// Resolver answers npm_versions and npm_package; nil: calling them is an error.
	Resolver Resolver
}

// File is a parsed and validated matrix file with its variables and locals evaluated.
// Plan expands its targets into cells.
type File struct {
	path    string
	dir     string // absolute directory of the file: relative mount sources resolve here
	sha     string
	files   map[string]*hcl.File // every parsed source, for rendering diagnostics
	ctx     *hcl.EvalContext     // var, local and the functions
	targets []*target
	sens    sensitivity // which values messages leave out
	// hidden are the places in files that set a sensitive variable (in a --var-file):
	// a diagnostic about them is rendered without its source.
	hidden []hcl.Range
	// resolver answers the registry functions, which bind binds to a call's context.
	resolver Resolver
	// incomplete: loading stopped (its ctx was done) before every target was read.
	incomplete bool
	// kept is the size of the variables' and locals' values (valueSize), up to maxLoaded.
	kept int64
}

// keep counts val among the values the load keeps; false when they are more than
// maxLoaded with it.
func (f *File) keep(val cty.Value) bool {
	size, _ := valueSize(val, maxLoaded-f.kept)
	if f.kept+size > maxLoaded {
		return false
	}
	f.kept += size
	return true
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

// MaxFileSize bounds a matrix file and a --var-file, which are read whole: real ones
// are kilobytes, and every byte of a larger one would be parsed and kept for
// diagnostics. A named pipe or a device is refused before it is read (it could block
// or never end).
const MaxFileSize = 4 << 20

var fileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "target", LabelNames: []string{"name"}},
		{Type: "template", LabelNames: []string{"name"}},
	},
}

// Load parses and validates the file. It always returns a non-nil *File whose
// WriteDiagnostics can render the diagnostics (it holds the parsed sources), even on
// error.
func Load(ctx context.Context, path string, opts Options) (*File, hcl.Diagnostics) {
	src, err := atomicfile.ReadFile(path, MaxFileSize)
	if err != nil {
		return newFile(path, nil), hcl.Diagnostics{errorAt(nil, "Cannot read the matrix file", err.Error())}
	}
	return LoadSource(ctx, path, src, opts)
}

// LoadPlan loads the file and plans the named targets (all when none is named). It
// plans what loaded even when Load found problems, so that a problem in one target does
// not hide those in the others: Plan skips the targets Load reported. A file that could
// not be read or parsed has no targets, and nothing is planned. The diagnostics are
// Load's, then Plan's; the *File renders them.
func LoadPlan(ctx context.Context, path string, opts Options, targets ...string) (*File, []plan.Cell, hcl.Diagnostics) {
	f, diags := Load(ctx, path, opts)
	cells, diags := f.planLoaded(ctx, diags, targets)
	return f, cells, diags
}

// planLoaded is the rule of LoadPlan, for a File Load or LoadSource returned with diags.
func (f *File) planLoaded(ctx context.Context, diags hcl.Diagnostics, targets []string) ([]plan.Cell, hcl.Diagnostics) {
	if diags.HasErrors() && len(f.targets) == 0 || f.incomplete {
		return nil, diags
	}
	cells, more := f.Plan(ctx, targets...)
	return cells, append(diags, more...)
}

// LoadSource is Load for a file already in memory; name is used in diagnostics and its
// directory is where relative mount sources resolve. --var-file paths in opts are still
// read from disk.
func LoadSource(ctx context.Context, name string, src []byte, opts Options) (*File, hcl.Diagnostics) {
	f := newFile(name, src)
	// From here on the iterators it judged are only read: Plan evaluates cells in parallel.
	defer func() { f.sens.learning = false }()
	file, diags := parseConfig(src, name)
	if file != nil {
		f.files[name] = file
	} else {
		f.files[name] = &hcl.File{Bytes: src}
	}
	if diags.HasErrors() {
		return f, diags
	}
	// Between its steps, a load stops when ctx is done (SIGINT): the File is then
	// incomplete, and Plan refuses it.
	stop := func(diags hcl.Diagnostics) (*File, hcl.Diagnostics) {
		f.incomplete = true
		return f, append(explain(diags), stoppedDiag(ctx, "Loading"))
	}
	if ctx.Err() != nil {
		return stop(diags)
	}
	content, more := file.Body.Content(fileSchema)
	diags = append(diags, more...)

	vars, more := f.loadVariables(content.Blocks, opts)
	diags = append(diags, more...)
	varObj := make(map[string]cty.Value, len(vars))
	for _, v := range vars {
		if !f.keep(v.value) {
			diags = append(diags, errorAt(v.declRange.Ptr(), "Values too large", fmt.Sprintf("With variable %q, the variables hold more than %d MiB of values (counted as evaluations count them).", v.name, maxLoaded>>20)))
			v.value = cty.DynamicVal
		}
		varObj[v.name] = v.value
	}
	f.ctx = &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(varObj)},
		Functions: functions,
	}
	f.resolver = opts.Resolver
	eval := f.bind(ctx)
	if ctx.Err() != nil {
		return stop(diags)
	}
	diags = append(diags, f.checkValidations(vars, eval)...)

	locals, more, err := f.loadLocals(ctx, content.Blocks, eval)
	diags = append(diags, more...)
	if err != nil {
		return stop(diags)
	}
	f.ctx.Variables["local"] = cty.ObjectVal(locals)

	more, err = f.loadTargets(ctx, content.Blocks, f.newScope(eval, varObj, locals))
	diags = append(diags, more...)
	if err != nil {
		return stop(diags)
	}
	explain(diags)
	if len(f.targets) == 0 && !diags.HasErrors() {
		diags = append(diags, errorAt(file.Body.MissingItemRange().Ptr(), "No target", `A matrix file declares at least one target "NAME" { ... } block.`))
	}
	return f, diags
}

// stoppedDiag is the error of a load or a plan (what) that stopped because ctx is done.
func stoppedDiag(ctx context.Context, what string) *hcl.Diagnostic {
	return errorAt(nil, what+" stopped", fmt.Sprintf("%s the matrix file stopped before it finished: %v.", what, context.Cause(ctx)))
}

func newFile(name string, src []byte) *File {
	sum := sha256.Sum256(src)
	dir, err := filepath.Abs(filepath.Dir(name))
	if err != nil {
		dir = filepath.Dir(name)
	}
	return &File{
		path:  name,
		dir:   dir,
		sha:   hex.EncodeToString(sum[:]),
		files: map[string]*hcl.File{},
		sens:  newSensitivity(),
		ctx:   &hcl.EvalContext{Functions: functions},
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
