#!/usr/bin/env bash
# The main job on a machine without an image registry: set up, then build every cell
# of the root matrix.hcl, x64 and arm64 (built on x64 with npm --cpu, the arm64 ones
# tested under emulation on an x64 machine), with the
# offline overrides (offline.hcl) into ./out.
# Extra arguments go to `matrix run`, e.g. scripts/run-main.sh --jobs 2
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
scripts/setup.sh --arm64 20 22 24
go build -ldflags "-X main.version=$(git describe --always --dirty 2>/dev/null || echo dev)" -o bin/matrix ./cmd/matrix
exec bin/matrix run --var-file offline.hcl "$@" matrix.hcl
