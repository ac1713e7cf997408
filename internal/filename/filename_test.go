package filename

import (
	"strings"
	"testing"
)

func TestWhy(t *testing.T) {
	for _, tc := range []struct {
		name string
		want string // a part of the reason; "" for a plain name
	}{
		{"sharp-0.34.5-node22-x64.tar.gz", ""},
		{"layer é.zip", ""},
		{strings.Repeat("a", MaxLen), ""},
		{"", "empty"},
		{".", "directory"},
		{"..", "directory"},
		{"a/b.tgz", "separator"},
		{`a\b.tgz`, "separator"},
		{".hidden.tgz", "starts with '.'"},
		{"-rf.tgz", "option"},
		{strings.Repeat("a", MaxLen+1), "bytes long"},
		{"a\xffb.tgz", "UTF-8"},
		{"a\nb.tgz", "control"},
		{"a\u0085b.tgz", "control"},
		{"a\u202eb.tgz", "formatting"},
		{" a.tgz", "white space"},
		{"a.tgz ", "white space"},
	} {
		got := Why(tc.name)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("Why(%q) = %q, want it to say %q", tc.name, got, tc.want)
		}
		if (Check(tc.name) == nil) != (tc.want == "") {
			t.Errorf("Check(%q) = %v, disagrees with Why", tc.name, Check(tc.name))
		}
	}
}
