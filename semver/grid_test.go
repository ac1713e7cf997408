package semver

import (
	"math/rand/v2"
	"strings"
)

// grid generates the differential test's own cases, so that its coverage does
// not rest on node-semver's fixtures alone: every operator on every boundary
// version and partial version, hyphen ranges between them, compound ranges,
// and versions on each side of every bound; prereleases, 0.x and 0.0.x, numbers
// at 2^53, lengths at 256, JavaScript white space; sorts whose comparison is
// inconsistent. The random parts use a fixed seed.
func grid() cases {
	var c cases

	ops := []string{"", "=", "<", "<=", ">", ">=", "~", "~>", "^", "v", "=v", ">=v", "> ", ">= ", "~ ", "~> ", "^ ", "< =", "==", "<>", "=>", "~^", "^~", ">=\t", "- "}
	partials := []string{
		"", "*", "x", "X", "x.x", "x.x.x", "*.*", "1", "1.x", "1.X", "1.x.x", "1.*", "1.*.*", "1.2", "1.2.x", "1.2.*",
		"0", "0.x", "0.0", "0.0.x", "0.1", "0.1.x", "2", "2.3", "x.1", "1.x.2", "*.1.2", "x.x.1", "1.2.x-beta", "1.x-beta",
		"1.2.3-x", "01", "1.02", "1.", "1..2", ".1",
	}
	boundaries := []string{
		"0.0.0", "0.0.1", "0.0.2", "0.1.0", "0.1.2", "0.2.0", "1.0.0", "1.2.3", "1.3.0", "2.0.0", "2.3.4",
		"0.0.0-0", "0.0.1-0", "0.0.1-alpha", "0.1.2-rc.1", "1.0.0-0", "1.2.3-0", "1.2.3-beta.1", "1.2.3-beta.10",
		"1.2.4-alpha", "2.0.0-rc.1", "1.2.3+build", "1.2.3-beta+build.1",
		"9007199254740990.0.0", "9007199254740991.0.0", "9007199254740992.0.0", "0.9007199254740991.0", "0.0.9007199254740991",
		"99999999999999999999", "1.99999999999999999999999", "999999999999999999999.x",
		"1.2.3.4", "01.2.3", "1.2.03", "1.2.3-01", "1.2.3-", "1.2.3+", "1.2.3-a..b", "1.2.3beta", "a.b.c",
	}
	for _, op := range ops {
		for _, v := range append(append([]string{}, partials...), boundaries...) {
			c.Ranges = append(c.Ranges, op+v)
		}
	}
	ends := []string{"", "*", "1", "1.2", "1.2.3", "1.x", "0.0.1", "1.2.3-beta.1", "2", "2.3", "2.3.4", "2.3.4-rc.1", "v1.2.3", "=1.2.3", "1.2.3+b", "x.1"}
	for _, a := range ends {
		for _, b := range ends {
			c.Ranges = append(c.Ranges, a+" - "+b)
		}
	}
	compound := []string{
		">=1.2.3 <2.0.0", ">1.2.3-alpha <1.2.3-beta", ">=1.2.3-beta.1 <1.3", ">=1.2.3-beta.1 <2 || 1.2.4-alpha",
		"1.2.7 || >=1.2.9 <2.0.0", "<1.0.0 || >=2.0.0", "^1.2.3 || ^2", "~1.2 ~1.2.4", "^0.0.1 || ^0.1.2-rc.1",
		">=0.0.0", ">=0.0.0-0", ">= 0.0.0", "<0.0.0", "<0.0.0-0", "<0.0.0-beta", "<=0.0.0", "<0.0.0-0 || 1",
		"<0.0.0-0 || <0.0.0-0", "* || 1.2.3", "1.2.3 || *", "<x || 1", ">x || <x", ">=1.0.0 >=1.0.0", ">=1 >=1.0.0",
		"1.2.3 1.2.3", "1.2.3 =1.2.3 v1.2.3", ">=1.2.3 <1.2.3", ">1.2.3 <1.2.4", "|| 1.2.3", "1.2.3 ||", "||", "|||",
		"1.2.3 |||| 2", "1 - 2 || 3 - 4", "1.2.3 -2.0.0", "1.2.3- 2.0.0", "1.2.3 - ", " - 2", ">= 1.2.3 < 2",
		">=1.2.3- 2", "1.2.3+build - 2.0.0+x", "^1.2.3+build", ">=1.2.3+1.2.3", "1.2.3+build.1 || 2+x", "~1.2+meta",
		"1.2.3+a+b", "^1.2.3-pre+build <2", "1.2.3 - 2.3.4 || 5", "* 1.2.3", "1.2.3 *", "x 1.x", ">=* <1",
		">1 <1", ">=1 <=1", ">1.2 <=1.2", "1.2.3 - 1.2.3", "1.2.3-0 - 1.2.3-0", "~0.0.1", "~0.0", "~0", "^0.0",
		"^0.0.0", "^0.0.0-0", "^0.0.1-beta", "^0.1.0-0", "^1.0.0-0", "~1.0.0-0", "~>1.2.3-beta", "~>0.0",
		"<=1.2.3-beta 1.2.3-beta", "=1.2.3-beta >=1.2.3-alpha", "1.2.3-beta.x", "1.2.3-beta.*",
		"\u00a01.2.3\u3000", "\ufeff^1.2", "\u180e1.2.3", "\u200b1.2.3", "1.2.3\u2028||\u20292.x", ">=1.2.3\u2003<2",
		"1.2.3\t||\n2.x", "\v~ 1.2\f", "^\u00a01.2", ">=\u00a01.2.3", "1.2.3\u00a0-\u00a02.0.0",
		"1.2.3 - 9007199254740991", "1.2.3 - 9007199254740990.x", "1.2.3 - 9007199254740991.x",
		"^9007199254740991.0.0", "^9007199254740990.0.0", "~1.9007199254740991", "~1.9007199254740990",
		">9007199254740990.x", ">9007199254740991.x", "<=9007199254740990", "<=0.9007199254740990",
		"^0.0.9007199254740990", "^0.0.9007199254740991", "^" + strings.Repeat("9", 25), ">" + strings.Repeat("9", 25) + ".x",
		"1 - 1.2.9007199254740991", "1 - 0.0.9007199254740991", "1 - 1.2.9007199254740990", "1 - v=1.2.3", "1 - vv1.2.3",
		"1 - = 1.2.3", "1 - =1.2.3-0", "=1.2.3 - 2", "1.x || 2.x.x || 3.X || 4.*.*", "x.x.x || 1.2.3", "1 2", "1.2 1.3", "^1 ^2", "~1 ~2 || ~3",
	}
	c.Ranges = append(c.Ranges, compound...)
	// Lengths at node-semver's limits: 256 characters a version; 250 an
	// identifier in the bounded regular expressions; 257 digits a number.
	for _, n := range []int{248, 249, 250, 251, 252} {
		id := strings.Repeat("a", n)
		c.Ranges = append(c.Ranges, ">=1.2.3-"+id, "^1.2.3-"+id, "~1.2.3-"+id, "1.2.3-"+id+" - 2", "1.2-"+id, "1.2.3+"+id, "1.2.3-0+"+id+" - 2")
		c.Versions = append(c.Versions, "1.2.3-"+id, "1.2.3+"+id, "v1.2.3-"+id, " 1.2.3-"+id)
	}
	for _, n := range []int{15, 16, 17, 255, 256, 257, 258} {
		num := "1" + strings.Repeat("0", n-1)
		c.Ranges = append(c.Ranges, num, "^"+num, ">"+num+".x", "1.2.3 - "+num, "1.2.3-"+num, "1.2.3-a."+num)
		c.Versions = append(c.Versions, num+".0.0", "1.2.3-"+num, "1.2.3-a."+num, "1.2.3+"+num)
	}

	versions := []string{
		"0.0.0", "0.0.0-0", "0.0.1-0", "0.0.1-alpha", "0.0.1", "0.0.2-0", "0.0.2", "0.1.0-0", "0.1.0", "0.1.1",
		"0.1.2-rc.1", "0.1.2", "0.2.0-0", "0.2.0", "1.0.0-0", "1.0.0-alpha", "1.0.0", "1.0.1", "1.1.0", "1.2.0-0",
		"1.2.0", "1.2.2", "1.2.3-0", "1.2.3-alpha", "1.2.3-beta.1", "1.2.3-beta.2", "1.2.3-beta.10", "1.2.3-beta",
		"1.2.3", "1.2.3+build", "1.2.3-beta.1+build", "1.2.4-0", "1.2.4-alpha", "1.2.4", "1.2.9", "1.3.0-0", "1.3.0",
		"1.9.9", "2.0.0-0", "2.0.0-rc.1", "2.0.0", "2.3.4-rc.1", "2.3.4", "2.3.5-0", "2.4.0-0", "2.4.0", "3.0.0-0",
		"3.0.0", "5.0.0", "9007199254740990.0.0", "9007199254740991.0.0", "9007199254740992.0.0",
		"0.9007199254740990.5", "0.0.9007199254740990", "v1.2.3", " 1.2.3 ", "=1.2.3", "v 1.2.3", "1.2", "01.2.3",
		"1.2.3.4", "", "\u00a01.2.3\u3000", "\u180e1.2.3", "1.2.3\ufeff", "1.2.3-", "1.2.3-a..b",
	}
	c.Versions = append(c.Versions, versions...)
	for _, r := range c.Ranges {
		for _, v := range versions {
			c.Satisfies = append(c.Satisfies, [2]string{r, v})
		}
	}

	// Intersections: every pair of a smaller set of ranges.
	var small []string
	for _, op := range []string{"", "<", "<=", ">", ">=", "~", "^"} {
		for _, v := range []string{"*", "1", "1.2", "0.0", "0.1.x", "0.0.1", "1.2.3", "1.2.3-beta.1", "2.0.0", "0.0.0", "0.0.0-0"} {
			small = append(small, op+v)
		}
	}
	small = append(small, ">=1.2.3 <2.0.0", ">1.2.3-alpha <1.2.3-beta", "1.2.7 || >=1.2.9 <2.0.0", "<1.0.0 || >=2.0.0",
		"1 - 2", "1.2.3 - 2.3.4", ">=0.0.0", "<0.0.0", "<0.0.0-0", "<0.0.0-beta", ">1 <1", ">=1 <=1", "1.2.3 - 2 || 3",
		">=1.2.3-beta.1 <1.3", "=1.2.3-beta", "<=1.2.3-beta", ">=2.0.0-rc.1", "1.2.3.4", "")
	for _, a := range small {
		for _, b := range small {
			c.Intersects = append(c.Intersects, [2]string{a, b})
		}
	}

	for _, a := range versions {
		for _, b := range versions {
			c.Compare = append(c.Compare, [2]string{a, b})
		}
	}
	odd := []string{
		"1.0.0-9007199254740991", "1.0.0-9007199254740992", "1.0.0-9007199254740993", "1.0.0-9007199254740993.a",
		"1.0.0-9007199254740992.b", "1.0.0-18014398509481984", "1.0.0-18014398509481985", "1.0.0-1.a", "1.0.0-1.b",
		"1.0.0+01", "1.0.0+1", "1.0.0+01.a", "1.0.0+1.b", "1.0.0+001.c", "1.0.0+x", "1.0.0+X", "1.0.0+1.0", "1.0.0",
		"1.0.0-a", "1.0.0-A", "1.0.0--", "1.0.0-0a", "1.0.0-a0", "1.0.0-9", "1.0.0-10", "1.0.0-alpha.beta",
	}
	for _, a := range odd {
		for _, b := range odd {
			c.Compare = append(c.Compare, [2]string{a, b})
		}
	}

	// Sorts: shuffled valid versions, and lists whose comparison is not a
	// consistent order (equal yet different build or prerelease identifiers),
	// long enough for TimSort's merges and galloping.
	rng := rand.New(rand.NewPCG(1, 2))
	var valid []string
	for _, v := range append(versions, odd...) {
		if _, err := Parse(v); err == nil {
			valid = append(valid, v)
		}
	}
	pick := func(pool []string, n int) []string {
		list := make([]string, n)
		for i := range list {
			list[i] = pool[rng.IntN(len(pool))]
		}
		return list
	}
	for i := range 150 {
		c.Sorts = append(c.Sorts, pick(valid, 1+rng.IntN(20+i)))
	}
	inconsistent := []string{
		"1.0.0+01", "1.0.0+1", "1.0.0+01.a", "1.0.0+1.b", "1.0.0+01.c", "1.0.0+001", "1.0.0+1.a", "1.0.0+x", "1.0.0",
		"1.0.0-9007199254740993", "1.0.0-9007199254740992", "1.0.0-9007199254740993.a", "1.0.0-9007199254740992.b",
		"1.0.0-9007199254740992.a", "1.0.0-9007199254740991",
	}
	for i := range 250 {
		n := 1 + rng.IntN(12)
		if i >= 100 {
			n = 1 + rng.IntN(400)
		}
		list := pick(inconsistent, n)
		if i%3 == 0 { // long ascending or descending stretches, for runs and galloping
			for j := 1; j < len(list); j++ {
				if rng.IntN(4) > 0 {
					list[j] = list[j-1]
				}
			}
		}
		c.Sorts = append(c.Sorts, list)
	}
	return c
}
