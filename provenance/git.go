package provenance

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/matrixbuild/matrix/internal/atomicfile"
)

// Bounds of what GitCommit reads: HEAD, a loose ref and a .git file are a line;
// packed-refs of a large repository are megabytes.
const (
	maxRefFile    = 4 << 10
	maxPackedRefs = 32 << 20
	maxGitDepth   = 128 // directories walked up from the matrix file
)

// ErrNoRepository is GitCommit's error for a matrix file outside any repository.
var ErrNoRepository = errors.New("not in a git repository")

// GitCommit returns the commit that HEAD names in the git repository that holds dir
// (the matrix file's directory): dir or the nearest parent with a .git. It reads the
// repository's files itself instead of running git: a repository is as hostile as
// anything else given to the tool, and git obeys its configuration (core.fsmonitor
// and others run programs). Only regular files are read, never through a link, each
// bounded; a ref must look like one (refs/..., no ".."), and a commit is 40 or 64
// lowercase hex digits. It says nothing of uncommitted changes: the matrix file's
// own sha256 is in the statement for that.
func GitCommit(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for range maxGitDepth {
		info, err := os.Lstat(filepath.Join(abs, ".git"))
		if err == nil {
			gitdir, err := gitDir(abs, info)
			if err != nil {
				return "", err
			}
			return headCommit(gitdir)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			break
		}
		abs = parent
	}
	return "", ErrNoRepository
}

// gitDir is the repository directory of the .git entry in dir: .git itself, or the
// directory a .git file ("gitdir: PATH", a worktree's or submodule's) names.
func gitDir(dir string, info fs.FileInfo) (string, error) {
	dotgit := filepath.Join(dir, ".git")
	switch {
	case info.IsDir():
		return dotgit, nil
	case info.Mode().IsRegular():
		root, err := os.OpenRoot(dir)
		if err != nil {
			return "", err
		}
		defer root.Close()
		data, err := atomicfile.ReadRegular(root, ".git", maxRefFile)
		if err != nil {
			return "", err
		}
		line, _, _ := strings.Cut(string(data), "\n")
		path, ok := strings.CutPrefix(strings.TrimSpace(line), "gitdir: ")
		if !ok || path == "" {
			return "", fmt.Errorf("%s: not a \"gitdir: PATH\" file", dotgit)
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		return path, nil
	default:
		return "", fmt.Errorf("%s: neither a directory nor a regular file (a link is not followed)", dotgit)
	}
}

// headCommit resolves HEAD in gitdir: a detached commit, or a ref, loose (in gitdir or
// its common directory, for a worktree) or packed.
func headCommit(gitdir string) (string, error) {
	root, err := os.OpenRoot(gitdir)
	if err != nil {
		return "", err
	}
	defer root.Close()
	head, err := readLine(root, "HEAD")
	if err != nil {
		return "", err
	}
	ref, isRef := strings.CutPrefix(head, "ref: ")
	if !isRef {
		return commitID(head, filepath.Join(gitdir, "HEAD"))
	}
	if !validRef(ref) {
		return "", fmt.Errorf("%s: %q is not a ref", filepath.Join(gitdir, "HEAD"), ref)
	}
	roots := []*os.Root{root}
	if common, err := readLine(root, "commondir"); err == nil {
		if !filepath.IsAbs(common) {
			common = filepath.Join(gitdir, common)
		}
		cr, err := os.OpenRoot(common)
		if err != nil {
			return "", err
		}
		defer cr.Close()
		roots = append(roots, cr)
	}
	for _, r := range roots {
		line, err := readLine(r, ref)
		if err == nil {
			return commitID(line, filepath.Join(r.Name(), ref))
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	for _, r := range roots {
		id, err := packedRef(r, ref)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("%s: HEAD names %s, which has no commit yet", gitdir, ref)
}

// readLine reads root's file name, a regular file of one short line.
func readLine(root *os.Root, name string) (string, error) {
	data, err := atomicfile.ReadRegular(root, name, maxRefFile)
	if err != nil {
		return "", err
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	return strings.TrimSpace(string(line)), nil
}

// packedRef finds ref in root's packed-refs.
func packedRef(root *os.Root, ref string) (string, error) {
	data, err := atomicfile.ReadRegular(root, "packed-refs", maxPackedRefs)
	if err != nil {
		return "", err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxRefFile)
	for sc.Scan() {
		id, name, ok := strings.Cut(sc.Text(), " ")
		if ok && name == ref {
			return commitID(id, filepath.Join(root.Name(), "packed-refs"))
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("%s: %w", filepath.Join(root.Name(), "packed-refs"), err)
	}
	return "", fs.ErrNotExist
}

// validRef accepts a ref under refs/ whose every part is a plain name.
func validRef(ref string) bool {
	if !strings.HasPrefix(ref, "refs/") || len(ref) > 1024 {
		return false
	}
	for _, part := range strings.Split(ref, "/") {
		if part == "" || part == "." || part == ".." || strings.HasPrefix(part, ".") {
			return false
		}
	}
	for _, c := range ref {
		if c <= ' ' || c == 0x7f || c == '\\' || c == ':' {
			return false
		}
	}
	return true
}

// commitID checks that s is a commit ID: 40 (SHA-1) or 64 (SHA-256) lowercase hex.
func commitID(s, where string) (string, error) {
	if len(s) != 40 && len(s) != 64 {
		return "", fmt.Errorf("%s: not a commit ID", where)
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", fmt.Errorf("%s: not a commit ID", where)
		}
	}
	return s, nil
}
