package spec

import (
	"fmt"
	"math"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/dynblock"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/matrixbuild/matrix/internal/filename"
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
// reported errors: it skips the targets Load reported errors for (their diagnostics were
// already returned by Load) and plans the others, so that all problems are found.
func (f *File) Plan(targets ...string) ([]plan.Cell, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	selected := map[string]bool{}
	for _, name := range targets {
		if !slices.Contains(f.TargetNames(), name) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unknown target",
				Detail:   fmt.Sprintf("The matrix file %s has no target named %q.%s", f.path, name, declaredList("Its targets are", f.TargetNames())),
			})
		}
		selected[name] = true
	}
	if diags.HasErrors() {
		return nil, diags
	}
	var cells []located
	dc := newDiagCollector(f)
	for _, t := range f.targets {
		if (len(targets) > 0 && !selected[t.name]) || t.broken {
			continue
		}
		var tooMany bool
		if cells, tooMany = f.planTarget(t, cells, dc); tooMany {
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

// planTarget appends the cells of t to cells; tooMany reports that the plan would
// exceed maxCells (and is reported), so that planning stops.
func (f *File) planTarget(t *target, cells []located, dc *diagCollector) (_ []located, tooMany bool) {
	n := 1
	for _, a := range t.axes {
		n *= len(a.values)
		if n > maxCells {
			dc.add(t.tooLarge(fmt.Sprintf("The matrix of target %q has more than %d cells (the product of its axes' lengths).", t.name, maxCells)), "")
			return cells, true
		}
	}
	if len(cells)+n+len(t.include) > maxCells {
		if combos := len(t.expand()); len(cells)+combos > maxCells {
			dc.add(t.tooLarge(fmt.Sprintf("With the %d cells of the targets before it, target %q (%d cells) makes the plan larger than %d cells. Plan fewer targets at once (matrix plan FILE TARGET...).", len(cells), t.name, combos, maxCells)), "")
			return cells, true
		}
	}
	content := t.content
	if t.hasDynamic && !t.dynamicPerCell {
		// The dynamic blocks do not depend on the cell: expand them once. Their
		// attributes are still evaluated in each cell's context.
		var diags hcl.Diagnostics
		content, diags = dynblock.Expand(t.body, f.ctx).Content(targetSchema)
		if diags.HasErrors() {
			dc.addAll(diags, "")
			return cells, false
		}
	}
	cache := blockContents{}
	if !t.dynamicPerCell {
		cache.fill(content)
	}

	combos := t.expand()
	if len(combos) == 0 {
		// Axes are never empty, so only exclude can have removed every cell.
		d := errorAt(t.defRange.Ptr(), "Every cell excluded", fmt.Sprintf("The exclude of target %q removes every cell of its matrix, so the target would build nothing. Remove the target or loosen the exclude.", t.name))
		if attr, ok := t.content.Attributes["exclude"]; ok {
			d.Subject, d.Context = attr.Expr.Range().Ptr(), attr.Range.Ptr()
		}
		dc.add(d, "")
		return cells, false
	}
	results := make([]evaluator, len(combos))
	eval := func(i int) {
		c := combos[i]
		ctx := f.ctx.NewChild()
		ctx.Variables = map[string]cty.Value{"matrix": t.matrixValue(c)}
		cell := located{Cell: plan.Cell{Target: t.name, Axes: t.axesOf(c)}}
		e := &results[i]
		*e = evaluator{ctx: ctx, name: cell.Name(), dir: f.dir, contents: cache, secret: f.sensitive}
		cc := content
		if t.dynamicPerCell {
			var diags hcl.Diagnostics
			cc, diags = dynblock.Expand(t.body, ctx).Content(targetSchema)
			e.diags = append(e.diags, diags...)
			e.contents = blockContents{}
		}
		e.cell(cc, &cell)
		e.result = cell
	}
	// Cells are independent: evaluate them on every CPU, then report in order.
	workers := runtime.GOMAXPROCS(0)
	if len(combos) < 256 || workers < 2 {
		for i := range combos {
			eval(i)
		}
	} else {
		var wg sync.WaitGroup
		chunk := (len(combos) + workers - 1) / workers
		for lo := 0; lo < len(combos); lo += chunk {
			hi := min(lo+chunk, len(combos))
			wg.Go(func() {
				for i := lo; i < hi; i++ {
					eval(i)
				}
			})
		}
		wg.Wait()
	}
	for i := range results {
		e := &results[i]
		dc.addAll(e.diags, e.name)
		if !e.failed && !e.diags.HasErrors() {
			cells = append(cells, e.result)
		}
	}
	return cells, false
}

// tooLarge is the "Matrix too large" diagnostic, at the matrix attribute when there is
// one (else at what made the cells: include, or the block).
func (t *target) tooLarge(detail string) *hcl.Diagnostic {
	d := errorAt(t.defRange.Ptr(), "Matrix too large", detail+" A typo like range(1e6) does this; a real plan this large would not fit in memory.")
	for _, name := range []string{"matrix", "include"} {
		if attr, ok := t.content.Attributes[name]; ok {
			d.Subject, d.Context = attr.Expr.Range().Ptr(), attr.Range.Ptr()
			break
		}
	}
	return d
}

// blockContents holds the decoded content of a target's nested blocks when it is the
// same for every cell, so that cells do not decode the same body again.
type blockContents map[hcl.Body]*hcl.BodyContent

func (bc blockContents) fill(content *hcl.BodyContent) {
	for _, b := range content.Blocks {
		switch b.Type {
		case "mount":
			if c, diags := b.Body.Content(mountSchema); !diags.HasErrors() {
				bc[b.Body] = c
			}
		case "test":
			if c, diags := b.Body.Content(testSchema); !diags.HasErrors() {
				bc[b.Body] = c
				bc.fill(c)
			}
		}
	}
}

// content decodes b's body with schema, from the cache when it is there.
func (e *evaluator) content(b *hcl.Block, schema *hcl.BodySchema) (*hcl.BodyContent, bool) {
	if c, ok := e.contents[b.Body]; ok {
		return c, true
	}
	c, diags := b.Body.Content(schema)
	if diags.HasErrors() {
		e.failed = true
		e.diags = append(e.diags, diags...)
		return nil, false
	}
	return c, true
}

// evaluator evaluates the attributes of one cell, reporting problems to dc.
type evaluator struct {
	ctx      *hcl.EvalContext
	diags    hcl.Diagnostics
	contents blockContents
	result   located
	name     string // the cell's, for diagnostics
	dir      string
	failed   bool
	// secret names the sensitive variables: messages leave out values that may come
	// from them.
	secret map[string]bool
}

// sensitive reports whether attr's value may hold a sensitive variable's value: its
// expression refers to one, or to a local or a dynamic block's iterator while any
// variable is sensitive (as redact judges HCL's own messages).
func (e *evaluator) sensitive(attr *hcl.Attribute) bool {
	if attr == nil || len(e.secret) == 0 {
		return false
	}
	return refersToSensitive(attr.Expr, e.secret)
}

func refersToSensitive(expr hcl.Expression, secret map[string]bool) bool {
	for _, tr := range expr.Variables() {
		switch tr.RootName() {
		case "var":
			if name, ok := attrName(tr, "var"); !ok || secret[name] {
				return true
			}
		case "matrix":
		default: // local, or an iterator
			return true
		}
	}
	return false
}

// sensitiveValue stands in messages for a value that may be sensitive.
const sensitiveValue = "(sensitive value)"

// shown is s quoted for a message about attr, or sensitiveValue.
func (e *evaluator) shown(attr *hcl.Attribute, s string) string {
	if e.sensitive(attr) {
		return sensitiveValue
	}
	return strconv.Quote(s)
}

// shownPlain is shown without the quotes, for numbers and durations.
func (e *evaluator) shownPlain(attr *hcl.Attribute, s string) string {
	if e.sensitive(attr) {
		return sensitiveValue
	}
	return s
}

func (e *evaluator) fail(attr *hcl.Attribute, summary, detail string) {
	e.failAt(attr.Expr.Range(), attr, summary, detail)
}

// failAt reports a problem with a part of attr's expression, such as one key of a map.
func (e *evaluator) failAt(rng hcl.Range, attr *hcl.Attribute, summary, detail string) {
	e.failed = true
	e.diags = append(e.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   detail,
		Subject:  rng.Ptr(),
		Context:  attr.Range.Ptr(),
	})
}

// keyRange is the range of the key name in attr's object constructor, or of the whole
// expression when it is not written as one.
func keyRange(attr *hcl.Attribute, name string) hcl.Range {
	pairs, diags := hcl.ExprMap(attr.Expr)
	if !diags.HasErrors() {
		for _, p := range pairs {
			if keyString(p.Key) == name {
				return p.Key.Range()
			}
		}
	}
	return attr.Expr.Range()
}

// elemRange is the range of element i of attr's tuple constructor, or of the whole
// expression when it is not written as one.
func elemRange(attr *hcl.Attribute, i int) hcl.Range {
	return exprElemRange(attr.Expr, i)
}

// exprElemRange is the range of element i of a tuple constructor, or of the whole
// expression when it is not written as one.
func exprElemRange(expr hcl.Expression, i int) hcl.Range {
	elems, diags := hcl.ExprList(expr)
	if !diags.HasErrors() && i >= 0 && i < len(elems) {
		return elems[i].Range()
	}
	return expr.Range()
}

// typeName is how messages name the types attributes convert to.
func typeName(ty cty.Type) string {
	switch {
	case ty == cty.String:
		return "a string"
	case ty == cty.Number:
		return "a number"
	case ty == cty.Bool:
		return "a bool"
	case ty.Equals(cty.Map(cty.String)):
		return "a map of strings, like { NAME = \"value\" }"
	case ty.Equals(cty.List(cty.String)):
		return "a list of strings"
	}
	return ty.FriendlyName()
}

// value evaluates attr converted to ty; ok is false (and the problem reported) when it
// cannot be, or when it is null.
func (e *evaluator) value(attr *hcl.Attribute, ty cty.Type) (cty.Value, bool) {
	val, diags := attr.Expr.Value(e.ctx)
	if diags.HasErrors() {
		e.failed = true
		e.diags = append(e.diags, diags...)
		return cty.NilVal, false
	}
	if !val.IsWhollyKnown() {
		e.failed = true // depends on a variable whose problem was reported
		return cty.NilVal, false
	}
	if val.IsNull() {
		e.fail(attr, "Missing value", fmt.Sprintf("The value of %q is null.", attr.Name))
		return cty.NilVal, false
	}
	out, err := convert.Convert(val, ty)
	if err != nil {
		detail := fmt.Sprintf("The value of %q must be %s, not %s.", attr.Name, typeName(ty), friendly(val))
		if !ty.IsPrimitiveType() && (val.Type().IsObjectType() || val.Type().IsTupleType() || val.Type().IsMapType() || val.Type().IsListType()) {
			detail = fmt.Sprintf("The value of %q must be %s: %s.", attr.Name, typeName(ty), err)
		}
		e.fail(attr, "Incorrect attribute value type", detail)
		return cty.NilVal, false
	}
	return out, true
}

func (e *evaluator) str(attrs hcl.Attributes, name, def string) (string, *hcl.Attribute) {
	attr, ok := attrs[name]
	if !ok {
		return def, nil
	}
	v, ok := e.value(attr, cty.String)
	if !ok {
		// Its problem is reported: no further check of this attribute should add one.
		return def, nil
	}
	return v.AsString(), attr
}

var (
	platformRE = regexp.MustCompile(`^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$`)
	envNameRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	networkRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]*$`)
	cacheIDRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$`)
)

func (e *evaluator) cell(content *hcl.BodyContent, c *located) bool {
	a := content.Attributes
	var attr *hcl.Attribute

	c.Image, attr = e.str(a, "image", "")
	e.checkImage(attr, c.Image)
	c.Platform, attr = e.str(a, "platform", "")
	e.checkPlatform(attr, c.Platform)
	c.Workdir, attr = e.str(a, "workdir", DefaultWorkdir)
	e.checkAbs(attr, c.Workdir)
	c.Workdir = path.Clean(c.Workdir)
	c.Env = e.env(a["env"])
	c.PassEnv = e.passEnv(a["pass_env"], c.Env)
	c.Network, attr = e.str(a, "network", "")
	e.checkNetwork(attr, c.Network)
	c.Script, attr = e.str(a, "script", "")
	if attr != nil && strings.TrimSpace(c.Script) == "" {
		e.fail(attr, "Empty script", "The script is run with sh -c in the container; it must not be empty.")
	}
	c.Collect, attr = e.str(a, "collect", path.Join(c.Workdir, "node_modules"))
	e.checkAbs(attr, c.Collect)
	if attr != nil {
		c.Collect = path.Clean(c.Collect)
	}
	c.Artifact, attr = e.str(a, "artifact", "")
	if attr != nil {
		c.artifactRange = attr.Expr.Range()
		c.artifactSensitive = e.sensitive(attr)
		e.checkArtifact(attr, c.Artifact)
	}
	artifactAttr := attr
	c.Format, attr = e.str(a, "format", "")
	c.Format = e.format(attr, artifactAttr, c.Format, c.Artifact)
	c.Timeout = e.duration(a["timeout"], DefaultTimeout)
	c.MaxSize = e.size(a["max_size"])
	c.Retries = e.retries(a["retries"])
	c.LockFiles = e.lockFiles(a["lock_files"])
	if attr, ok := a["cross_built"]; ok {
		if v, ok := e.value(attr, cty.Bool); ok {
			c.CrossBuilt = v.True()
		}
	}
	c.Mounts = e.mounts(content.Blocks)
	for _, b := range content.Blocks {
		if b.Type == "test" {
			c.Test = e.test(b, &c.Cell)
			break
		}
	}
	return !e.failed
}

func (e *evaluator) test(b *hcl.Block, c *plan.Cell) *plan.Test {
	content, ok := e.content(b, testSchema)
	if !ok {
		return nil
	}
	a := content.Attributes
	var attr *hcl.Attribute
	t := &plan.Test{}
	t.Image, attr = e.str(a, "image", c.Image)
	e.checkImage(attr, t.Image)
	t.Platform, attr = e.str(a, "platform", c.Platform)
	e.checkPlatform(attr, t.Platform)
	t.Workdir, attr = e.str(a, "workdir", DefaultTestWorkdir)
	e.checkAbs(attr, t.Workdir)
	t.Workdir = path.Clean(t.Workdir)
	t.Env = e.env(a["env"])
	t.Network, attr = e.str(a, "network", c.Network)
	e.checkNetwork(attr, t.Network)
	t.Script, attr = e.str(a, "script", "")
	if attr != nil && strings.TrimSpace(t.Script) == "" {
		e.fail(attr, "Empty script", "The test script is run with sh -c in the container; it must not be empty.")
	}
	t.Timeout = e.duration(a["timeout"], DefaultTestTimeout)
	t.Mounts = e.mounts(content.Blocks)
	return t
}

func (e *evaluator) checkImage(attr *hcl.Attribute, s string) {
	if attr == nil {
		return
	}
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		e.fail(attr, "Invalid image", fmt.Sprintf("%s is not an image reference: it must be non-empty, without spaces or control characters.", e.shown(attr, s)))
	}
}

// knownOS and knownArch are the OCI platform names images are published for; a
// platform outside them is a typo (x64 is npm's name, amd64 the image's).
var (
	knownOS   = []string{"linux", "windows", "darwin", "freebsd"}
	knownArch = []string{"amd64", "arm64", "arm", "386", "ppc64le", "s390x", "riscv64", "mips64le", "loong64"}
)

func (e *evaluator) checkPlatform(attr *hcl.Attribute, s string) {
	if attr == nil || s == "" {
		return
	}
	if !platformRE.MatchString(s) {
		e.fail(attr, "Invalid platform", fmt.Sprintf("%s is not a platform: write os/arch or os/arch/variant, like linux/amd64, linux/arm64 or linux/arm/v7; leave it unset for the engine's default.", e.shown(attr, s)))
		return
	}
	parts := strings.Split(s, "/")
	if !slices.Contains(knownOS, parts[0]) || !slices.Contains(knownArch, parts[1]) {
		e.fail(attr, "Unknown platform", fmt.Sprintf("%s names no platform images are built for: the OS is one of %s and the architecture one of %s (amd64, not x64).",
			e.shown(attr, s), strings.Join(knownOS, ", "), strings.Join(knownArch, ", ")))
	}
}

func (e *evaluator) checkNetwork(attr *hcl.Attribute, s string) {
	if attr == nil || s == "" || networkRE.MatchString(s) {
		return
	}
	e.fail(attr, "Invalid network", fmt.Sprintf("%s is not a network name or mode (like host or none).", e.shown(attr, s)))
}

func (e *evaluator) checkAbs(attr *hcl.Attribute, s string) {
	if attr == nil || path.IsAbs(s) {
		return
	}
	e.fail(attr, "Path must be absolute", fmt.Sprintf("The %s %s is a path inside the container and must be absolute, like /build.", attr.Name, e.shown(attr, s)))
}

// checkArtifact makes sure the name is a plain file name that is safe to create in the
// output directory.
func (e *evaluator) checkArtifact(attr *hcl.Attribute, s string) {
	if attr == nil {
		return
	}
	if why := filename.Why(s); why != "" {
		e.fail(attr, "Invalid artifact name", fmt.Sprintf("The artifact name %s is not a plain file name: %s.", e.shown(attr, s), why))
	}
}

func formatOf(name string) string {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".tar.gz"), strings.HasSuffix(lower, ".tgz"):
		return "tar.gz"
	case strings.HasSuffix(lower, ".zip"):
		return "zip"
	}
	return ""
}

func (e *evaluator) format(attr, artifactAttr *hcl.Attribute, format, artifact string) string {
	fromName := formatOf(artifact)
	if attr == nil {
		if fromName == "" && artifactAttr != nil && artifact != "" {
			e.fail(artifactAttr, "Unknown artifact format", fmt.Sprintf("The artifact name %s does not end in .tar.gz, .tgz or .zip; rename it or set format = \"tar.gz\" or \"zip\".", e.shown(artifactAttr, artifact)))
		}
		return fromName
	}
	if format != "tar.gz" && format != "zip" {
		e.fail(attr, "Invalid format", fmt.Sprintf("The format %s is not supported: use \"tar.gz\" or \"zip\".", e.shown(attr, format)))
		return format
	}
	if fromName != "" && fromName != format && artifactAttr != nil {
		e.fail(attr, "Format contradicts the artifact name", fmt.Sprintf("The artifact %s is named like a %s file, but format is %s.", e.shown(artifactAttr, artifact), fromName, e.shown(attr, format)))
	}
	return format
}

func (e *evaluator) duration(attr *hcl.Attribute, def time.Duration) time.Duration {
	if attr == nil {
		return def
	}
	v, ok := e.value(attr, cty.String)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v.AsString())
	switch {
	case err != nil:
		e.fail(attr, "Invalid duration", fmt.Sprintf("%s is not a duration: write a number and a unit, like \"20m\", \"1h30m\" or \"90s\".", e.shown(attr, v.AsString())))
	case d <= 0:
		e.fail(attr, "Invalid duration", fmt.Sprintf("The %s must be positive, not %s.", attr.Name, e.shownPlain(attr, v.AsString())))
	case d > MaxTimeout:
		e.fail(attr, "Invalid duration", fmt.Sprintf("The %s %s is longer than the limit of %s.", attr.Name, e.shownPlain(attr, v.AsString()), MaxTimeout))
	default:
		return d
	}
	return def
}

var sizeRE = regexp.MustCompile(`^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$`)

var sizeUnits = map[string]float64{
	"": 1, "B": 1,
	"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
	"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
}

// ParseSize reads a size like "2GiB", "500MB", "1.5 GiB" or "1024" (bytes).
func ParseSize(s string) (int64, error) {
	m := sizeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a size: write a number and a unit, like \"2GiB\", \"500MB\" or \"1048576\"", s)
	}
	unit, ok := sizeUnits[m[2]]
	if !ok {
		return 0, fmt.Errorf("%q has an unknown unit %q: use B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024)", s, m[2])
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size: %w", s, err)
	}
	b := n * unit
	if b != math.Trunc(b) {
		return 0, fmt.Errorf("%q is not a whole number of bytes", s)
	}
	if b > MaxMaxSize {
		return 0, fmt.Errorf("%q is more than the limit of 1TiB", s)
	}
	return int64(b), nil
}

func (e *evaluator) size(attr *hcl.Attribute) int64 {
	if attr == nil {
		return DefaultMaxSize
	}
	val, diags := attr.Expr.Value(e.ctx)
	if diags.HasErrors() {
		e.failed = true
		e.diags = append(e.diags, diags...)
		return DefaultMaxSize
	}
	if !val.IsWhollyKnown() {
		e.failed = true
		return DefaultMaxSize
	}
	var n int64
	var err error
	switch {
	case val.IsNull():
		err = fmt.Errorf("the max_size is null")
	case val.Type() == cty.Number:
		f := numberFloat(val)
		if f != math.Trunc(f) || f > MaxMaxSize {
			err = fmt.Errorf("%s is not a whole number of bytes up to 1TiB", plan.AxisString(f))
		}
		n = int64(f)
	case val.Type() == cty.String:
		n, err = ParseSize(val.AsString())
	default:
		err = fmt.Errorf("the max_size must be a size string like \"2GiB\" or a number of bytes, not %s", friendly(val))
	}
	if err == nil && n <= 0 {
		err = fmt.Errorf("the max_size must be positive")
	}
	if err != nil && e.sensitive(attr) {
		err = fmt.Errorf("the max_size (a sensitive value) is not a whole number of bytes from 1 to 1TiB, nor a size like \"2GiB\" or \"500MB\"")
	}
	if err != nil {
		e.fail(attr, "Invalid size", upperFirst(err.Error())+".")
		return DefaultMaxSize
	}
	return n
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (e *evaluator) retries(attr *hcl.Attribute) int {
	if attr == nil {
		return DefaultRetries
	}
	v, ok := e.value(attr, cty.Number)
	if !ok {
		return DefaultRetries
	}
	f := numberFloat(v)
	if f != math.Trunc(f) || f < 0 || f > MaxRetries {
		e.fail(attr, "Invalid retries", fmt.Sprintf("The retries must be a whole number from 0 to %d, not %s.", MaxRetries, e.shownPlain(attr, plan.AxisString(f))))
		return DefaultRetries
	}
	return int(f)
}

func (e *evaluator) env(attr *hcl.Attribute) []plan.EnvVar {
	out := []plan.EnvVar{}
	if attr == nil {
		return out
	}
	v, ok := e.value(attr, cty.Map(cty.String))
	if !ok {
		return out
	}
	for it := v.ElementIterator(); it.Next(); {
		k, ev := it.Element()
		name := k.AsString()
		if !envNameRE.MatchString(name) {
			e.failAt(keyRange(attr, name), attr, "Invalid environment variable name", fmt.Sprintf("%s is not a valid environment variable name: use letters, digits and '_', not starting with a digit.", e.shown(attr, name)))
			continue
		}
		if ev.IsNull() {
			e.fail(attr, "Missing value", fmt.Sprintf("The environment variable %s is null.", e.shown(attr, name)))
			continue
		}
		out = append(out, plan.EnvVar{Name: name, Value: ev.AsString()})
	}
	return out
}

// strings evaluates a list-of-strings attribute and hands each non-null element, with
// its source range, to keep, which validates it and says whether it stays.
func (e *evaluator) strings(attr *hcl.Attribute, what string, keep func(rng hcl.Range, s string) bool) []string {
	out := []string{}
	v, ok := e.value(attr, cty.List(cty.String))
	if !ok {
		return out
	}
	for it := v.ElementIterator(); it.Next(); {
		iv, ev := it.Element()
		i, _ := iv.AsBigFloat().Int64()
		rng := elemRange(attr, int(i))
		if ev.IsNull() {
			e.failAt(rng, attr, "Missing value", fmt.Sprintf("%s lists a null value.", what))
			continue
		}
		if s := ev.AsString(); keep(rng, s) {
			out = append(out, s)
		}
	}
	return out
}

func (e *evaluator) passEnv(attr *hcl.Attribute, env []plan.EnvVar) []string {
	if attr == nil {
		return []string{}
	}
	var seen []string
	return e.strings(attr, "pass_env", func(rng hcl.Range, name string) bool {
		switch {
		case !envNameRE.MatchString(name):
			e.failAt(rng, attr, "Invalid environment variable name", fmt.Sprintf("%s is not a valid environment variable name: use letters, digits and '_', not starting with a digit.", e.shown(attr, name)))
		case slices.Contains(seen, name):
			e.failAt(rng, attr, "Duplicate pass_env name", fmt.Sprintf("%s is listed twice.", e.shown(attr, name)))
		case slices.ContainsFunc(env, func(ev plan.EnvVar) bool { return ev.Name == name }):
			e.failAt(rng, attr, "Variable both set and passed", fmt.Sprintf("%s is set in env and also passed from the host in pass_env; keep one.", e.shown(attr, name)))
		default:
			seen = append(seen, name)
			return true
		}
		return false
	})
}

// DefaultLockFiles are npm's records of an installed tree, relative to the workdir.
var DefaultLockFiles = []string{"package.json", "package-lock.json"}

func (e *evaluator) lockFiles(attr *hcl.Attribute) []string {
	if attr == nil {
		return slices.Clone(DefaultLockFiles)
	}
	var seen []string
	paths := e.strings(attr, "lock_files", func(rng hcl.Range, name string) bool {
		clean := path.Clean(name)
		switch {
		case name == "" || path.IsAbs(name) || clean == "." || clean == ".." || strings.HasPrefix(clean, "../"):
			e.failAt(rng, attr, "Invalid lock file path", fmt.Sprintf("%s must be a path relative to the workdir that stays inside it, like \"package-lock.json\".", e.shown(attr, name)))
		case slices.Contains(seen, clean):
			e.failAt(rng, attr, "Duplicate lock file path", fmt.Sprintf("%s is listed twice.", e.shown(attr, name)))
		default:
			seen = append(seen, clean)
			return true
		}
		return false
	})
	for i := range paths {
		paths[i] = path.Clean(paths[i])
	}
	return paths
}

func (e *evaluator) mounts(blocks hcl.Blocks) []plan.Mount {
	out := []plan.Mount{}
	targets := map[string]hcl.Range{}
	for _, b := range blocks {
		if b.Type != "mount" {
			continue
		}
		content, ok := e.content(b, mountSchema)
		if !ok {
			continue
		}
		// Judge each mount on its own attributes, so that all bad mounts are reported.
		failedBefore := e.failed
		e.failed = false
		ok = e.mount(content.Attributes, targets, &out)
		e.failed = e.failed || failedBefore || !ok
	}
	return out
}

// mount evaluates one mount block's attributes and appends the mount to out.
func (e *evaluator) mount(a hcl.Attributes, targets map[string]hcl.Range, out *[]plan.Mount) bool {
	typ, typAttr := e.str(a, "type", plan.MountBind)
	src, srcAttr := e.str(a, "source", "")
	dst, dstAttr := e.str(a, "target", "")
	ro := false
	if attr, ok := a["read_only"]; ok {
		if v, ok := e.value(attr, cty.Bool); ok {
			ro = v.True()
		}
	}
	if e.failed {
		return false
	}
	if src == "" {
		e.fail(srcAttr, "Invalid mount source", "The mount source is empty.")
		return false
	}
	if strings.ContainsRune(src, 0) || strings.ContainsRune(dst, 0) {
		e.fail(srcAttr, "Invalid mount", "A mount path contains a NUL character.")
		return false
	}
	switch typ {
	case plan.MountBind:
		if !filepath.IsAbs(src) {
			src = filepath.Join(e.dir, src) // relative to the matrix file's directory
		}
		src = filepath.Clean(src)
	case plan.MountCache:
		if !cacheIDRE.MatchString(src) {
			e.fail(srcAttr, "Invalid cache name", fmt.Sprintf("The source of a cache mount names the cache: %s must be letters, digits, '_', '.' or '-', starting with a letter or digit.", e.shown(srcAttr, src)))
			return false
		}
	default:
		e.fail(typAttr, "Invalid mount type", fmt.Sprintf("The mount type is %q or %q, not %s.", plan.MountBind, plan.MountCache, e.shown(typAttr, typ)))
		return false
	}
	if !path.IsAbs(dst) {
		e.fail(dstAttr, "Path must be absolute", fmt.Sprintf("The mount target %s is a path inside the container and must be absolute.", e.shown(dstAttr, dst)))
		return false
	}
	dst = path.Clean(dst)
	if prev, dup := targets[dst]; dup {
		e.fail(dstAttr, "Duplicate mount target", fmt.Sprintf("%s is already a mount target at %s.", e.shown(dstAttr, dst), rangeString(prev)))
		return false
	}
	targets[dst] = dstAttr.Expr.Range()
	*out = append(*out, plan.Mount{Type: typ, Source: src, Target: dst, ReadOnly: ro})
	return true
}

// checkArtifacts reports artifact names that two cells share, including names that
// differ only in case: they collide on case-insensitive file systems.
func checkArtifacts(cells []located) hcl.Diagnostics {
	type dupKey struct{ first, second hcl.Range }
	var diags hcl.Diagnostics
	counts := map[dupKey]int{}
	index := map[dupKey]int{}
	byName := make(map[string]int, len(cells))
	for i, c := range cells {
		key := strings.ToLower(c.Artifact)
		j, dup := byName[key]
		if !dup {
			byName[key] = i
			continue
		}
		first := cells[j]
		k := dupKey{first.artifactRange, c.artifactRange}
		counts[k]++
		if counts[k] > 1 {
			continue
		}
		how := fmt.Sprintf("Cells %s and %s both produce the artifact %s.", first.Name(), c.Name(), c.shownArtifact())
		if first.Artifact != c.Artifact {
			how = fmt.Sprintf("Cell %s produces %s and cell %s produces %s: the names differ only in case and collide on case-insensitive file systems.", first.Name(), first.shownArtifact(), c.Name(), c.shownArtifact())
		}
		where := ""
		if first.artifactRange != c.artifactRange {
			where = fmt.Sprintf(" The first name comes from %s.", rangeString(first.artifactRange))
		}
		index[k] = len(diags)
		diags = append(diags, errorAt(c.artifactRange.Ptr(), "Duplicate artifact name", how+where+" Use the matrix values in the name, like \"name-${matrix.version}.tar.gz\"."))
	}
	for k, n := range counts {
		if n > 1 {
			d := diags[index[k]]
			if n == 2 {
				d.Detail += " One more cell collides the same way."
			} else {
				d.Detail += fmt.Sprintf(" %d more cells collide the same way.", n-1)
			}
		}
	}
	return diags
}
