//go:build unix

package lock

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReadRefusesANamedPipe: a lock file that is a named pipe is refused without
// opening it, which would wait for a writer.
func TestReadRefusesANamedPipe(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := Read(path); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file but a named pipe") {
			t.Errorf("Read of a named pipe: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read of a named pipe blocked")
	}
}
