package pack

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
)

// item is one entry of the archive: a directory or a regular file whose
// content is src's.
type item struct {
	name string // archive name with Options.Prefix, without a trailing slash
	dir  bool
	exec bool
	src  *entry // content of files
}

type plan struct {
	items []item // sorted by name
	stats Stats
}

// planner dereferences the links of a tree into the list of archive items.
type planner struct {
	ctx       context.Context
	t         *tree
	opts      Options
	p         plan
	visits    int
	nameBytes int // of all archive names so far, bounded by maxNameBytes
}

// maxNameBytes bounds the archive's names in memory: links to directories multiply
// names (a few links, each to a directory holding more, make a tiny stream name
// millions of long paths).
const maxNameBytes = 64 << 20

// level is one directory walk on the stack of a planner: the subtree of root
// is being walked and, once a symlink to a directory is met, parent is the
// real directory holding that symlink. A directory on the stack (root ⊑ dir ⊑
// parent) must not be walked again.
type level struct{ root, parent string }

func (t *tree) plan(ctx context.Context, opts Options) (*plan, error) {
	if err := t.addParents(); err != nil {
		return nil, err
	}
	pl := &planner{ctx: ctx, t: t, opts: opts}
	if opts.Prefix != "" {
		dir := strings.TrimSuffix(opts.Prefix, "/")
		for i := range len(dir) + 1 {
			if i == len(dir) || dir[i] == '/' {
				if err := pl.add(item{name: dir[:i], dir: true}, dir[:i]); err != nil {
					return nil, err
				}
			}
		}
	}
	root := t.entries[t.base]
	if root.kind == kindSymlink || root.kind == kindHardlink {
		target := root.link
		if root.kind == kindHardlink {
			target = root.raw
		}
		return nil, &EntryError{Entry: root.name, Link: root.kind.String(), Target: target,
			Err: fmt.Errorf("%w: the collected path itself is a link", ErrEscapes)}
	}
	if err := pl.visit(root, opts.Prefix+t.base, nil); err != nil {
		return nil, err
	}
	if err := pl.walk(t.base, opts.Prefix+t.base, nil); err != nil {
		return nil, err
	}
	slices.SortFunc(pl.p.items, func(a, b item) int { return strings.Compare(a.name, b.name) })
	slices.Sort(pl.p.stats.Dropped)
	return &pl.p, nil
}

// addParents adds the directories that only appear as parents, fails when a
// parent is not a directory, and fills t.names.
func (t *tree) addParents() error {
	names := make([]string, 0, len(t.entries))
	for n := range t.entries {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		for i := len(n) - 1; i > 0; i-- {
			if n[i] != '/' {
				continue
			}
			p := n[:i]
			e, ok := t.entries[p]
			if !ok {
				t.entries[p] = &entry{name: p, kind: kindDir}
				continue
			}
			if e.kind != kindDir {
				return &EntryError{Entry: n, Err: fmt.Errorf("%w: parent %s is a %s", ErrConflict, p, e.kind)}
			}
			break // the parents of a directory in the stream are checked with it
		}
	}
	t.names = make([]string, 0, len(t.entries))
	for n := range t.entries {
		t.names = append(t.names, n)
	}
	slices.Sort(t.names)
	return nil
}

// walk visits the entries below the real directory root, as below out in the archive.
func (pl *planner) walk(root, out string, stack []level) error {
	prefix := root + "/"
	i, _ := slices.BinarySearch(pl.t.names, prefix)
	for ; i < len(pl.t.names) && strings.HasPrefix(pl.t.names[i], prefix); i++ {
		n := pl.t.names[i]
		e := pl.t.entries[n]
		if err := pl.visit(e, out+n[len(root):], append(stack, level{root: root})); err != nil {
			return err
		}
	}
	return nil
}

// visit adds the items for entry e at archive name out; stack's last level is
// the walk e is met in.
func (pl *planner) visit(e *entry, out string, stack []level) error {
	if pl.visits++; pl.visits%1024 == 0 {
		if err := pl.ctx.Err(); err != nil {
			return err
		}
	}
	switch e.kind {
	case kindDir:
		return pl.add(item{name: out, dir: true}, e.name)
	case kindFile:
		return pl.add(item{name: out, exec: e.exec, src: e}, e.name)
	case kindSymlink:
		return pl.link(e, "symlink", e.link, e.link, out, stack)
	}
	h, err := pl.t.hardTarget(e)
	if err != nil {
		return &EntryError{Entry: e.name, Link: "hard link", Target: e.raw, Err: err}
	}
	if h.kind == kindFile {
		return pl.add(item{name: out, exec: h.exec, src: h}, e.name)
	}
	// A hard link to a symlink is that symlink at the hard link's place.
	return pl.link(e, "hard link", e.raw, h.link, out, stack)
}

// link adds the items for the link e whose symlink target, resolved from e's
// directory, is target.
func (pl *planner) link(e *entry, what, raw, target, out string, stack []level) error {
	dir := path.Dir(e.name)
	real, t, err := pl.t.resolve(dir, target)
	if err != nil {
		if pl.opts.AllowDangling && isDangling(err) && e.kind == kindSymlink {
			pl.p.stats.Dropped = append(pl.p.stats.Dropped, out)
			return nil
		}
		return &EntryError{Entry: e.name, Link: what, Target: raw, Err: err}
	}
	if t.kind == kindFile {
		return pl.add(item{name: out, exec: t.exec, src: t}, e.name)
	}
	stack = slices.Clone(stack)
	stack[len(stack)-1].parent = dir
	for _, l := range stack {
		if within(real, l.root) && within(l.parent, real) {
			return &EntryError{Entry: e.name, Link: what, Target: raw, Err: fmt.Errorf("%w: directory %s contains the link", ErrLoop, real)}
		}
	}
	if err := pl.add(item{name: out, dir: true}, e.name); err != nil {
		return err
	}
	return pl.walk(real, out, stack)
}

func (pl *planner) add(it item, entry string) error {
	if len(pl.p.items) >= pl.opts.MaxEntries {
		return &EntryError{Entry: entry, Err: fmt.Errorf("%w: more than %d in the archive", ErrTooManyEntries, pl.opts.MaxEntries)}
	}
	if len(it.name) > maxNameLen {
		return &EntryError{Entry: entry, Err: fmt.Errorf("%w: through links to directories it becomes a name longer than %d bytes", ErrBadName, maxNameLen)}
	}
	if pl.nameBytes += len(it.name); pl.nameBytes > maxNameBytes {
		return &EntryError{Entry: entry, Err: fmt.Errorf("%w: the archive's names exceed %d bytes (links to directories multiply them)", ErrTooManyEntries, maxNameBytes)}
	}
	if it.dir {
		pl.p.stats.Dirs++
	} else {
		if it.src.size > pl.opts.MaxSize-pl.p.stats.ContentBytes {
			return &EntryError{Entry: entry, Err: fmt.Errorf("%w: more than %d bytes of content in the archive", ErrTooLarge, pl.opts.MaxSize)}
		}
		pl.p.stats.Files++
		pl.p.stats.ContentBytes += it.src.size
	}
	pl.p.stats.Entries++
	pl.p.items = append(pl.p.items, it)
	return nil
}

// within reports whether name is dir or below it.
func within(name, dir string) bool {
	return name == dir || strings.HasPrefix(name, dir) && name[len(dir)] == '/'
}

type danglingError struct{ msg string }

func (e danglingError) Error() string { return ErrDangling.Error() + ": " + e.msg }
func (e danglingError) Unwrap() error { return ErrDangling }

func isDangling(err error) bool {
	_, ok := err.(danglingError)
	return ok
}

// hardTarget follows the hard link e to a file or a symlink.
func (t *tree) hardTarget(e *entry) (*entry, error) {
	for range maxLinks {
		h, ok := t.entries[e.link]
		switch {
		case !ok:
			return nil, fmt.Errorf("%w: %s is not in the stream", ErrDangling, e.link)
		case h.kind == kindDir:
			return nil, fmt.Errorf("%w: hard link to the directory %s", ErrUnsupportedType, h.name)
		case h.kind != kindHardlink:
			return h, nil
		}
		e = h
	}
	return nil, fmt.Errorf("%w: more than %d hard links in a chain", ErrLoop, maxLinks)
}

// resolve resolves the symlink target from the real directory dir, component
// by component, and returns the real name and entry of the file or directory
// it names.
func (t *tree) resolve(dir, target string) (string, *entry, error) {
	if target == "" {
		return "", nil, danglingError{"empty target"}
	}
	cur := dir
	rest := target
	links := 0
	for rest != "" {
		c, after, slash := strings.Cut(rest, "/")
		rest = after
		switch c {
		case "", ".":
			continue
		case "..":
			if cur == t.base {
				return "", nil, fmt.Errorf("%w: \"..\" above %s", ErrEscapes, t.base)
			}
			cur = path.Dir(cur)
			continue
		}
		next := cur + "/" + c
		e, ok := t.entries[next]
		if !ok {
			return "", nil, danglingError{next + " does not exist"}
		}
		if e.kind == kindHardlink {
			h, err := t.hardTarget(e)
			if err != nil {
				return "", nil, err
			}
			e = h
		}
		switch e.kind {
		case kindDir:
			cur = next
		case kindFile:
			if slash {
				return "", nil, danglingError{next + " is not a directory"}
			}
			return next, e, nil
		case kindSymlink:
			if links++; links > maxLinks {
				return "", nil, fmt.Errorf("%w: more than %d symlinks", ErrLoop, maxLinks)
			}
			if strings.HasPrefix(e.link, "/") {
				return "", nil, fmt.Errorf("%w: %s links to %q", ErrAbsoluteLink, next, e.link)
			}
			if e.link == "" {
				return "", nil, danglingError{next + " has an empty target"}
			}
			if slash {
				rest = e.link + "/" + rest
			} else {
				rest = e.link
			}
		}
	}
	return cur, t.entries[cur], nil
}
