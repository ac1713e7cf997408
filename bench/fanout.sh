#!/usr/bin/env bash
# Measures fan-out on one machine, in one invocation: bench/matrix.hcl's 4 cells
# (sharp {0.33.5, 0.34.5} x node {20, 22}, built and tested) on one engine, on two
# engines (a second dockerd beside the first, as CI starts it), and as two shards (one
# per engine, two processes at once, each a checkout of its own) joined by matrix merge.
# A warm-up run on each engine fills its npm cache and records the lock first.
# Needs root and dockerd (scripts/setup.sh). Prints a Markdown table for BENCHMARKS.md.
# Usage: bench/fanout.sh [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
repeats=${1:-1}
scripts/setup.sh 20 22 >&2
tmp=$(mktemp -d /tmp/matrix-fanout.XXXXXX)
d2=$tmp/d2
e1=${DOCKER_HOST:-unix:///var/run/docker.sock}
e2=unix://$d2/docker.sock
cleanup() {
  docker -H "$e2" ps -aq 2>/dev/null | xargs -r docker -H "$e2" rm -f >/dev/null 2>&1 || true
  [ -f "$d2/docker.pid" ] && kill "$(cat "$d2/docker.pid")" 2>/dev/null && sleep 3
  umount "$d2/exec/netns/default" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
go build -o "$tmp/matrix" ./cmd/matrix
mkdir -p "$d2"
setsid dockerd --host "$e2" --data-root "$d2/data" --exec-root "$d2/exec" --pidfile "$d2/docker.pid" \
  --bridge=none --iptables=false --ip-forward=false --ip-masq=false >"$d2/log" 2>&1 &
for _ in $(seq 100); do docker -H "$e2" info >/dev/null 2>&1 && break; sleep 0.2; done
for img in local/node:20 local/node:22; do docker save "$img" | docker -H "$e2" load >/dev/null; done

cp bench/matrix.hcl "$tmp/"
cd "$tmp"
m=$tmp/matrix
# warm-up: each engine's npm cache volume, and matrix.lock.json beside the file.
"$m" run -q --engine "$e1" --out "$tmp/w1" matrix.hcl >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
"$m" run -q --engine "$e2" --out "$tmp/w2" matrix.hcl >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }

shards() {
  rm -rf "$tmp/s1" "$tmp/s2" "$tmp/c1" "$tmp/c2" "$tmp/o"
  mkdir -p "$tmp/c1" "$tmp/c2"
  for c in c1 c2; do cp matrix.hcl matrix.lock.json "$tmp/$c/"; done
  "$m" run -q --engine "$e1" --var 'nodes=[20]' --out "$tmp/s1" "$tmp/c1/matrix.hcl" >/dev/null 2>"$tmp/err1" &
  local p1=$!
  "$m" run -q --engine "$e2" --var 'nodes=[22]' --out "$tmp/s2" "$tmp/c2/matrix.hcl" >/dev/null 2>"$tmp/err2" &
  local p2=$!
  wait "$p1" || { cat "$tmp/err1" >&2; return 1; }
  wait "$p2" || { cat "$tmp/err2" >&2; return 1; }
  cp "$tmp/c1/matrix.lock.json" "$tmp/s1/"
  cp "$tmp/c2/matrix.lock.json" "$tmp/s2/"
  "$m" merge --file matrix.hcl "$tmp/o" "$tmp/s1" "$tmp/s2" >/dev/null
}

# time_cmd NAME CMD...: runs CMD $repeats times into a fresh out, prints the median.
time_cmd() {
  local name=$1; shift
  local times=() t0 t1
  for _ in $(seq 1 "$repeats"); do
    rm -rf "$tmp/o"
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
    t1=$(date +%s.%N)
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')")
  done
  echo "$name $(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (repeats + 1) / 2 ))p") ${times[*]}"
  cp "$tmp/o/SHA256SUMS" "$tmp/sums-$name"
}

{
  time_cmd one-engine-j4 "$m" run -q -j 4 --engine "$e1" --out "$tmp/o" matrix.hcl
  time_cmd two-engines-j2 "$m" run -q -j 2 --engine "$e1" --engine "$e2" --out "$tmp/o" matrix.hcl
  time_cmd two-engines-j4 "$m" run -q -j 4 --engine "$e1" --engine "$e2" --out "$tmp/o" matrix.hcl
  time_cmd two-shards-merged shards
} | tee "$tmp/results" >&2

for f in "$tmp"/sums-*; do cmp -s "$f" "$tmp/sums-one-engine-j4" || { echo "SHA256SUMS differ: $f" >&2; exit 1; }; done
base=$(awk 'NR==1{print $2}' "$tmp/results")
echo "| command | median s | runs (s) | vs one engine |"
echo "|---|---|---|---|"
while read -r name median rest; do
  printf '| %s | %.1f | %s | %s |\n' "$name" "$median" "$rest" "$(awk -v a="$base" -v b="$median" 'BEGIN{printf "%.2fx", a/b}')"
done < "$tmp/results"
