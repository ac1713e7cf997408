package merge

import (
	"bytes"
	"fmt"

	"github.com/matrixbuild/matrix/lock"
	"github.com/matrixbuild/matrix/plan"
)

// joinLocks returns the matrix file's lock with, for each taken artifact, the entry
// of the first shard that built it and carries one, and every shard's pinned registry
// calls; and whether that changes the lock file. Two shards that pinned a call with
// different answers are a conflict.
func joinLocks(opts Options, shards []*shard, builders map[string][]*shard) (*lock.File, bool, error) {
	base := opts.Lock
	if base == nil {
		base = &lock.File{Version: lock.Version, Cells: map[string]*lock.Entry{}}
	}
	before, err := base.Marshal()
	if err != nil {
		return nil, false, err
	}
	joined := &lock.File{Version: base.Version, Resolved: base.Resolved, Cells: map[string]*lock.Entry{}}
	for name, e := range base.Cells {
		joined.Cells[name] = e
	}
	pinnedBy := map[string]*shard{}
	byCall := map[string]lock.Resolution{}
	for _, r := range base.Resolved {
		byCall[r.Call] = r
	}
	carried := false
	for _, s := range shards {
		if s.lock == nil {
			continue
		}
		carried = true
		var fresh []lock.Resolution
		for _, r := range s.lock.Resolved {
			if old, ok := byCall[r.Call]; ok {
				if !lock.SameAnswer(old, r) {
					where := opts.LockPath
					if p := pinnedBy[r.Call]; p != nil {
						where = p.dir
					}
					return nil, false, fmt.Errorf("%s: %s pins %s with another answer than %s", s.dir, opts.LockName, r.Call, where)
				}
				continue
			}
			byCall[r.Call] = r
			pinnedBy[r.Call] = s
			fresh = append(fresh, r)
		}
		joined.AddResolved(fresh)
	}
	if !carried {
		return nil, false, nil
	}
	planned := map[string]plan.Cell{}
	for _, c := range opts.Cells {
		planned[c.Artifact] = c
	}
	for name, from := range builders {
		for _, s := range from {
			if s.lock == nil || s.lock.Cells[name] == nil {
				continue
			}
			e := s.lock.Cells[name]
			c := planned[name]
			if e.Target != c.Target || e.Definition != lock.Definition(c) {
				return nil, false, fmt.Errorf("%s: %s: the lock entry of %s is not of the cell as the matrix file defines it (a shard of another version of the file?)",
					s.dir, opts.LockName, name)
			}
			joined.Cells[name] = e
			break
		}
	}
	joined.Prune(opts.Cells, true)
	after, err := joined.Marshal()
	if err != nil {
		return nil, false, err
	}
	return joined, !bytes.Equal(before, after), nil
}
