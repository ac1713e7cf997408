package spec

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestFunctionsDocumented: the README's list of functions is exactly what a matrix
// file may call (the section's other code spans, like `file()`, are not bare names).
func TestFunctionsDocumented(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "\n### Functions\n")
	section, _, _ = strings.Cut(section, "\n####")
	var documented []string
	for _, m := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(section, -1) {
		documented = append(documented, m[1])
	}
	f := loadString(t, "target \"t\" {"+cellBody+"}\n", Options{})
	var declared []string
	for name := range f.bind(context.Background()).Functions {
		declared = append(declared, name)
	}
	slices.Sort(declared)
	slices.Sort(documented)
	documented = slices.Compact(documented)
	if !slices.Equal(documented, declared) {
		t.Errorf("README lists %v\nthe table has %v", documented, declared)
	}
}
