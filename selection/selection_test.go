package selection

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/plan"
)

// sharpPlan is the root matrix's shape: sharp x arch, tested on node, one sharp
// skipped.
func sharpPlan() []plan.Cell {
	var cells []plan.Cell
	for _, s := range []string{"0.33.5", "0.34.4", "0.34.5", "0.35.1"} {
		for _, a := range []string{"x64", "arm64"} {
			c := plan.Cell{
				Target:   "sharp-lambda",
				Axes:     []plan.Axis{{Name: "sharp", Value: s}, {Name: "arch", Value: a}},
				Artifact: "sharp-" + s + "-" + a + ".tar.gz",
				Tests:    []plan.Test{{Axes: []plan.Axis{{Name: "node", Value: 22.0}}}},
			}
			if s == "0.33.5" {
				c = plan.Cell{Target: c.Target, Axes: c.Axes, Skip: "too old"}
			}
			cells = append(cells, c)
		}
	}
	return append(cells, plan.Cell{Target: "other", Axes: []plan.Axis{{Name: "os", Value: "alpine"}}, Artifact: "other.tar.gz"})
}

func names(cells []plan.Cell) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = c.Name()
	}
	return out
}

func TestParseOnly(t *testing.T) {
	tests := []struct {
		expr    string
		wantErr string
		match   []string // axis values "sharp/arch" that match
		noMatch []string
	}{
		{expr: "arch=arm64", match: []string{"0.34.5/arm64"}, noMatch: []string{"0.34.5/x64", "0.34.5/arm64x"}},
		{expr: "sharp=0.34.*,arch=arm64", match: []string{"0.34.4/arm64", "0.34.5/arm64"}, noMatch: []string{"0.35.1/arm64", "0.34.5/x64"}},
		{expr: "sharp=0.3?.5", match: []string{"0.34.5/x64", "0.33.5/x64"}, noMatch: []string{"0.34.15/x64"}},
		{expr: "sharp=*", match: []string{"0.34.5/x64"}},
		{expr: "sharp=*5", match: []string{"0.34.5/x64", "0.355/x64"}, noMatch: []string{"0.35.1/x64"}},
		{expr: "sharp=0.*.5*", match: []string{"0.34.5/x64", "0.35.51/x64"}, noMatch: []string{"1.34.5/x64"}},
		{expr: `sharp=a\*b`, match: []string{"a*b/x64"}, noMatch: []string{"axb/x64"}},
		{expr: `sharp=a\,b`, match: []string{"a,b/x64"}},
		{expr: "sharp=", match: []string{"/x64"}, noMatch: []string{"0.34.5/x64"}},
		{expr: "sharp=a=b", match: []string{"a=b/x64"}},
		{expr: "arch=x64,arch=x*", match: []string{"1/x64"}},
		{expr: "", wantErr: `--only "": want AXIS=VALUE`},
		{expr: "arch", wantErr: `"arch" has no "="`},
		{expr: "arch=x64,", wantErr: `"" has no "="`},
		{expr: "=x64", wantErr: "no axis name"},
		{expr: `arch=x64\`, wantErr: `lone "\"`},
		{expr: "arch=\xff", wantErr: "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			o, err := ParseOnly(tt.expr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseOnly(%q) = %v, want an error containing %q", tt.expr, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cell := func(v string) plan.Cell {
				s, a, _ := strings.Cut(v, "/")
				return plan.Cell{Target: "t", Axes: []plan.Axis{{Name: "sharp", Value: s}, {Name: "arch", Value: a}}}
			}
			for _, v := range tt.match {
				if !o.Match(cell(v)) {
					t.Errorf("%q does not match %s", tt.expr, v)
				}
			}
			for _, v := range tt.noMatch {
				if o.Match(cell(v)) {
					t.Errorf("%q matches %s", tt.expr, v)
				}
			}
		})
	}
}

func mustOnly(t *testing.T, exprs ...string) []Only {
	t.Helper()
	var out []Only
	for _, e := range exprs {
		o, err := ParseOnly(e)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, o)
	}
	return out
}

func TestApply(t *testing.T) {
	cells := sharpPlan()
	id := func(i int) string { return cells[i].ID() }
	tests := []struct {
		name    string
		sel     Selection
		want    []int // indexes into cells, in plan order
		wantErr []string
	}{
		{name: "none", sel: Selection{}, want: []int{0, 1, 2, 3, 4, 5, 6, 7, 8}},
		{name: "one cell", sel: Selection{Cells: []string{id(3)}}, want: []int{3}},
		{name: "cells in any order", sel: Selection{Cells: []string{id(5), id(2)}}, want: []int{2, 5}},
		{name: "a skipped cell by its ID", sel: Selection{Cells: []string{id(0)}}, want: []int{0}},
		{name: "only arm64", sel: Selection{Only: mustOnly(t, "arch=arm64")}, want: []int{1, 3, 5, 7}},
		{name: "only is AND within, OR across", sel: Selection{Only: mustOnly(t, "sharp=0.34.*,arch=arm64", "os=alp*")}, want: []int{3, 5, 8}},
		{name: "cell and only narrow together", sel: Selection{Cells: []string{id(2), id(3)}, Only: mustOnly(t, "arch=arm64")}, want: []int{3}},
		{name: "unknown ID, did you mean by hash", sel: Selection{Cells: []string{"sharp-lambda-x86-0.34.4-" + id(2)[len(id(2))-8:]}},
			wantErr: []string{`--cell "sharp-lambda-x86-0.34.4-`, "no cell of the plan has this ID", "did you mean " + id(2) + "?"}},
		{name: "unknown ID, did you mean by edits", sel: Selection{Cells: []string{id(4)[:len(id(4))-1] + "q"}},
			wantErr: []string{"did you mean " + id(4) + "?"}},
		{name: "unknown ID, nothing near", sel: Selection{Cells: []string{"zzz"}}, wantErr: []string{`--cell "zzz": no cell`}},
		{name: "two unknown IDs, both named", sel: Selection{Cells: []string{"zzz", "yyy"}}, wantErr: []string{`"zzz"`, `"yyy"`}},
		{name: "unknown axis", sel: Selection{Only: mustOnly(t, "cpu=arm64")},
			wantErr: []string{`--only "cpu=arm64": no cell has an axis "cpu"; the axes are sharp, arch, os`}},
		{name: "a test's axis", sel: Selection{Only: mustOnly(t, "node=22")},
			wantErr: []string{`"node" is an axis of a test block`, "(sharp, arch, os)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.sel.Apply(cells)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("Apply = %v, want an error", names(got))
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var want []plan.Cell
			for _, i := range tt.want {
				want = append(want, cells[i])
			}
			if !slices.Equal(names(got), names(want)) {
				t.Errorf("Apply = %v, want %v", names(got), names(want))
			}
		})
	}
}

// bigPlan is n cells of one target over one axis.
func bigPlan(n int) []plan.Cell {
	cells := make([]plan.Cell, n)
	for i := range cells {
		cells[i] = plan.Cell{Target: "t", Axes: []plan.Axis{{Name: "i", Value: float64(i)}}, Artifact: fmt.Sprintf("a%d", i)}
	}
	return cells
}

// shards applies each shard 1..n of sel to cells.
func shards(t *testing.T, cells []plan.Cell, sel Selection, n int) [][]plan.Cell {
	t.Helper()
	out := make([][]plan.Cell, n)
	for k := 1; k <= n; k++ {
		s := sel
		s.Shard = Shard{K: k, N: n}
		got, err := s.Apply(cells)
		if err != nil {
			t.Fatal(err)
		}
		out[k-1] = got
	}
	return out
}

// TestShardsPartitionThePlan: for every N, the shards are disjoint, together they are
// the selected cells that are not skipped, by count they differ by at most one, and
// reordering the plan (the file's order) or the --only flags changes nothing.
func TestShardsPartitionThePlan(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cells []plan.Cell
		sel   Selection
	}{
		{"sharp", sharpPlan(), Selection{}},
		{"sharp, only", sharpPlan(), Selection{Only: mustOnly(t, "arch=arm64", "os=*")}},
		{"100 cells", bigPlan(100), Selection{}},
		{"100 cells, durations", bigPlan(100), Selection{Durations: randomDurations(bigPlan(100), 1)}},
	} {
		want, err := tc.sel.Apply(tc.cells)
		if err != nil {
			t.Fatal(err)
		}
		want = slices.DeleteFunc(slices.Clone(want), func(c plan.Cell) bool { return c.Skip != "" })
		ns := []int{1, 2, 3, 7, len(want), len(want) + 2}
		if len(want) > 20 {
			ns = []int{1, 2, 3, 7, 13}
		}
		for _, n := range ns {
			t.Run(fmt.Sprintf("%s/%d", tc.name, n), func(t *testing.T) {
				parts := shards(t, tc.cells, tc.sel, n)
				seen := map[string]int{}
				minN, maxN := len(want), 0
				for k, p := range parts {
					for _, c := range p {
						if prev, ok := seen[c.ID()]; ok {
							t.Errorf("%s in shards %d and %d", c.Name(), prev+1, k+1)
						}
						seen[c.ID()] = k
					}
					minN, maxN = min(minN, len(p)), max(maxN, len(p))
				}
				if len(seen) != len(want) {
					t.Errorf("the shards hold %d cells, want the %d selected that are not skipped", len(seen), len(want))
				}
				for _, c := range want {
					if _, ok := seen[c.ID()]; !ok {
						t.Errorf("%s is in no shard", c.Name())
					}
				}
				if tc.sel.Durations == nil && maxN-minN > 1 {
					t.Errorf("shard sizes from %d to %d: by count they differ by at most one", minN, maxN)
				}

				// The same shards from the plan reversed and the --only flags reversed.
				rev := slices.Clone(tc.cells)
				slices.Reverse(rev)
				sel := tc.sel
				sel.Only = slices.Clone(sel.Only)
				slices.Reverse(sel.Only)
				for k, p := range shards(t, rev, sel, n) {
					if a, b := sortedIDs(p), sortedIDs(parts[k]); !slices.Equal(a, b) {
						t.Errorf("shard %d/%d: %v from the reordered plan and flags, %v before", k+1, n, a, b)
					}
				}
			})
		}
	}
}

func sortedIDs(cells []plan.Cell) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = c.ID()
	}
	slices.Sort(out)
	return out
}

func randomDurations(cells []plan.Cell, seed uint64) map[string]time.Duration {
	r := rand.New(rand.NewPCG(seed, seed))
	out := map[string]time.Duration{}
	for _, c := range cells {
		out[c.ID()] = time.Duration(1+r.IntN(600_000)) * time.Millisecond
	}
	return out
}

// TestShardsBalanceByDurations checks the documented bound (Partition): the heaviest
// shard exceeds the lightest by at most the heaviest cell, and the best partition's
// heaviest shard (found by brute force for small plans) by at most a third.
func TestShardsBalanceByDurations(t *testing.T) {
	for seed := range uint64(100) {
		n := 2 + int(seed%3)
		cells := bigPlan(4 + int(seed%5))
		durations := randomDurations(cells, seed)
		if seed%5 == 0 {
			// A few cells with no recorded duration weigh the median.
			delete(durations, cells[0].ID())
		}
		part := Partition(cells, n, durations)
		var median time.Duration
		if len(durations) > 0 {
			ws := slices.Sorted(maps.Values(durations))
			median = ws[len(ws)/2]
		}
		weights := map[string]time.Duration{}
		for _, c := range cells {
			weights[c.ID()] = median
			if d, ok := durations[c.ID()]; ok {
				weights[c.ID()] = d
			}
		}
		weight := func(c plan.Cell) time.Duration { return weights[c.ID()] }
		load := make([]time.Duration, n)
		heaviest := time.Duration(0)
		for _, c := range cells {
			load[part[c.ID()]] += weight(c)
			heaviest = max(heaviest, weight(c))
		}
		if spread := slices.Max(load) - slices.Min(load); spread > heaviest {
			t.Errorf("seed %d: shard loads %v differ by %v, more than the heaviest cell %v", seed, load, spread, heaviest)
		}
		ws := make([]time.Duration, len(cells))
		for i, c := range cells {
			ws[i] = weight(c)
		}
		best := bestMakespan(ws, n)
		if got := slices.Max(load); got*3 > best*4 {
			t.Errorf("seed %d: heaviest shard %v, more than 4/3 of the best partition's %v", seed, got, best)
		}
	}
}

// bestMakespan is the least possible heaviest shard, by trying every assignment.
func bestMakespan(weights []time.Duration, n int) time.Duration {
	best := time.Duration(1<<63 - 1)
	load := make([]time.Duration, n)
	var try func(i int)
	try = func(i int) {
		if i == len(weights) {
			best = min(best, slices.Max(load))
			return
		}
		for s := range n {
			load[s] += weights[i]
			try(i + 1)
			load[s] -= weights[i]
		}
	}
	try(0)
	return best
}

// TestShardsByDurationsBeatCount: with one cell ten times as long as the others, the
// count partition puts more on its shard; the durations move the others away.
func TestShardsByDurationsBeatCount(t *testing.T) {
	cells := bigPlan(10)
	durations := map[string]time.Duration{}
	for i, c := range cells {
		durations[c.ID()] = time.Minute
		if i == 3 {
			durations[c.ID()] = 10 * time.Minute
		}
	}
	part := Partition(cells, 2, durations)
	long := part[cells[3].ID()]
	others := 0
	for _, c := range cells {
		if part[c.ID()] == long {
			others++
		}
	}
	if others != 1 {
		t.Errorf("the 10-minute cell's shard has %d cells, want it alone (9 minutes of the others against its 10)", others)
	}
}

func TestParseShard(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Shard
		err  string
	}{
		{in: "1/1", want: Shard{1, 1}},
		{in: "2/3", want: Shard{2, 3}},
		{in: "0/3", err: "1 <= K <= N"},
		{in: "4/3", err: "1 <= K <= N"},
		{in: "1/0", err: "1 <= K <= N"},
		{in: "1/10001", err: "1 <= K <= N <= 10000"},
		{in: "3", err: "want K/N"},
		{in: "a/b", err: "want K/N"},
		{in: "+1/2", err: "want K/N"},
		{in: "1/2/3", err: "want K/N"},
	} {
		got, err := ParseShard(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseShard(%q) = %v, %v; want an error containing %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestDurations(t *testing.T) {
	cells := sharpPlan()
	m := &manifest.Manifest{Artifacts: []manifest.Artifact{
		{File: "renamed.tar.gz", CellID: cells[2].ID(), DurationSecs: 12.5},
		{File: cells[3].Artifact, DurationSecs: 30},                         // an older manifest: by file name
		{File: cells[4].Artifact, CellID: "gone-12345678", DurationSecs: 9}, // a cell_id not in the plan wins over the name
		{File: cells[5].Artifact, DurationSecs: -1},
		{File: cells[6].Artifact, DurationSecs: 1e300},
	}}
	got := Durations(m, cells)
	want := map[string]time.Duration{
		cells[2].ID(): 12500 * time.Millisecond,
		cells[3].ID(): 30 * time.Second,
		cells[6].ID(): maxDuration,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Durations = %v, want %v", got, want)
	}
}
