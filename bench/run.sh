#!/usr/bin/env bash
# Measures matrix against the seed's shell recipe in the same run, on the same cells:
# sharp {0.33.5, 0.34.5} x node {20, 22}, offline overrides; matrix with a cold npm
# cache (like the seed) and with the warm cache of its earlier runs.
# Prints a Markdown table for BENCHMARKS.md. Usage: bench/run.sh [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
export PATH=/usr/local/go/bin:$PATH
repeats=${1:-3}
scripts/setup.sh 20 22 >&2
tmp=$(mktemp -d /tmp/matrix-bench.XXXXXX)
trap 'rm -rf "$tmp"; docker volume rm -f "matrix-cache-$cache" >/dev/null 2>&1 || true' EXIT
go build -ldflags "-X main.version=$(git describe --always --dirty 2>/dev/null || echo dev)" -o "$tmp/matrix" ./cmd/matrix
# bench/matrix.hcl: the seed's cells (one install per sharp version and Node.js major),
# written with the npm block; no lock file beside it, so every run resolves as the seed does.
cp bench/matrix.hcl "$tmp/"
cd "$tmp"
cache=bench-run-$$
vars=(--var 'sharp_versions=["0.33.5","0.34.5"]' --var 'nodes=[20,22]' --var "npm_cache=$cache")

# time_cmd NAME CMD...: runs CMD $repeats times into fresh directories, prints the median.
time_cmd() {
  local name=$1; shift
  local times=() i t0 t1
  for i in $(seq 1 "$repeats"); do
    rm -rf "$tmp/o"
    # Resolving as the seed does: the lock the runs record is used only by -locked ones.
    [ "$name" != "${name%locked*}" ] || rm -f "$tmp/matrix.lock.json"
    [ "$name" = "${name%-cold}" ] || docker volume rm -f "matrix-cache-$cache" >/dev/null
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
    t1=$(date +%s.%N)
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')")
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (repeats + 1) / 2 ))p")
  echo "$name $median ${times[*]}"
}

{
  time_cmd seed-j1 "$repo/bench/seed.sh" "$tmp/o" 1
  time_cmd seed-j4 "$repo/bench/seed.sh" "$tmp/o" 4
  # -cold: the npm cache volume is removed before each run, as the seed has no cache.
  time_cmd matrix-j1-notest-cold "$tmp/matrix" run -q -j 1 --skip-tests "${vars[@]}" --out "$tmp/o" matrix.hcl
  time_cmd matrix-j4-notest-cold "$tmp/matrix" run -q -j 4 --skip-tests "${vars[@]}" --out "$tmp/o" matrix.hcl
  time_cmd matrix-j4-test-cold "$tmp/matrix" run -q -j 4 "${vars[@]}" --out "$tmp/o" matrix.hcl
  # warm: the cache the previous runs filled, as on a maintainer's second run.
  time_cmd matrix-j4-notest-warm "$tmp/matrix" run -q -j 4 --skip-tests "${vars[@]}" --out "$tmp/o" matrix.hcl
  time_cmd matrix-j4-test-warm "$tmp/matrix" run -q -j 4 "${vars[@]}" --out "$tmp/o" matrix.hcl
  time_cmd matrix-j4-locked-warm "$tmp/matrix" run -q -j 4 --locked "${vars[@]}" --out "$tmp/o" matrix.hcl
} | tee "$tmp/results" >&2

base1=$(awk '$1=="seed-j1"{print $2}' "$tmp/results")
base4=$(awk '$1=="seed-j4"{print $2}' "$tmp/results")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2fx", a/b}'; }
echo "| command | median s | runs (s) | speed-up vs seed one at a time | vs seed four at a time |"
echo "|---|---|---|---|---|"
while read -r name median rest; do
  printf '| %s | %.1f | %s | %s | %s |\n' "$name" "$median" "$rest" "$(ratio "$base1" "$median")" "$(ratio "$base4" "$median")"
done < "$tmp/results"
