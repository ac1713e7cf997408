#!/usr/bin/env bash
# Everything a fresh machine needs before matrix can build or be tested: a Docker
# engine and, where no image registry is reachable, the local stand-in images.
# Idempotent; on a laptop where Docker runs and the images exist it does nothing.
# Usage: scripts/setup.sh [NODE_MAJOR...]   (default: 20 22 24)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
scripts/engine.sh
scripts/images.sh "$@"
