package spec

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Format returns src, a matrix file or a variable file named filename, in HCL's
// canonical layout: hclwrite.Format, as terraform fmt writes it (aligned equals
// signs, two-space indents, one space around operators). A source that does not
// parse is not formatted: the diagnostics say why, and the *File renders them
// (WriteDiagnostics) with their source. The source is parsed as every source is
// (parseConfig: its nesting is checked first), so Format takes what Load takes.
func Format(src []byte, filename string) ([]byte, *File, hcl.Diagnostics) {
	file, diags := parseConfig(src, filename)
	if file == nil {
		file = &hcl.File{Bytes: src}
	}
	f := &File{path: filename, files: map[string]*hcl.File{filename: file}}
	if diags.HasErrors() {
		return nil, f, diags
	}
	return hclwrite.Format(src), f, diags
}
