package spec

import "github.com/hashicorp/hcl/v2"

// TargetRange is where the target named name is declared (its block's first line),
// for a message about one of its cells that has no range of its own (a failed build).
func (f *File) TargetRange(name string) (hcl.Range, bool) {
	for _, t := range f.targets {
		if t.name == name {
			return t.defRange, true
		}
	}
	return hcl.Range{}, false
}
