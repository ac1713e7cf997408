package diff

import "testing"

func TestDiff(t *testing.T) {
	for _, tc := range []struct{ old, new, want string }{
		{"a\nb\n", "a\nb\n", ""},
		{"a\nb\nc\n", "a\nB\nc\n", "diff x y\n--- x\n+++ y\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"},
		{"a", "a\n", "diff x y\n--- x\n+++ y\n@@ -1,1 +1,1 @@\n-a\n\\ No newline at end of file\n+a\n"},
	} {
		if got := string(Diff("x", []byte(tc.old), "y", []byte(tc.new))); got != tc.want {
			t.Errorf("Diff(%q, %q) = %q, want %q", tc.old, tc.new, got, tc.want)
		}
	}
}
