// Package pack turns the tar stream of a collected directory, as Docker's
// copy-from-container API produces it, into a reproducible artifact: a gzipped
// tar or a zip whose bytes depend only on the logical content of the tree.
//
// # Input
//
// The stream holds entries named "<base>/...", where base is the name of the
// collected directory (its first path component). Only directories, regular
// files (including GNU sparse files, which are expanded), symbolic links and
// hard links are accepted; anything else (character and block devices, fifos,
// sockets, contiguous files, global PAX headers) fails with ErrUnsupportedType.
//
// Entry names are normalised: "./" prefixes, empty and "." components and
// trailing slashes are dropped. A name fails with ErrBadName when it is
// absolute, has a ".." component, is outside the first entry's base, is longer
// than 4096 bytes, is not valid UTF-8, or holds a control character (including
// NUL) or a backslash (which some zip tools read as a separator).
//
// A name that appears twice must name the same type of entry, otherwise
// ErrConflict; the later entry wins, as when tar extracts the stream. Every
// ancestor of an entry must be a directory (or absent, then it is added);
// an entry below a file or a link fails with ErrConflict.
//
// # Links
//
// Links are dereferenced inside the tree and never against the host's file
// system: a link's content is the content of its target entry in the stream.
// Symbolic links are resolved component by component from the link's
// directory, following intermediate links; a target that is absolute fails
// with ErrAbsoluteLink, one whose ".." steps above base (even if it would come
// back) with ErrEscapes, one that needs more than 40 symlinks to
// resolve (Linux's limit; a cycle such as a -> b -> a) with ErrLoop, and one that names nothing in the stream with
// ErrDangling (Options.AllowDangling drops such links and lists them in
// Stats.Dropped instead). A link to a directory copies the directory's subtree
// under the link's name, like tar -h; a link to a directory that contains the
// link (such as "." or "..") fails with ErrLoop. Hard links name entries of
// the stream that come before them, as tar writes them; a hard link to a name
// that is not earlier in the stream (missing, later, or a loop of hard links)
// fails with ErrDangling whatever AllowDangling says.
// Errors are *EntryError values naming the entry and its link target, and
// errors.Is works with the sentinels.
//
// # Output
//
// The archive holds only directories and regular files, with fresh headers:
//   - entries sorted by the byte order of their full path without the trailing
//     slash of directories (so a directory comes before its contents:
//     "a", "a.txt", "a/b"),
//     every parent directory present, including those of Options.Prefix;
//   - modification time Options.Epoch (DefaultEpoch, 1980-01-01T00:00:00Z, the
//     earliest time a zip can hold, when zero; see EpochFromEnv for
//     SOURCE_DATE_EPOCH), truncated to whole seconds;
//   - uid and gid 0, no user or group names, no xattrs, no atime or ctime;
//   - mode 0755 for directories and for files with any execute bit, 0644
//     for other files; no setuid, setgid or sticky bit.
//
// Format "tar.gz": USTAR headers; a PAX header (holding only "path") where a
// name does not fit USTAR's 100+155 bytes; directory names end in "/". The
// gzip stream is written by github.com/klauspost/pgzip at level 6 in 1 MiB
// blocks cut at fixed offsets, so the bytes do not depend on GOMAXPROCS; its
// header has no file name, MTIME 0 and OS 255.
//
// Format "zip": archive/zip, Deflate (github.com/klauspost/compress/flate at
// level 6) for files, Store for directories, the MS-DOS time and an extended
// timestamp both set to the epoch, Unix modes in the external attributes.
// With Prefix "nodejs/" it has the layout of an AWS Lambda layer.
//
// The output bytes for a given input are fixed by FormatVersion and the
// versions of the compression modules in go.sum; FormatVersion goes into
// input hashes and is bumped whenever the bytes may change.
//
// # Resources
//
// File contents are spooled to an unlinked temporary file while the stream is
// read, because sorting and dereferencing need random access; memory holds
// only an index entry per name. A header whose size exceeds what remains of
// Options.MaxSize fails with ErrTooLarge before its content is read, so a
// sparse file claiming terabytes costs nothing; the total content written
// after dereferencing is bounded by MaxSize too, and the number of entries,
// read and written, by Options.MaxEntries (ErrTooManyEntries).
//
// Options.Inspect sees each regular file of the archive, by archive name, as
// an io.ReaderAt over the spool before the archive is written, so checks of
// the content (such as package elfcheck's) need no second read.
package pack
