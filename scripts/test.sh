#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up, vet, unit and Docker integration tests
# with the race detector, then the end-to-end build of real sharp versions.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
scripts/setup.sh 20 22 24
# The arm64 integration test builds and tests in local/node:22-arm64 under emulation,
# and the end-to-end run of the whole root matrix tests in local/node:{20,22,24}-arm64
# (the arm64 Debian takes about 4 minutes to build, once).
scripts/images.sh --arm64 20 22 24
# The semver package's differential test asks the npm semver package, run by the
# host's node, for every answer: installed once, outside the repository; without it
# (or without node) the test fails.
export MATRIX_NODE_SEMVER="${XDG_CACHE_HOME:-$HOME/.cache}/matrix/node-semver-7.8.6"
if [ ! -f "$MATRIX_NODE_SEMVER/node_modules/semver/package.json" ]; then
	echo "== npm install semver@7.8.6 into $MATRIX_NODE_SEMVER"
	npm install --prefix "$MATRIX_NODE_SEMVER" semver@7.8.6 --no-save --no-audit --no-fund
fi
export MATRIX_REQUIRE_NODE=1
echo "== go vet, staticcheck (staticcheck.conf; its version is pinned in go.mod)"
go vet ./...
go tool staticcheck ./...
echo "== matrix fmt -check (the repository's own HCL files; spec/testdata/bad and fmt are bad on purpose)"
go run ./cmd/matrix fmt -check matrix.hcl offline.hcl bench testdata/e2e spec/testdata/matrix.hcl spec/testdata/offline.hcl
echo "== go test -race"
# The Docker integration tests fail, never skip, when no engine answers; the registry
# client's test fails when the npm registry cannot be reached; the report's browser
# test fails without chromium (its screenshots go to MATRIX_ARTIFACTS_DIR when set).
MATRIX_REQUIRE_CHROMIUM=1 MATRIX_REQUIRE_DOCKER=1 MATRIX_REQUIRE_REGISTRY=1 MATRIX_TEST_ENGINE_RESTART=1 MATRIX_TEST_SECOND_ENGINE=1 go test -race -count=1 -timeout 20m ./...
echo "== end to end"
scripts/e2e.sh
