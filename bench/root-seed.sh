#!/usr/bin/env bash
# The root matrix against the seed's recipe over the same cells, in one run:
#   seed:   one `docker run` per (sharp, Node.js, CPU) of the root matrix, JOBS at a
#           time, `npm install sharp@V` and `tar -czhf`, untested; an arm64 cell in the
#           arm64 image, under emulation on an x64 machine, as the seed would run it;
#   matrix: `matrix run --locked` of the root matrix.hcl (offline.hcl): one artifact
#           per (sharp, CPU), cross-built, tested on every runtime (arm64 under
#           emulation); no npm cache (npm_cache = false), cold as the seed.
# Prints a Markdown table for BENCHMARKS.md. Usage: bench/root-seed.sh [JOBS]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
jobs=${1:-4}
scripts/setup.sh --arm64 20 22 24 >&2
tmp=$(mktemp -d /tmp/matrix-bench-rootseed.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/matrix" ./cmd/matrix
cp matrix.hcl matrix.lock.json offline.hcl "$tmp/"

# The root matrix's sharp versions, as its lock pins them (its artifacts' names).
versions=$(node -e 'const l = require(process.argv[1]);
  const v = new Set(Object.keys(l.cells).map((n) => n.split("-")[1]));
  console.log([...v].sort().join(" "));' "$tmp/matrix.lock.json")

seed_cell() {
  local v=$1 n=$2 arch=$3 image=local/node:$2 platform=linux/amd64
  if [ "$arch" = arm64 ]; then image=local/node:$n-arm64 platform=linux/arm64; fi
  docker run --rm --network host --platform "$platform" \
    -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/matrix-ca.crt:ro \
    -e NODE_EXTRA_CA_CERTS=/etc/ssl/certs/matrix-ca.crt \
    -v "$tmp/seed:/out" "$image" sh -c "
      set -e; mkdir -p /build && cd /build
      npm install --no-audit --no-fund --omit=dev sharp@$v >/dev/null
      tar --no-xattrs --hard-dereference -czhf /out/sharp-$v-node$n-linux-$arch.tar.gz node_modules"
}
export -f seed_cell
export tmp
cells=()
for v in $versions; do for n in 20 22 24; do for a in x64 arm64; do cells+=("$v $n $a"); done; done; done
mkdir -p "$tmp/seed"

load() { cut -d' ' -f1 /proc/loadavg; }
t0=$(date +%s.%N) l0=$(load)
printf '%s\n' "${cells[@]}" | xargs -P "$jobs" -L 1 bash -c 'seed_cell "$@"' seed_cell
t1=$(date +%s.%N)
seed=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')
echo "seed: ${#cells[@]} cells, $jobs at a time, untested: $seed s (load $l0)" >&2

t0=$(date +%s.%N) l1=$(load)
"$tmp/matrix" run -q --locked --var-file "$tmp/offline.hcl" --var npm_cache=false -j "$jobs" --out "$tmp/out" "$tmp/matrix.hcl" > "$tmp/matrix.txt"
t1=$(date +%s.%N)
m=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')
summary=$(tail -n 1 "$tmp/matrix.txt")
echo "matrix: $m s (load $l1): $summary" >&2

echo "| | cells | builds | tests | seconds | load at start | / seed |"
echo "|---|---|---|---|---|---|---|"
echo "| seed loop, $jobs at a time, untested | ${#cells[@]} | ${#cells[@]} | 0 | $seed | $l0 | 1.00 |"
echo "| matrix run --locked -j $jobs, no npm cache | ${#cells[@]} | $(grep -c . "$tmp/out/SHA256SUMS") | $(node -e 'const m = require(process.argv[1]); console.log(m.artifacts.reduce((n, a) => n + (a.tests || []).filter((t) => t.passed).length, 0));' "$tmp/out/manifest.json") | $m | $l1 | $(awk -v a="$m" -v b="$seed" 'BEGIN{printf "%.2f", a/b}') |"
