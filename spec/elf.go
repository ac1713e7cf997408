package spec

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/matrixbuild/matrix/elfcheck"
	"github.com/matrixbuild/matrix/plan"
)

// What the runtime that loads a cell's artifact offers, for the ELF check of what it
// ships (elfcheck): libc, glibc and elf_ignore. The CPU is the npm block's cpu or the
// cell's platform, so it needs no attribute of its own.

// elf evaluates libc, glibc and elf_ignore into c, whose npm block is evaluated.
func (e *evaluator) elf(a hcl.Attributes, c *plan.Cell) {
	libc, attr := e.str(a, "libc", "")
	if attr != nil {
		switch {
		case !slices.Contains(npmLibcs, libc):
			e.fail(attr, "Invalid libc", fmt.Sprintf("The libc of the runtime is %s, not %s.", strings.Join(npmLibcs, " or "), e.shown(attr, libc)))
			libc = ""
		case c.Npm != nil && c.Npm.Libc != "" && c.Npm.Libc != libc:
			e.fail(attr, "Libc contradicts the npm block", fmt.Sprintf("The runtime's libc is %s, but the npm block installs binaries for %s.", e.shown(attr, libc), c.Npm.Libc))
			libc = ""
		}
		c.Libc = libc
	}
	glibc, attr := e.str(a, "glibc", "")
	if attr != nil {
		v, err := elfcheck.ParseGlibc(glibc)
		switch {
		case err != nil:
			e.fail(attr, "Invalid glibc", fmt.Sprintf("%s is not a glibc version: write the runtime's release, like \"2.34\" (Amazon Linux 2023) or \"2.26\" (Amazon Linux 2).", e.shown(attr, glibc)))
		case libc == elfcheck.Musl || c.Npm != nil && c.Npm.Libc == elfcheck.Musl:
			e.fail(attr, "Glibc in a musl cell", fmt.Sprintf("The cell's libc is musl, so its runtime has no glibc %s.", e.shown(attr, glibc)))
		default:
			c.Glibc = v
		}
	}
	if attr := a["elf_ignore"]; attr != nil {
		var seen []string
		c.ELFIgnore = e.strings(attr, "elf_ignore", func(rng hcl.Range, glob string) bool {
			_, err := path.Match(glob, "")
			switch {
			case glob == "" || err != nil || path.IsAbs(glob) || path.Clean(glob) != glob || strings.HasPrefix(glob, "../"):
				e.failAt(rng, attr, "Invalid elf_ignore pattern", fmt.Sprintf("%s is not a pattern of paths in the artifact: write a clean relative path.Match pattern, like \"node_modules/@img/sharp-darwin-*\" (a pattern that matches a directory skips all of it).", e.shown(attr, glob)))
			case slices.Contains(seen, glob):
				e.failAt(rng, attr, "Duplicate elf_ignore pattern", fmt.Sprintf("%s is listed twice.", e.shown(attr, glob)))
			default:
				seen = append(seen, glob)
				return true
			}
			return false
		})
	}
}

// metadata evaluates the free-form metadata map (strings, recorded in the manifest).
func (e *evaluator) metadata(attr *hcl.Attribute) map[string]string {
	v, ok := e.value(attr, cty.Map(cty.String))
	if !ok {
		return nil
	}
	out := map[string]string{}
	for it := v.ElementIterator(); it.Next(); {
		k, ev := it.Element()
		if ev.IsNull() {
			e.fail(attr, "Missing value", fmt.Sprintf("The metadata %s is null.", e.shown(attr, k.AsString())))
			continue
		}
		out[k.AsString()] = ev.AsString()
	}
	return out
}
