package spec

import (
	"strings"

	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// functions is every function a matrix file may call but npm_versions and npm_package,
// which File.bind adds for each Load or Plan call. All of these are pure: none reads a
// file, the environment, the clock or the network, so a plan depends only on the file,
// the variable values given to it and the registry's answers, which matrix.lock.json
// pins. The functions whose result can grow past their arguments' size (by a width, a
// count of spaces, a product) are bounded (functions_bounds.go); range is bounded by
// cty itself, at 1,024 numbers.
var functions = map[string]function.Function{
	"abs":               stdlib.AbsoluteFunc,
	"can":               tryfunc.CanFunc,
	"ceil":              stdlib.CeilFunc,
	"chomp":             stdlib.ChompFunc,
	"chunklist":         stdlib.ChunklistFunc,
	"coalesce":          stdlib.CoalesceFunc,
	"coalescelist":      stdlib.CoalesceListFunc,
	"compact":           stdlib.CompactFunc,
	"concat":            stdlib.ConcatFunc,
	"contains":          stdlib.ContainsFunc,
	"distinct":          stdlib.DistinctFunc,
	"element":           stdlib.ElementFunc,
	"endswith":          endsWithFunc,
	"flatten":           stdlib.FlattenFunc,
	"floor":             stdlib.FloorFunc,
	"format":            boundedFormatFunc,
	"formatlist":        boundedFormatListFunc,
	"indent":            boundedIndentFunc,
	"index":             stdlib.IndexFunc,
	"join":              boundedJoinFunc,
	"jsondecode":        stdlib.JSONDecodeFunc,
	"jsonencode":        stdlib.JSONEncodeFunc,
	"keys":              stdlib.KeysFunc,
	"length":            stdlib.LengthFunc,
	"log":               stdlib.LogFunc,
	"lookup":            stdlib.LookupFunc,
	"lower":             stdlib.LowerFunc,
	"max":               stdlib.MaxFunc,
	"merge":             stdlib.MergeFunc,
	"min":               stdlib.MinFunc,
	"parseint":          stdlib.ParseIntFunc,
	"pow":               stdlib.PowFunc,
	"range":             stdlib.RangeFunc,
	"regex":             stdlib.RegexFunc,
	"regexall":          stdlib.RegexAllFunc,
	"regex_replace":     boundedRegexReplaceFunc,
	"replace":           boundedReplaceFunc,
	"reverse":           stdlib.ReverseListFunc,
	"semver_intersects": semverIntersectsFunc,
	"semver_major":      semverMajorFunc,
	"semver_minor":      semverMinorFunc,
	"semver_patch":      semverPatchFunc,
	"semver_satisfies":  semverSatisfiesFunc,
	"semver_sort":       semverSortFunc,
	"setintersection":   stdlib.SetIntersectionFunc,
	"setproduct":        boundedSetProductFunc,
	"setsubtract":       stdlib.SetSubtractFunc,
	"setunion":          stdlib.SetUnionFunc,
	"signum":            stdlib.SignumFunc,
	"slice":             stdlib.SliceFunc,
	"sort":              stdlib.SortFunc,
	"split":             stdlib.SplitFunc,
	"startswith":        startsWithFunc,
	"strcontains":       strContainsFunc,
	"strlen":            stdlib.StrlenFunc,
	"strrev":            stdlib.ReverseFunc,
	"substr":            stdlib.SubstrFunc,
	"title":             stdlib.TitleFunc,
	"tobool":            stdlib.MakeToFunc(cty.Bool),
	"tolist":            stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
	"tomap":             stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
	"tonumber":          stdlib.MakeToFunc(cty.Number),
	"toset":             stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
	"tostring":          stdlib.MakeToFunc(cty.String),
	"trim":              stdlib.TrimFunc,
	"trimprefix":        stdlib.TrimPrefixFunc,
	"trimspace":         stdlib.TrimSpaceFunc,
	"trimsuffix":        stdlib.TrimSuffixFunc,
	"try":               tryfunc.TryFunc,
	"upper":             stdlib.UpperFunc,
	"values":            stdlib.ValuesFunc,
	"zipmap":            stdlib.ZipmapFunc,
}

// stringPredicate makes a function of two strings returning a bool, as Terraform's
// startswith, endswith and strcontains.
func stringPredicate(first, second string, pred func(s, x string) bool) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{
			{Name: first, Type: cty.String},
			{Name: second, Type: cty.String},
		},
		Type:         function.StaticReturnType(cty.Bool),
		RefineResult: notNull,
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.BoolVal(pred(args[0].AsString(), args[1].AsString())), nil
		},
	})
}

var (
	startsWithFunc  = stringPredicate("str", "prefix", strings.HasPrefix)
	endsWithFunc    = stringPredicate("str", "suffix", strings.HasSuffix)
	strContainsFunc = stringPredicate("str", "substr", strings.Contains)
)
