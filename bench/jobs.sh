#!/usr/bin/env bash
# What --jobs should default to: `matrix run` of 12 cells (sharp {0.33.5, 0.34.5,
# 0.35.5} x node {20, 22} x 2 copies of each install, bench/matrix.hcl), tested, at
# each of JOBS cells at a time, cold (the npm cache volume removed first: downloads
# dominate) and warm (the cache of the cold run: npm's CPU work dominates). Within a
# repeat every setting runs once, in turn, so that they share the machine's load;
# prints the medians as a Markdown table with each one's ratio to -j 4.
# Usage: [CACHES="cold warm"] [SHARP='"0.33.5","0.34.5","0.35.5"'] bench/jobs.sh [REPEATS] [JOBS...]
# (default: 3, 1 2 4 8; fewer caches or versions for a quicker answer)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
repeats=${1:-3}
shift || true
jobs=("$@")
[ ${#jobs[@]} -gt 0 ] || jobs=(1 2 4 8)
scripts/setup.sh 20 22 >&2
tmp=$(mktemp -d /tmp/matrix-bench.XXXXXX)
trap 'rm -rf "$tmp"; docker volume rm -f "matrix-cache-$cache" >/dev/null 2>&1 || true' EXIT
go build -ldflags "-X main.version=$(git describe --always --dirty 2>/dev/null || echo dev)" -o "$tmp/matrix" ./cmd/matrix
cp bench/matrix.hcl "$tmp/"
cd "$tmp"
cache=bench-jobs-$$
vars=(--var "sharp_versions=[${SHARP:-\"0.33.5\",\"0.34.5\",\"0.35.5\"}]" --var 'nodes=[20,22]' --var 'copies=[0,1]' --var "npm_cache=$cache")
: >results
for i in $(seq 1 "$repeats"); do
  for j in "${jobs[@]}"; do
    for cache in ${CACHES:-cold warm}; do
      rm -rf o matrix.lock.json
      [ "$cache" = warm ] || docker volume rm -f "matrix-cache-$cache" >/dev/null
      l=$(cut -d' ' -f1 /proc/loadavg)
      t0=$(date +%s.%N)
      ./matrix run -q -j "$j" "${vars[@]}" --out o matrix.hcl >/dev/null 2>err || { cat err >&2; exit 1; }
      t1=$(date +%s.%N)
      t=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')
      echo "$cache $j $t $l" | tee -a results >&2
    done
  done
done
echo "| -j | cold: median s | runs (s) | load at each start | ratio to -j 4 | warm: median s | runs (s) | load at each start | ratio to -j 4 |"
echo "|---|---|---|---|---|---|---|---|---|"
python3 - "$repeats" "${jobs[@]}" <<'PY'
import sys, statistics, collections
runs = collections.defaultdict(list)
for l in open("results"):
    cache, j, t, load = l.split()
    runs[cache, int(j)].append((float(t), load))
js = [int(j) for j in sys.argv[2:]]
med = {k: statistics.median(t for t, _ in v) for k, v in runs.items()}
for j in js:
    row = [f"{j}"]
    for cache in ("cold", "warm"):
        if (cache, j) not in runs:
            row += ["-"] * 4
            continue
        v = runs[cache, j]
        base = med.get((cache, 4))
        row += [f"{med[cache, j]:.1f}", " ".join(f"{t:.1f}" for t, _ in v), " ".join(l for _, l in v), f"{med[cache, j] / base:.2f}" if base else "-"]
    print("| " + " | ".join(row) + " |")
PY
