#!/usr/bin/env bash
# The unchanged re-run against the seed's recipe, in the same invocation: 27 cells
# (sharp {0.33.5, 0.34.5, 0.35.5} x node {20, 22, 24} x 3 copies of each install,
# bench/matrix.hcl). The seed loops over them four at a time; matrix builds and tests
# them once (a plain run, which records the lock entries), then runs again with no
# flag, REPEATS times: that re-run must build nothing and start no container (counted
# in the engine's events by the run's label).
# Prints a Markdown table for BENCHMARKS.md. Usage: bench/rerun.sh [REPEATS [SEED_REPEATS]]
# (the seed's loop of 27 installs takes minutes: SEED_REPEATS, default REPEATS, may be less).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
export PATH=/usr/local/go/bin:$PATH
repeats=${1:-3}
seed_repeats=${2:-$repeats}
scripts/setup.sh 20 22 24 >&2
tmp=$(mktemp -d /tmp/matrix-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
go build -ldflags "-X main.version=$(git describe --always --dirty 2>/dev/null || echo dev)" -o "$tmp/matrix" ./cmd/matrix
cp bench/matrix.hcl "$tmp/"
cd "$tmp"
vars=(--var 'sharp_versions=["0.33.5","0.34.5","0.35.5"]' --var 'nodes=[20,22,24]' --var 'copies=[0,1,2]')
cells=""
for v in 0.33.5 0.34.5 0.35.5; do for n in 20 22 24; do
  cells+="$v $n"$'\n'"$v $n 1"$'\n'"$v $n 2"$'\n'
done; done
export SEED_CELLS=${cells%$'\n'}
ncells=$(printf '%s\n' "$SEED_CELLS" | wc -l)

median() { local v; v=$(sort -n); sed -n "$(( ($(wc -l <<<"$v") + 1) / 2 ))p" <<<"$v"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", b-a}'; }
load() { cut -d' ' -f1 /proc/loadavg; }

seed=() seedload=()
for _ in $(seq 1 "$seed_repeats"); do
  rm -rf "$tmp/seed"
  seedload+=("$(load)")
  t0=$(date +%s.%N)
  "$repo/bench/seed.sh" "$tmp/seed" 4 >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
  t1=$(date +%s.%N)
  seed+=("$(elapsed "$t0" "$t1")")
done
echo "seed-j4 ($ncells cells): ${seed[*]} (load ${seedload[*]})" >&2

t0=$(date +%s.%N)
"$tmp/matrix" run -q -j 4 "${vars[@]}" --out "$tmp/o" matrix.hcl >"$tmp/first" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
t1=$(date +%s.%N)
first=$(elapsed "$t0" "$t1")
echo "matrix first run: $first s; $(tail -1 "$tmp/first")" >&2

rerun=() rerunload=()
for _ in $(seq 1 "$repeats"); do
  rerunload+=("$(load)")
  since=$(date +%s.%N)
  t0=$(date +%s.%N)
  "$tmp/matrix" run -q "${vars[@]}" --out "$tmp/o" matrix.hcl >"$tmp/again" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
  t1=$(date +%s.%N)
  rerun+=("$(elapsed "$t0" "$t1")")
  grep -q "^0 built, $ncells reused, 0 failed" "$tmp/again" || { echo "bench: the re-run built cells:" >&2; cat "$tmp/again" "$tmp/err" >&2; exit 1; }
  id=$(sed -n 's/^matrix: run \([0-9a-f]*\):.*/\1/p' "$tmp/err")
  [ -n "$id" ] || { echo "bench: no run id in the re-run's output" >&2; cat "$tmp/err" >&2; exit 1; }
  n=$(docker events --since "$since" --until "$(date +%s.%N)" --filter type=container --filter event=create \
    --filter "label=org.matrixbuild.run=$id" --format '{{.ID}}' | wc -l)
  [ "$n" -eq 0 ] || { echo "bench: the re-run created $n container(s)" >&2; exit 1; }
done
echo "matrix re-run: ${rerun[*]} (load ${rerunload[*]})" >&2

s=$(printf '%s\n' "${seed[@]}" | median)
r=$(printf '%s\n' "${rerun[@]}" | median)
echo "| what ($ncells cells) | median s | runs (s) | load average at each start | ratio to the seed loop |"
echo "|---|---|---|---|---|"
echo "| seed loop, 4 at a time, untested | $s | ${seed[*]} | ${seedload[*]} | 1 |"
echo "| \`matrix run\` first run, 4 at a time, tested (once) | $first | $first | - | $(awk -v a="$first" -v b="$s" 'BEGIN{printf "%.2f", a/b}') |"
echo "| \`matrix run\` unchanged re-run, no flag: 0 built, 0 containers | $r | ${rerun[*]} | ${rerunload[*]} | $(awk -v a="$r" -v b="$s" 'BEGIN{printf "%.4f", a/b}') |"
