package spec

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// checkArtifacts reports artifact names that two cells share, including names that
// differ only in case: they collide on case-insensitive file systems. Skipped cells
// make no artifact.
func checkArtifacts(cells []located) hcl.Diagnostics {
	type dupKey struct{ first, second hcl.Range }
	var diags hcl.Diagnostics
	counts := map[dupKey]int{}
	index := map[dupKey]int{}
	byName := make(map[string]int, len(cells))
	for i, c := range cells {
		if c.Skip != "" {
			continue
		}
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
