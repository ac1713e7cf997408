package spec

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/matrixbuild/matrix/plan"
)

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
	ro := e.bool(a["read_only"])
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
