package spec

import (
	"fmt"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/matrixbuild/matrix/semver"
)

// The semver_* functions answer as node-semver does (package semver), except that a
// version or range node-semver rejects is an error at the argument, with where in it
// the problem is, rather than a quiet false.
var (
	semverSatisfiesFunc = semverPredicate("Whether a version satisfies a node-semver range (prereleases as node-semver treats them).",
		"version", "range", func(args []cty.Value) (bool, error) {
			v, err := versionArg(args, 0)
			if err != nil {
				return false, err
			}
			r, err := rangeArg(args, 1)
			return err == nil && r.Test(v, false), err
		})

	semverIntersectsFunc = semverPredicate("Whether some version satisfies both node-semver ranges.",
		"range_a", "range_b", func(args []cty.Value) (bool, error) {
			a, err := rangeArg(args, 0)
			if err != nil {
				return false, err
			}
			b, err := rangeArg(args, 1)
			return err == nil && semver.Intersects(a, b), err
		})

	semverSortFunc = function.New(&function.Spec{
		Description:  "The versions, as written, in ascending semver order (node-semver's sort).",
		Params:       []function.Parameter{{Name: "versions", Type: cty.List(cty.String)}},
		Type:         function.StaticReturnType(cty.List(cty.String)),
		RefineResult: notNull,
		Impl:         semverSort,
	})

	semverMajorFunc = semverPart("major", func(v semver.Version) uint64 { return v.Major })
	semverMinorFunc = semverPart("minor", func(v semver.Version) uint64 { return v.Minor })
	semverPatchFunc = semverPart("patch", func(v semver.Version) uint64 { return v.Patch })
)

// semverPredicate makes a function of two strings, first and second, that answers a
// bool.
func semverPredicate(description, first, second string, pred func(args []cty.Value) (bool, error)) function.Function {
	return function.New(&function.Spec{
		Description:  description,
		Params:       []function.Parameter{{Name: first, Type: cty.String}, {Name: second, Type: cty.String}},
		Type:         function.StaticReturnType(cty.Bool),
		RefineResult: notNull,
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			ok, err := pred(args)
			if err != nil {
				return cty.NilVal, err
			}
			return cty.BoolVal(ok), nil
		},
	})
}

// semverPart makes semver_major, semver_minor or semver_patch.
func semverPart(name string, part func(semver.Version) uint64) function.Function {
	return function.New(&function.Spec{
		Description:  fmt.Sprintf("The %s number of a version.", name),
		Params:       []function.Parameter{{Name: "version", Type: cty.String}},
		Type:         function.StaticReturnType(cty.Number),
		RefineResult: notNull,
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			v, err := versionArg(args, 0)
			if err != nil {
				return cty.NilVal, err
			}
			return cty.NumberUIntVal(part(v)), nil
		},
	})
}

// semverSort sorts the versions as semver.sort does and returns them as written (a
// leading "v" or build metadata kept), which node-semver's sort also does.
func semverSort(args []cty.Value, _ cty.Type) (cty.Value, error) {
	list := args[0]
	if !list.IsWhollyKnown() {
		return cty.UnknownVal(cty.List(cty.String)), nil
	}
	var raw []string
	var parsed []semver.Version
	for it := list.ElementIterator(); it.Next(); {
		_, el := it.Element()
		if el.IsNull() {
			return cty.NilVal, function.NewArgErrorf(0, "element %d is null", len(raw))
		}
		v, err := semver.Parse(el.AsString())
		if err != nil {
			return cty.NilVal, function.NewArgErrorf(0, "element %d: %s", len(raw), err)
		}
		raw = append(raw, el.AsString())
		parsed = append(parsed, v)
	}
	// Equal versions keep the order they were given in (Sort is stable), so the
	// spellings of one version are taken in that order.
	spellings := map[string][]string{}
	for i, v := range parsed {
		spellings[fullVersion(v)] = append(spellings[fullVersion(v)], raw[i])
	}
	semver.Sort(parsed)
	out := make([]string, len(parsed))
	for i, v := range parsed {
		key := fullVersion(v)
		out[i] = spellings[key][0]
		spellings[key] = spellings[key][1:]
	}
	return stringList(out), nil
}

// fullVersion is v with its build metadata: equal for the spellings of one version
// ("v1.2.3" and "1.2.3").
func fullVersion(v semver.Version) string {
	return v.String() + "+" + strings.Join(v.Build, ".")
}

// versionArg parses argument i as a version; the error is at the argument.
func versionArg(args []cty.Value, i int) (semver.Version, error) {
	v, err := semver.Parse(args[i].AsString())
	if err != nil {
		return v, function.NewArgError(i, err)
	}
	return v, nil
}

// rangeArg parses argument i as a range that node-semver accepts without
// includePrerelease, as semver.satisfies and semver.intersects read it; the error is
// at the argument.
func rangeArg(args []cty.Value, i int) (semver.Range, error) {
	r, err := semver.ParseRange(args[i].AsString())
	if err == nil {
		err = r.Err(false)
	}
	if err != nil {
		return r, function.NewArgError(i, err)
	}
	return r, nil
}
