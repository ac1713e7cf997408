package runner

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/matrixbuild/matrix/internal/filename"
	"github.com/matrixbuild/matrix/plan"
)

// checkUnique refuses cells of one run that would write the same file, also when
// their names differ only in case (they collide on case-insensitive file systems).
// spec refuses them too, but a plan.Cell may come from JSON. Skipped cells make no
// artifact.
func checkUnique(cells []plan.Cell) error {
	var dups []string
	first := make(map[string]int, len(cells))
	for i, c := range cells {
		if c.Skip != "" {
			continue
		}
		key := strings.ToLower(c.Artifact)
		j, dup := first[key]
		if !dup {
			first[key] = i
			continue
		}
		if p := cells[j]; p.Artifact == c.Artifact {
			dups = append(dups, fmt.Sprintf("cells %s and %s both produce the artifact %s", p.Name(), c.Name(), strconv.Quote(c.Artifact)))
		} else {
			dups = append(dups, fmt.Sprintf("cell %s produces %s and cell %s produces %s: the names differ only in case and collide on case-insensitive file systems",
				p.Name(), strconv.Quote(p.Artifact), c.Name(), strconv.Quote(c.Artifact)))
		}
	}
	if len(dups) == 0 {
		return nil
	}
	return fmt.Errorf("%s; nothing was built", strings.Join(dups, "; "))
}

// shown is an artifact name for a message: quoted when it is not a plain file name,
// which may hold control characters.
func shown(name string) string {
	if filename.Check(name) != nil {
		return strconv.Quote(name)
	}
	return name
}
