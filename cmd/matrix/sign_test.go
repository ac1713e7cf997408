package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSignAndVerifyUsage: the flags of sign and of verify's --key and --rebuild are
// checked before anything is read: wrong usage exits 2 saying what.
func TestSignAndVerifyUsage(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sign", dir}, "--key"},
		{[]string{"verify", "--rebuild", dir}, "--rebuild needs --file"},
		{[]string{"verify", "--file", "m.hcl", dir}, "go with --rebuild"},
		{[]string{"verify", "--cell", "a.tar.gz", dir}, "go with --rebuild"},
		{[]string{"verify", "--var", "a=b", dir}, "go with --rebuild"},
	} {
		code, _, stderr := runCmd(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("matrix %v: exit %d, want 2 and %q\n%s", tc.args, code, tc.want, stderr)
		}
	}
}

// TestSignRefusesWhatDoesNotVerify: sign signs only complete records whose statement
// is the recorded one: a directory without records, or with a record written without
// a statement, is refused (exit 1) and nothing is written.
func TestSignRefusesWhatDoesNotVerify(t *testing.T) {
	key := filepath.Join(t.TempDir(), "key")
	os.WriteFile(key, []byte("no key: the records are checked before it is parsed"), 0o600)
	empty := t.TempDir()
	code, _, stderr := runCmd(t, "sign", "--key", key, empty)
	if code != 1 || !strings.Contains(stderr, "nothing to sign") {
		t.Errorf("an empty directory: exit %d\n%s", code, stderr)
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("wrote %v", entries)
	}
}
