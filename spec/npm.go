package spec

import (
	"context"
	"errors"
	"maps"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/matrixbuild/matrix/registry"
	"github.com/matrixbuild/matrix/semver"
)

// The registry functions are the only ones that reach outside the file: the Resolver
// answers them, from matrix.lock.json or the npm registry.
const (
	npmVersionsName = "npm_versions"
	npmPackageName  = "npm_package"
)

func isRegistryFunction(name string) bool {
	return name == npmVersionsName || name == npmPackageName
}

// bind is the context expressions are evaluated in during one Load or Plan call: a
// child of f.ctx (var and local) with every function, the registry functions bound
// to ctx, the call's context, which must not outlive the call. (HCL looks a function
// up through parent contexts too, but suggests names only from the context itself.)
func (f *File) bind(ctx context.Context) *hcl.EvalContext {
	eval := f.ctx.NewChild()
	eval.Functions = maps.Clone(functions)
	eval.Functions[npmVersionsName] = npmVersionsFunc(ctx, f.resolver)
	eval.Functions[npmPackageName] = npmPackageFunc(ctx, f.resolver)
	return eval
}

// errNoResolver is a registry function called where the command gives no Resolver.
var errNoResolver = errors.New("this command does not resolve registry functions (no resolver)")

// npmVersionsFunc is npm_versions(package, range[, options]): the versions of package
// that satisfy range, ascending; options as versionOptions reads them.
func npmVersionsFunc(ctx context.Context, r Resolver) function.Function {
	return function.New(&function.Spec{
		Description: "The published versions of an npm package that satisfy a node-semver range, ascending.",
		Params: []function.Parameter{
			{Name: "package", Type: cty.String},
			{Name: "range", Type: cty.String},
		},
		// A bare null has no type: AllowDynamicType lets it reach Impl, as no options.
		VarParam:     &function.Parameter{Name: "options", Type: cty.DynamicPseudoType, AllowNull: true, AllowDynamicType: true},
		Type:         function.StaticReturnType(cty.List(cty.String)),
		RefineResult: notNull,
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if len(args) > 3 {
				return cty.NilVal, function.NewArgErrorf(3, "npm_versions takes at most 3 arguments: package, range and options")
			}
			var opts registry.Options
			if len(args) == 3 {
				if !args[2].IsWhollyKnown() {
					return cty.UnknownVal(cty.List(cty.String)), nil // a variable's problem, reported
				}
				var err error
				if opts, err = versionOptions(args[2]); err != nil {
					return cty.NilVal, function.NewArgError(2, err)
				}
			}
			pkg, rng := args[0].AsString(), args[1].AsString()
			if err := registry.ValidName(pkg); err != nil {
				return cty.NilVal, function.NewArgError(0, err)
			}
			if _, err := semver.ParseRange(rng); err != nil {
				return cty.NilVal, function.NewArgError(1, err)
			}
			if r == nil {
				return cty.NilVal, errNoResolver
			}
			versions, err := r.Versions(ctx, pkg, rng, opts)
			if err != nil {
				return cty.NilVal, placeResolverError(err, len(args))
			}
			return stringList(versions), nil
		},
	})
}

// packageType is npm_package's result: always the same object type, so that
// .engines and the other attributes type-check whatever the package declares.
var packageType = cty.Object(map[string]cty.Type{
	"version":    cty.String,
	"engines":    cty.Map(cty.String),
	"os":         cty.List(cty.String),
	"cpu":        cty.List(cty.String),
	"libc":       cty.List(cty.String),
	"deprecated": cty.String,
	"integrity":  cty.String,
	"published":  cty.String,
})

// npmPackageFunc is npm_package(package, version): what the registry says of one
// version (see packageValue).
func npmPackageFunc(ctx context.Context, r Resolver) function.Function {
	return function.New(&function.Spec{
		Description: "What the npm registry says of one version of a package: engines, os, cpu, libc, deprecated, integrity, published.",
		Params: []function.Parameter{
			{Name: "package", Type: cty.String},
			{Name: "version", Type: cty.String},
		},
		Type:         function.StaticReturnType(packageType),
		RefineResult: notNull,
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			pkg, version := args[0].AsString(), args[1].AsString()
			if err := registry.ValidName(pkg); err != nil {
				return cty.NilVal, function.NewArgError(0, err)
			}
			if _, err := semver.Parse(version); err != nil {
				return cty.NilVal, function.NewArgError(1, err)
			}
			if r == nil {
				return cty.NilVal, errNoResolver
			}
			info, err := r.Package(ctx, pkg, version)
			if err != nil {
				return cty.NilVal, placeResolverError(err, len(args))
			}
			return packageValue(info), nil
		},
	})
}

// packageValue is info as npm_package gives it: engines as the package declares them
// (a package without engines.node has no "node" key, which
// lookup(npm_package(...).engines, "node", "*") reads as npm does), lists empty when
// absent, deprecated "" when not, published in RFC 3339 at UTC, to the second (""
// when the registry gives no time), so that it reads the same from the lock.
func packageValue(info registry.PackageInfo) cty.Value {
	engines := cty.MapValEmpty(cty.String)
	if len(info.Engines) > 0 {
		m := make(map[string]cty.Value, len(info.Engines))
		for k, v := range info.Engines {
			m[k] = cty.StringVal(v)
		}
		engines = cty.MapVal(m)
	}
	published := ""
	if !info.Published.IsZero() {
		published = info.Published.UTC().Format(time.RFC3339)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"version":    cty.StringVal(info.Version),
		"engines":    engines,
		"os":         stringList(info.OS),
		"cpu":        stringList(info.CPU),
		"libc":       stringList(info.Libc),
		"deprecated": cty.StringVal(info.Deprecated),
		"integrity":  cty.StringVal(info.Integrity),
		"published":  cty.StringVal(published),
	})
}

// placeResolverError makes an error the Resolver returned for a call with nargs
// arguments an error of the argument it is about, so that the diagnostic points
// there: the package (unknown, or not a name), the range or version (nothing
// matches), the options. Any other error (the registry unreachable, a call not in
// the lock under --locked) is about the call.
func placeResolverError(err error, nargs int) error {
	var notFound *registry.NotFoundError
	var noMatch *registry.NoMatchError
	var noVersion *registry.VersionError
	switch {
	case errors.As(err, &notFound), errors.Is(err, registry.ErrInvalidName):
		return function.NewArgError(0, err)
	case errors.As(err, &noMatch), errors.As(err, &noVersion):
		return function.NewArgError(1, err)
	case errors.Is(err, registry.ErrInvalidOption) && nargs > 2:
		return function.NewArgError(2, err)
	}
	return err
}

func stringList(ss []string) cty.Value {
	if len(ss) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	vals := make([]cty.Value, len(ss))
	for i, s := range ss {
		vals[i] = cty.StringVal(s)
	}
	return cty.ListVal(vals)
}

func notNull(b *cty.RefinementBuilder) *cty.RefinementBuilder { return b.NotNull() }
