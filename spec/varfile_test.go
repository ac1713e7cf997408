package spec

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestVarFileGivesBackRecordedVariables: the recorded values of a run's variables
// (Variables), written by VarFile and read back as a --var-file, settle the same
// values: strings that HCL would take for templates or escapes included.
func TestVarFileGivesBackRecordedVariables(t *testing.T) {
	src := `
variable "s" { default = "" }
variable "n" {
  type    = number
  default = 1
}
variable "l" {
  type    = list(string)
  default = []
}
variable "o" {
  type    = map(string)
  default = {}
}
target "t" {
  image    = "busybox"
  script   = "true"
  collect  = "/out"
  artifact = "t-${var.s == "" ? "x" : "y"}.tar.gz"
}
`
	given := Options{Vars: []string{
		`s=a ${var.n} %{ if true }b%{ endif } \n "q" ` + "\b\f\x01 é",
		"n=2.5",
		`l=["$${x}", "", "\\"]`,
		`o={"k y" = "v", "${"z"}" = "%%{w}"}`,
	}}
	f, diags := LoadSource(context.Background(), "m.hcl", []byte(src), given)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want, _ := f.Variables()
	data, err := VarFile(want)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "recorded.hcl")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	g, diags := LoadSource(context.Background(), "m.hcl", []byte(src), Options{VarFiles: []string{path}})
	if diags.HasErrors() {
		t.Fatalf("%v\n%s", diags, data)
	}
	if got, _ := g.Variables(); !reflect.DeepEqual(got, want) {
		t.Errorf("read back %s\nwant %s\nvar file:\n%s", got, want, data)
	}
}
