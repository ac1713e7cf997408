package spec

import (
	"fmt"
	"math"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/matrixbuild/matrix/internal/filename"
	"github.com/matrixbuild/matrix/plan"
)

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
		c.artifactSensitive = e.sens.attr(attr)
		e.checkArtifact(attr, c.Artifact)
	}
	artifactAttr := attr
	c.Format, attr = e.str(a, "format", "")
	c.Format = e.format(attr, artifactAttr, c.Format, c.Artifact)
	c.Timeout = e.duration(a["timeout"], DefaultTimeout)
	c.MaxSize = e.size(a["max_size"])
	c.WarnSize = e.warnSize(a["warn_size"])
	c.Retries = e.retries(a["retries"])
	c.LockFiles = e.lockFiles(a["lock_files"])
	c.CrossBuilt = e.bool(a["cross_built"])
	c.Mounts = e.mounts(content.Blocks)
	e.npm(content.Blocks, &c.Cell)
	e.elf(a, &c.Cell)
	c.Metadata = e.metadata(a["metadata"])
	for _, b := range content.Blocks {
		if b.Type != "test" {
			continue
		}
		if tc, ok := e.content(b, testSchema); ok && tc.Attributes["matrix"] != nil {
			c.Tests = e.tests(b, tc, &c.Cell)
		} else {
			c.Test = e.test(b, &c.Cell)
		}
		break
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

func (e *evaluator) retries(attr *hcl.Attribute) int {
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
	if layers, ok := envLayers(attr); ok {
		return e.mergedEnv(layers)
	}
	out := []plan.EnvVar{}
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

// packageManagerConfig reports whether the file at name is one npm, yarn, pnpm or bun
// read settings (a registry, a token) or hooks from: .npmrc, .yarnrc and
// .yarnrc.yml, .pnpmrc, .pnpmfile.cjs, bunfig.toml, in any directory.
func packageManagerConfig(name string) bool {
	base := path.Base(name)
	for _, c := range []string{".npmrc", ".yarnrc", ".pnpmrc", ".pnpmfile", "bunfig.toml", ".bunfig.toml"} {
		if base == c || strings.HasPrefix(base, c+".") {
			return true
		}
	}
	return false
}

// unprintable is a control character or an invisible formatting one (Cf, like the
// bidi override U+202E), as in artifact names (internal/filename).
func unprintable(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
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
		case name == "" || path.IsAbs(name) || clean == "." || slices.Contains(strings.Split(name, "/"), "..") || strings.HasPrefix(name, "~"):
			e.failAt(rng, attr, "Invalid lock file path", fmt.Sprintf("%s must be a path relative to the workdir that stays inside it, like \"package-lock.json\": not absolute, without a .. part, and not starting with ~ (which is not expanded).", e.shown(attr, name)))
		case strings.ContainsFunc(name, unprintable) || !utf8.ValidString(name):
			e.failAt(rng, attr, "Invalid lock file path", fmt.Sprintf("%s has a control or invisible formatting character (like U+202E) or an invalid byte: a lock file's path is written into matrix.lock.json and shown in messages.", e.shown(attr, name)))
		case packageManagerConfig(clean):
			e.failAt(rng, attr, "Configuration as a lock file", fmt.Sprintf("%s is a package manager's configuration, not a record of the installed tree: lock_files are committed in matrix.lock.json and put back before the script under --locked, so one could carry a registry token out of the build or send the next install to another registry. Set a registry with env (npm_config_registry) and its token with pass_env, or mount the configuration read-only.", e.shown(attr, name)))
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
