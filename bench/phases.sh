#!/usr/bin/env bash
# Where a cold run's time goes, against the floor: the bare installs. In the same
# invocation, REPEATS pairs, alternating:
#   bare:   one `docker run --rm` per cell of bench/matrix.hcl (the seed's four cells)
#           doing exactly the npm block's `npm install`, packing nothing, 4 at a time,
#           with an empty npm cache volume as matrix's cells have;
#   matrix: `matrix run -j 4 --skip-tests` of the same cells, cold npm cache (equal work).
# For every matrix run, the engine's events of the run's containers (by its label) give
# each cell's phases: create (create to start), install (start to exit: the script),
# after exit (exit to removal: copy-out, packing, lock files, removal); the cell's
# log gives the packing itself. Prints Markdown tables for BENCHMARKS.md.
# With BEFORE=<git revision>, each repeat also runs the matrix of that revision, after
# the bare installs and before this tree's: before/after in one run.
# Usage: [BEFORE=REV] bench/phases.sh [REPEATS] [MATRIX-RUN-FLAGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
export PATH=/usr/local/go/bin:$PATH
repeats=${1:-3}
shift || true
extra=("$@")
scripts/setup.sh 20 22 >&2
tmp=$(mktemp -d /tmp/matrix-bench.XXXXXX)
trap 'rm -rf "$tmp"; docker volume rm -f "matrix-cache-$cache" "$bare_cache" >/dev/null 2>&1 || true' EXIT
go build -ldflags "-X main.version=$(git describe --always --dirty 2>/dev/null || echo dev)" -o "$tmp/matrix" ./cmd/matrix
if [ -n "${BEFORE:-}" ]; then
  mkdir "$tmp/before-src"
  git archive "$BEFORE" | tar -x -C "$tmp/before-src"
  (cd "$tmp/before-src" && go build -o "$tmp/matrix-before" ./cmd/matrix)
fi
cp bench/matrix.hcl "$tmp/"
cd "$tmp"
cells=("0.33.5 20" "0.33.5 22" "0.34.5 20" "0.34.5 22")
cache=bench-phases-$$
extra+=(--var "npm_cache=$cache")

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b-a}'; }
load() { cut -d' ' -f1 /proc/loadavg; }

bare_cell() {
  local v=$1 n=$2 t0 t1
  t0=$(date +%s.%N)
  docker run --rm --network host -v "$bare_cache:/root/.npm" \
    -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/matrix-ca.crt:ro \
    -e NODE_EXTRA_CA_CERTS=/etc/ssl/certs/matrix-ca.crt "local/node:$n" sh -c "
      set -e; mkdir -p /build && cd /build
      npm install --no-audit --no-fund --omit=dev --cpu=x64 --os=linux --libc=glibc sharp@$v >/dev/null"
  t1=$(date +%s.%N)
  echo "sharp-$v-node$n-linux-x64.tar.gz $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')"
}
export -f bare_cell
# The bare installs get what matrix's cells get: an npm cache volume, empty at the
# start of each pair and shared by the four (npm writing its cache into the
# container's own layer instead is slower).
export bare_cache=bench-phases-bare-$$

: >"$tmp/pairs"
for i in $(seq 1 "$repeats"); do
  rm -rf o matrix.lock.json
  docker volume rm -f "matrix-cache-$cache" "$bare_cache" >/dev/null
  lb=$(load); t0=$(now)
  printf '%s\n' "${cells[@]}" | xargs -P 4 -L 1 bash -c 'bare_cell "$@"' bare >"$tmp/bare.$i"
  t1=$(now); bare=$(elapsed "$t0" "$t1")
  if [ -n "${BEFORE:-}" ]; then
    rm -rf o matrix.lock.json
    docker volume rm -f "matrix-cache-$cache" >/dev/null
    lbe=$(load); t0=$(now)
    "$tmp/matrix-before" run -q -j 4 --skip-tests "${extra[@]}" --out o matrix.hcl >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
    t1=$(now); before=$(elapsed "$t0" "$t1")
    echo "$i $bare $lb $before $lbe" >>"$tmp/before"
    rm -rf o matrix.lock.json
    docker volume rm -f "matrix-cache-$cache" >/dev/null
  fi
  lm=$(load); since=$(now)
  "$tmp/matrix" run -q -j 4 --skip-tests "${extra[@]}" --out o matrix.hcl >/dev/null 2>"$tmp/err.$i" || { cat "$tmp/err.$i" >&2; exit 1; }
  t2=$(now); m=$(elapsed "$since" "$t2")
  id=$(sed -n 's/^matrix: run \([0-9a-f]*\):.*/\1/p' "$tmp/err.$i")
  docker events --since "$since" --until "$(now)" --filter type=container --filter "label=org.matrixbuild.run=$id" \
    --format '{{.TimeNano}} {{.Action}} {{index .Actor.Attributes "org.matrixbuild.cell"}}' >"$tmp/events.$i"
  for f in o/logs/*.log; do
    a=$(basename "$f" .log)
    sed -n "s/.*into $a ([0-9]* bytes) in \([0-9.]*m\?s\);.*/$a \1/p" "$f"
  done >"$tmp/pack.$i"
  cp o/manifest.json "$tmp/manifest.$i"
  echo "$i $bare $lb $m $lm" >>"$tmp/pairs"
  echo "pair $i: bare $bare s (load $lb), matrix $m s (load $lm)" >&2
done

echo "| pair | bare installs, 4 at a time (s) | load | \`matrix run -j 4 --skip-tests\` (s) | load | matrix / bare |"
echo "|---|---|---|---|---|---|"
awk '{printf "| %s | %s | %s | %s | %s | %.2f |\n", $1, $2, $3, $4, $5, $4/$2}' "$tmp/pairs"
awk '{print $4/$2}' "$tmp/pairs" | sort -n | sed -n "$(( (repeats + 1) / 2 ))p" | xargs printf 'median matrix / bare: %.2f\n'
if [ -n "${BEFORE:-}" ]; then
  echo
  echo "Before ($BEFORE) and after in the same pairs:"
  echo
  echo "| pair | bare (s) | before (s) | load | before / bare | after (s) | after / bare | after / before |"
  echo "|---|---|---|---|---|---|---|---|"
  join "$tmp/before" "$tmp/pairs" | awk '{printf "| %s | %s | %s | %s | %.2f | %s | %.2f | %.2f |\n", $1, $2, $4, $5, $4/$2, $8, $8/$2, $8/$4}'
  join "$tmp/before" "$tmp/pairs" | awk '{print $4/$2, $8/$2, $8/$4}' >"$tmp/ratios"
  for k in 1 2 3; do cut -d' ' -f$k "$tmp/ratios" | sort -n | sed -n "$(( (repeats + 1) / 2 ))p"; done | paste -sd' ' |
    awk '{printf "medians: before / bare %.2f, after / bare %.2f, after / before %.2f\n", $1, $2, $3}'
fi
echo
echo "Per cell, pair $repeats (seconds; the bare install is the floor):"
echo
echo "| cell | bare install (floor) | matrix cell | create | install (script) | after exit: copy-out, pack, remove | of which packing | over the floor |"
echo "|---|---|---|---|---|---|---|---|"
python3 - "$tmp" "$repeats" <<'EOF'
import json, sys, re, collections
tmp, i = sys.argv[1], sys.argv[2]
bare = dict(l.split() for l in open(f"{tmp}/bare.{i}"))
pack = {}
for l in open(f"{tmp}/pack.{i}"):
    a, t = l.split()
    pack[a] = float(t[:-2]) / 1000 if t.endswith("ms") else float(t[:-1])
ev = collections.defaultdict(dict)
for l in open(f"{tmp}/events.{i}"):
    t, action, cell = l.rstrip("\n").split(" ", 2)
    ev[cell].setdefault(action, int(t) / 1e9)
m = json.load(open(f"{tmp}/manifest.{i}"))
cells = {}
for a in m["artifacts"]:
    axes = ",".join(f'{x["name"]}={x["value"]}' for x in a["axes"])
    cells[a["file"]] = (f'{a["target"]}[{axes}]', a["duration_seconds"])
for f, (name, total) in sorted(cells.items()):
    e = ev.get(name, {})
    def d(x, y):
        return f"{e[y]-e[x]:.2f}" if x in e and y in e else "-"
    b = float(bare.get(f, "nan"))
    print(f"| {f} | {b:.2f} | {total:.2f} | {d('create','start')} | {d('start','die')} | {d('die','destroy')} | {pack.get(f, float('nan')):.2f} | {total-b:+.2f} |")
EOF
