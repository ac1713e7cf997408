//go:build unix

package atomicfile

import (
	"errors"
	"io/fs"
	"strconv"
	"syscall"
)

// openFlags keep OpenRegular from following a link in the last element of a name and
// from blocking on a fifo (or a device) before its type is known.
const openFlags = syscall.O_NOFOLLOW | nonblock

// nonblock opens a fifo without waiting for a writer (ReadFile refuses it after).
const nonblock = syscall.O_NONBLOCK

func isUnsupported(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP)
}

// links is how many names (hard links) a file has; 1 when the system does not say.
func links(info fs.FileInfo) uint64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}

// fileID names the file itself (its device and inode), so that an undo entry can say
// which file it put in place; "" when the system does not say.
func fileID(info fs.FileInfo) string {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return strconv.FormatUint(uint64(st.Dev), 10) + ":" + strconv.FormatUint(uint64(st.Ino), 10)
	}
	return ""
}
