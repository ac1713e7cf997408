package semver

// Sort sorts vs in ascending order as semver.sort does: by precedence (Compare),
// then by build metadata, compared identifier by identifier as prerelease
// identifiers are; versions equal in both keep their order.
//
// node-semver sorts with JavaScript's Array.prototype.sort, which in node is
// V8's TimSort, and the order it compares in matters: build identifiers "01"
// and "1" compare equal yet "01.a" is below "01.b", so the comparison is not a
// consistent order, and for such lists only the same algorithm gives the same
// result. Sort is that algorithm.
func Sort(vs []Version) {
	timSort(vs, compareBuild)
}
