//go:build !unix

package atomicfile

// isUnsupported: syncing a directory is not possible on these systems at all.
func isUnsupported(error) bool { return true }
