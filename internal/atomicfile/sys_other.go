//go:build !unix

package atomicfile

import "io/fs"

// openFlags: os.Root refuses links that leave the directory here; the Lstat checks
// of OpenRegular refuse the others.
const openFlags = 0

const nonblock = 0

// isUnsupported: syncing a directory is not possible on these systems at all.
func isUnsupported(error) bool { return true }

func links(fs.FileInfo) uint64 { return 1 }

// fileID: these systems do not say, so an undo entry never removes what it cannot
// tell is the file it put in place.
func fileID(fs.FileInfo) string { return "" }
