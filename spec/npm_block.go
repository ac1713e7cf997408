package spec

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/matrixbuild/matrix/plan"
)

// npmSchema is a target's npm block: the tool writes the install steps (plan.NpmScript).
var npmSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "install", Required: true},
		{Name: "cpu"},
		{Name: "os"},
		{Name: "libc"},
		{Name: "omit"},
		{Name: "build_from_source"},
	},
}

// The values npm takes for --cpu, --os and --libc (Node.js's process.arch and
// process.platform, which packages name in their cpu, os and libc fields), and --omit.
var (
	npmCPUs  = []string{"x64", "arm64", "arm", "ia32", "ppc64", "s390x", "riscv64", "loong64", "mips", "mipsel", "ppc", "s390"}
	npmOSes  = []string{"linux", "darwin", "win32", "freebsd", "openbsd", "aix", "sunos", "android"}
	npmLibcs = []string{"glibc", "musl"}
	npmOmits = []string{"dev", "optional", "peer"}
)

// defaultNpmOmit is what an npm block leaves out unless it says otherwise: an artifact
// ships what the package needs at run time.
var defaultNpmOmit = []string{"dev"}

// checkNpmBlocks is the static check of a target's npm blocks: at most one, and a
// target needs a script or an npm block (or both: the script then runs after the
// install). The attributes are checked by checkBody like any block's.
func checkNpmBlocks(name string, missing hcl.Range, content *hcl.BodyContent, mustRun bool) hcl.Diagnostics {
	var diags hcl.Diagnostics
	first := firstBlock(content.Blocks, "npm")
	for _, blk := range content.Blocks {
		if blk.Type == "npm" && blk != first {
			diags = append(diags, errorAt(blk.DefRange.Ptr(), "Duplicate npm block", fmt.Sprintf("A target has at most one npm block; the first is at %s.", rangeString(first.DefRange))))
		}
	}
	if mustRun {
		diags = append(diags, checkRuns(name, missing, content)...)
	}
	return diags
}

// checkRuns: a target runs a script or an npm block (its own or inherited).
func checkRuns(name string, missing hcl.Range, content *hcl.BodyContent) hcl.Diagnostics {
	if _, ok := content.Attributes["script"]; ok || firstBlock(content.Blocks, "npm") != nil {
		return nil
	}
	return hcl.Diagnostics{errorAt(&missing, "Missing script or npm block", fmt.Sprintf("Target %q says nothing to run: give it an npm block (npm { install = [\"sharp@0.34.5\"] }) or a script, run as sh -c SCRIPT, or inherit one.", name))}
}

// npm evaluates the target's npm block, if it has one, into c.Npm, and makes c's
// script the generated steps, with the target's own script run after them; npm's
// variables (plan.NpmEnv) join c's env unless it sets them itself.
func (e *evaluator) npm(blocks hcl.Blocks, c *plan.Cell) {
	b := firstBlock(blocks, "npm")
	if b == nil {
		return
	}
	content, ok := e.content(b, npmSchema)
	if !ok {
		return
	}
	a := content.Attributes
	n := &plan.Npm{PostInstall: c.Script}
	n.Install = e.npmInstall(a["install"])
	n.CPU = e.npmChoice(a["cpu"], npmCPUs, "Node.js's names of CPUs (process.arch: x64, not amd64)")
	n.OS = e.npmChoice(a["os"], npmOSes, "Node.js's names of systems (process.platform: win32, not windows)")
	n.Libc = e.npmChoice(a["libc"], npmLibcs, "the C library of Linux binaries")
	n.Omit = slices.Clone(defaultNpmOmit)
	if attr := a["omit"]; attr != nil {
		var seen []string
		n.Omit = e.strings(attr, "omit", func(rng hcl.Range, s string) bool {
			switch {
			case !slices.Contains(npmOmits, s):
				e.failAt(rng, attr, "Invalid omit", fmt.Sprintf("npm leaves out dependency types dev, optional or peer (--omit), not %s.", e.shown(attr, s)))
			case slices.Contains(seen, s):
				e.failAt(rng, attr, "Duplicate omit", fmt.Sprintf("%s is listed twice.", e.shown(attr, s)))
			default:
				seen = append(seen, s)
				return true
			}
			return false
		})
	}
	n.BuildFromSource = e.bool(a["build_from_source"])
	c.Npm = n
	c.Script = plan.NpmScript(n)
	for _, v := range plan.NpmEnv(n) {
		if !slices.ContainsFunc(c.Env, func(have plan.EnvVar) bool { return have.Name == v.Name }) {
			c.Env = append(c.Env, v)
		}
	}
	slices.SortStableFunc(c.Env, func(x, y plan.EnvVar) int { return strings.Compare(x.Name, y.Name) })
}

// npmInstall evaluates install: a non-empty list whose elements are strings (a number
// is refused rather than converted: "1" is no package), each a spec npm reads as a
// package, not as an option.
func (e *evaluator) npmInstall(attr *hcl.Attribute) []string {
	if attr == nil {
		return nil // required: Content reported it
	}
	v, diags := attr.Expr.Value(e.ctx)
	if diags.HasErrors() {
		e.failed = true
		e.diags = append(e.diags, diags...)
		return nil
	}
	if !v.IsWhollyKnown() {
		e.failed = true // depends on a variable whose problem was reported
		return nil
	}
	ty := v.Type()
	if v.IsNull() || !(ty.IsListType() || ty.IsTupleType() || ty.IsSetType()) {
		e.fail(attr, "Invalid install", fmt.Sprintf("install is a list of package specs, like [\"sharp@0.34.5\"], not %s.", friendly(v)))
		return nil
	}
	if v.LengthInt() == 0 {
		e.fail(attr, "Empty install", "The npm block installs nothing: list at least one package spec, like [\"sharp@0.34.5\"].")
		return nil
	}
	var out []string
	i := 0
	for it := v.ElementIterator(); it.Next(); i++ {
		_, ev := it.Element()
		rng := elemRange(attr, i)
		if ev.IsNull() || ev.Type() != cty.String {
			e.failAt(rng, attr, "Invalid package spec", fmt.Sprintf("Each package spec is a string, like \"sharp@0.34.5\", not %s.", friendly(ev)))
			continue
		}
		s := ev.AsString()
		switch {
		case strings.TrimSpace(s) == "":
			e.failAt(rng, attr, "Invalid package spec", "A package spec is empty.")
		case strings.HasPrefix(s, "-"):
			e.failAt(rng, attr, "Invalid package spec", fmt.Sprintf("%s starts with '-', which npm would read as an option: options of the install are the npm block's attributes.", e.shown(attr, s)))
		case strings.ContainsFunc(s, unicode.IsControl):
			e.failAt(rng, attr, "Invalid package spec", fmt.Sprintf("%s holds a control character.", e.shown(attr, s)))
		default:
			out = append(out, s)
		}
	}
	return out
}

// npmChoice evaluates an optional string attribute that must be one of npm's names; a
// null counts as absent, so that a variable can leave it to npm.
func (e *evaluator) npmChoice(attr *hcl.Attribute, names []string, what string) string {
	if attr == nil {
		return ""
	}
	if v, diags := attr.Expr.Value(e.ctx); !diags.HasErrors() && v.IsNull() {
		return ""
	}
	s, attr := e.str(hcl.Attributes{attr.Name: attr}, attr.Name, "")
	if attr != nil && !slices.Contains(names, s) {
		e.fail(attr, "Unknown npm "+attr.Name, fmt.Sprintf("npm --%s takes %s: one of %s, not %s.", attr.Name, what, strings.Join(names, ", "), e.shown(attr, s)))
		return ""
	}
	return s
}
