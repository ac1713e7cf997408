#!/usr/bin/env bash
# The seed's shell recipe, the reference to beat: one `docker run` per cell doing
# `npm install sharp@V` and `tar --hard-dereference -czhf`, JOBS cells at a time.
# Usage: bench/seed.sh OUTDIR JOBS; SEED_CELLS, one "VERSION NODE [COPY]" a line, names
# other cells than the default four (a COPY makes another artifact of the same install).
set -euo pipefail
out=$1 jobs=$2
mkdir -p "$out"
out=$(cd "$out" && pwd)
cell() {
  local v=$1 n=$2 c=${3:+-$3}
  docker run --rm --network host \
    -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/matrix-ca.crt:ro \
    -e NODE_EXTRA_CA_CERTS=/etc/ssl/certs/matrix-ca.crt \
    -v "$out:/out" "local/node:$n" sh -c "
      set -e; mkdir -p /build && cd /build
      npm install --no-audit --no-fund --omit=dev sharp@$v >/dev/null
      tar --no-xattrs --hard-dereference -czhf /out/sharp-$v-node$n$c-linux-x64.tar.gz node_modules"
}
export -f cell
export out
printf '%s\n' "${SEED_CELLS:-0.33.5 20
0.33.5 22
0.34.5 20
0.34.5 22}" | xargs -P "$jobs" -L 1 bash -c 'cell "$@"' cell
