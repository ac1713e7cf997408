#!/usr/bin/env bash
# The root matrix before and after "build once, test on many", in one run:
#   before: bench/root-18.hcl, 18 builds (sharp x Node.js major x arch, arm64 built under
#           emulation in its runtime's image), each tested in its own runtime: 18 tests;
#   after:  matrix.hcl, 6 builds (sharp x arch, cross-built at native speed with npm
#           --cpu), each tested on every runtime: 18 tests (arm64 under emulation).
# Each with a cold npm cache (the volume removed first) and then warm (the cache the
# cold run filled). Both resolve anew (no lock file beside them: npm install), with the
# offline overrides. Prints a Markdown table for BENCHMARKS.md, with the machine's load.
# Usage: bench/root.sh [REPEATS]   (default 1; the median is printed)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
export PATH=/usr/local/go/bin:$PATH
repeats=${1:-1}
scripts/setup.sh --arm64 20 22 24 >&2
tmp=$(mktemp -d /tmp/matrix-bench-root.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
go build -ldflags "-X main.version=$(git describe --always --dirty 2>/dev/null || echo dev)" -o "$tmp/matrix" ./cmd/matrix
cp matrix.hcl offline.hcl bench/root-18.hcl "$tmp/"
cd "$tmp"

# time_run NAME FILE: runs FILE $repeats times into fresh directories; prints the
# median, every run's seconds, the builds and tests the manifest records, and the
# 1-minute load average before and after each run.
time_run() {
  local name=$1 file=$2 times=() loads=() i t0 t1
  for i in $(seq 1 "$repeats"); do
    rm -rf "$tmp/o" "$tmp"/*.lock.json
    [ "$name" = "${name%-cold}" ] || docker volume rm -f matrix-cache-npm >/dev/null
    loads+=("$(cut -d' ' -f1 /proc/loadavg)")
    t0=$(date +%s.%N)
    "$tmp/matrix" run -q --var-file offline.hcl --out "$tmp/o" "$file" >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
    t1=$(date +%s.%N)
    loads[-1]+="-$(cut -d' ' -f1 /proc/loadavg)"
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')")
  done
  local counts
  counts=$(node -e '
    const m = JSON.parse(require("fs").readFileSync(process.argv[1]));
    let t = 0;
    for (const a of m.artifacts) for (const x of a.tests || [a.test]) if (x && x.passed) t++;
    console.log(m.artifacts.length + " " + t);' "$tmp/o/manifest.json")
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (repeats + 1) / 2 ))p")
  echo "$name $median $counts $(IFS=,; echo "${times[*]}") $(IFS=,; echo "${loads[*]}")"
}

# The warm runs take the cache the cold run before them filled: both files install the
# same packages (sharp and @img/* for x64 and arm64), so after-cold warms before-warm as
# well as after-warm. BENCH_RUNS selects runs, e.g. "after-cold after-warm".
for run in ${BENCH_RUNS:-before-cold after-cold after-warm before-warm}; do
  case $run in
    before-*) time_run "$run" root-18.hcl ;;
    after-*) time_run "$run" matrix.hcl ;;
    *) echo "bench/root.sh: unknown run $run" >&2; exit 2 ;;
  esac
done | tee "$tmp/results" >&2

echo "| run | median s | builds | tests passed | runs (s) | load (1-min avg, before-after each run) |"
echo "|---|---|---|---|---|---|"
while read -r name median builds tests runs loads; do
  printf '| %s | %s | %s | %s | %s | %s |\n' "$name" "$median" "$builds" "$tests" "$runs" "$loads"
done < "$tmp/results"
echo
echo "$(nproc) cores; $(date -u +%FT%TZ); $(git -C "$repo" describe --always --dirty 2>/dev/null || echo dev)"
