package spec

import (
	"context"

	"github.com/matrixbuild/matrix/registry"
)

// Resolver answers the registry functions npm_versions and npm_package. The command
// gives one (package resolve: answers pinned in matrix.lock.json, the registry for
// the rest); it must be safe for concurrent use, as cells are evaluated in parallel.
// Without one, calling a registry function is an error at the call.
type Resolver interface {
	// Versions is npm_versions(pkg, rng, opts): the published versions of pkg that
	// satisfy the node-semver range rng, ascending, selected by opts.
	Versions(ctx context.Context, pkg, rng string, opts registry.Options) ([]string, error)
	// Package is npm_package(pkg, version).
	Package(ctx context.Context, pkg, version string) (registry.PackageInfo, error)
}
