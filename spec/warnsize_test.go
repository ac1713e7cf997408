package spec

import "testing"

// warn_size is optional: absent or null, no warning (0); a size otherwise. The root
// matrix.hcl sets it for zip artifacts only, with a conditional.
func TestWarnSize(t *testing.T) {
	for _, tc := range []struct {
		attr string
		want int64
	}{
		{"", 0},
		{"warn_size = null", 0},
		{`warn_size = "50MiB"`, 50 << 20},
		{`warn_size = matrix.f == "zip" ? "50MiB" : null`, 50 << 20},
		{`warn_size = matrix.f == "tar.gz" ? "50MiB" : null`, 0},
		{"warn_size = 1000", 1000},
	} {
		src := `
target "t" {
  matrix   = { f = ["zip"] }
  image    = "img"
  script   = "true"
  artifact = "a.zip"
  ` + tc.attr + `
}
`
		cells := planString(t, src, Options{})
		if len(cells) != 1 || cells[0].WarnSize != tc.want {
			t.Errorf("%s: warn_size = %d, want %d", tc.attr, cells[0].WarnSize, tc.want)
		}
	}
}
