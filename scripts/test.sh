#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up, vet, unit and Docker integration tests
# with the race detector, then the end-to-end build of real sharp versions.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
scripts/setup.sh 20 22
echo "== go vet, staticcheck (staticcheck.conf; its version is pinned in go.mod)"
go vet ./...
go tool staticcheck ./...
echo "== go test -race"
# The Docker integration tests fail, never skip, when no engine answers; the registry
# client's test fails when the npm registry cannot be reached.
MATRIX_REQUIRE_DOCKER=1 MATRIX_REQUIRE_REGISTRY=1 MATRIX_TEST_ENGINE_RESTART=1 MATRIX_TEST_SECOND_ENGINE=1 go test -race -count=1 -timeout 20m ./...
echo "== end to end"
scripts/e2e.sh
