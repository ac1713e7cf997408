package selection

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/matrixbuild/matrix/plan"
)

// MaxShards bounds N of --shard K/N.
const MaxShards = 10000

// Shard is --shard K/N: the K-th (from 1) of N parts of the selected cells.
type Shard struct {
	K, N int
}

// ParseShard parses "K/N", 1 <= K <= N <= MaxShards.
func ParseShard(s string) (Shard, error) {
	ks, ns, ok := strings.Cut(s, "/")
	k, kerr := strconv.Atoi(ks)
	n, nerr := strconv.Atoi(ns)
	if !ok || kerr != nil || nerr != nil || strings.HasPrefix(ks, "+") || strings.HasPrefix(ns, "+") {
		return Shard{}, fmt.Errorf("--shard %s: want K/N, e.g. 2/3 for the second of three shards", strconv.Quote(s))
	}
	if n < 1 || n > MaxShards || k < 1 || k > n {
		return Shard{}, fmt.Errorf("--shard %s: want 1 <= K <= N <= %d", strconv.Quote(s), MaxShards)
	}
	return Shard{K: k, N: n}, nil
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.K, s.N) }

// minWeight is the least weight of a cell, so that every cell counts (a cell recorded
// as taking no time still goes to a shard of its own while there are empty ones).
const minWeight = time.Millisecond

// Partition splits the cells that are not skipped into n shards and returns, per cell
// ID, its shard (0-based); skipped cells are in none. It is LPT, longest processing
// time first: the cells sorted by weight, heaviest first, then by ID, each given to
// the shard with the least weight so far (the lowest-numbered among equals). A cell's
// weight is its duration in durations (rounded to the millisecond, at least
// minWeight); a cell without one weighs the median of the recorded ones, and with no
// durations at all every cell weighs the same, which deals the cells out by ID in
// turn (shard sizes differ by at most one). Nothing depends on the plan's order or on
// the host, so every runner computes the same partition.
//
// The bound: the heaviest shard exceeds the lightest by at most the heaviest cell's
// weight, and exceeds the best possible partition's heaviest shard by at most a
// third (Graham's 4/3 - 1/(3n) bound for LPT).
func Partition(cells []plan.Cell, n int, durations map[string]time.Duration) map[string]int {
	type item struct {
		id     string
		weight time.Duration
	}
	items := make([]item, 0, len(cells))
	var known []time.Duration
	for _, c := range cells {
		if c.Skip != "" {
			continue
		}
		id := c.ID()
		d, ok := durations[id]
		if ok {
			d = max(d.Round(time.Millisecond), minWeight)
			known = append(known, d)
		}
		items = append(items, item{id: id, weight: d})
	}
	fallback := minWeight
	if len(known) > 0 {
		slices.Sort(known)
		fallback = known[len(known)/2]
	}
	for i := range items {
		if _, ok := durations[items[i].id]; !ok {
			items[i].weight = fallback
		}
	}
	slices.SortFunc(items, func(a, b item) int {
		return cmp.Or(cmp.Compare(b.weight, a.weight), cmp.Compare(a.id, b.id))
	})
	load := make([]time.Duration, n)
	out := make(map[string]int, len(items))
	for _, it := range items {
		least := 0
		for s := 1; s < n; s++ {
			if load[s] < load[least] {
				least = s
			}
		}
		load[least] += it.weight
		out[it.id] = least
	}
	return out
}

// of returns the IDs of the cells in shard s.
func (s Shard) of(cells []plan.Cell, durations map[string]time.Duration) map[string]bool {
	out := map[string]bool{}
	for id, k := range Partition(cells, s.N, durations) {
		if k == s.K-1 {
			out[id] = true
		}
	}
	return out
}
