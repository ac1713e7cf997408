package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestMergeAndEnginesUsage: a wrong command line of merge or engines is exit 2, before
// anything is read or connected.
func TestMergeAndEnginesUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"merge"}, "requires at least 2 arg(s)"},
		{[]string{"merge", "out"}, "requires at least 2 arg(s)"},
		{[]string{"merge", "--no-such-flag", "out", "a"}, "unknown flag"},
		{[]string{"engines", "extra"}, "unknown command \"extra\""},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("matrix %s: exit %d, stderr %q; want %d and %q", strings.Join(tc.args, " "), code, stderr.String(), exitUsage, tc.want)
		}
	}
}
