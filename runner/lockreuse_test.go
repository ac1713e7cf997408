package runner

import (
	"context"
	"testing"

	"github.com/matrixbuild/matrix/executor"
)

// TestRunReuseAfterResolving: an artifact built by resolving anew is recorded as the
// build installing from the lock files it left would be, so that the next run, which
// installs the cell from those files, reuses it; other files (an edited lock) build
// it again.
func TestRunReuseAfterResolving(t *testing.T) {
	opts := options(t)
	cs := cells("a.tar.gz")
	cs[0].LockFiles = []string{"package-lock.json"}
	first := &fakeExec{}
	results, err := readAndRun(context.Background(), []executor.Executor{first}, cs, opts)
	if err != nil {
		t.Fatal(err)
	}
	left := results[0].LockFiles
	if len(left) != 1 {
		t.Fatalf("lock files left: %v", left)
	}
	opts.Reuse = true
	for _, tc := range []struct {
		name   string
		locked executor.Files
		builds int
	}{
		{"installing from the files the build left", left, 0},
		{"installing from other files", executor.Files{"package-lock.json": []byte("edited")}, 1},
	} {
		opts.Locked = map[string]executor.Files{"a.tar.gz": tc.locked}
		exec := &fakeExec{}
		if _, err := readAndRun(context.Background(), []executor.Executor{exec}, cs, opts); err != nil {
			t.Fatal(err)
		}
		if got := exec.calls("a.tar.gz"); got != tc.builds {
			t.Errorf("%s: %d builds, want %d", tc.name, got, tc.builds)
		}
	}
}
