#!/usr/bin/env bash
# End-to-end: build real sharp versions from the npm registry with the root matrix.hcl
# (offline overrides: local images, host networking, the host CA bundle), then check
# every artifact independently of the tool:
#   - the whole root matrix (x64 and arm64) rebuilt --locked from the checkout's
#     matrix.lock.json gives byte for byte the sha256s the lock records, and each
#     artifact passes its test on every runtime (arm64 under emulation); the same
#     matrix as 3 shards in 3 processes, joined by matrix merge, gives the same
#     SHA256SUMS;
#   - `matrix verify` passes;
#   - the tarball holds node_modules/sharp/package.json of the cell's version, and no
#     symlink or hard link;
#   - extracted into a fresh container of its node image, sharp loads and resizes a PNG;
#   - a second run into another directory, with the npm cache the first one filled,
#     gives byte-identical SHA256SUMS;
#   - after deleting the output, `matrix run --locked` (npm ci from the lock file the
#     first run recorded) gives byte-identical SHA256SUMS again;
#   - then a plain run into the same directory builds nothing;
#   - the statement lists sharp's tarball; matrix sign's signature verifies with
#     ssh-keygen -Y verify and matrix verify --key; verify --rebuild of one sharp cell
#     reproduces it bit for bit;
#   - SIGINT during npm install exits 130 and leaves nothing behind;
#   - a zip artifact unzips to nodejs/node_modules/sharp/... and loads;
#   - a deliberately broken cell (musl binaries, glibc runtime) fails its test with
#     the loader's error in the manifest;
#   - matrix update pins sharp's minors from the real registry; with the registry
#     unreachable, validate, plan and run --locked work from the lock; outdated is
#     current after update and names the newest version once the lock lacks it;
#   - native packages other than sharp written with the npm block and no shell
#     (@node-rs/argon2, two versions on two runtimes, and a @napi-rs/canvas layer zip)
#     build and pass their tests; a --locked rebuild gives byte-identical SHA256SUMS;
#     with one entry's recorded artifact_sha256 edited, the locked run fails naming
#     that artifact and the entries that differ;
#   - better-sqlite3 compiled from source (node-gyp) in local/node-build:22 with the
#     image's Node.js headers and no download, loads and runs a query in local/node:22,
#     which has no compiler; without npm_config_nodedir the same cell fails at the
#     headers' download.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH

if ! command -v unzip >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq unzip >/dev/null
fi

SHARP_VERSIONS=${SHARP_VERSIONS:-0.33.5 0.34.5}
NODES=${NODES:-20 22}
tmp=$(mktemp -d /tmp/matrix-e2e.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

list() { local IFS=,; echo "$*"; }
quoted() { local out="" v; for v in "$@"; do out+="${out:+,}\"$v\""; done; echo "[$out]"; }
# A copy of the matrix file, so the lock file it records lands in $tmp, not the checkout.
cp matrix.hcl offline.hcl "$tmp/"
spec="$tmp/matrix.hcl"
# x64 only here; the whole root matrix, arm64 too, is rebuilt from its lock below.
vars=(--var-file "$tmp/offline.hcl" --var 'archs=["x64"]' --var "sharp_versions=$(quoted $SHARP_VERSIONS)" --var "nodes=[$(list $NODES)]")

go build -ldflags "-X main.version=$(git describe --always --dirty 2>/dev/null || echo dev)" -o "$tmp/matrix" ./cmd/matrix
M="$tmp/matrix"
"$M" validate "${vars[@]}" "$spec"
"$M" plan "${vars[@]}" "$spec"

# The whole root matrix, x64 and arm64, from the checkout's matrix.lock.json: every
# cell built from its entry (arm64 ones cross-built at native speed with npm --cpu),
# each artifact tested on every runtime of its own CPU (arm64 under emulation), and
# SHA256SUMS byte for byte the artifact_sha256 the lock records.
root="$tmp/root"
mkdir -p "$root"
cp matrix.hcl matrix.lock.json offline.hcl "$root/"
start=$(date +%s)
"$M" run --quiet --locked --var-file "$root/offline.hcl" --out "$root/out" "$root/matrix.hcl"
echo "e2e: the root matrix, --locked, took $(( $(date +%s) - start )) s"
"$M" verify "$root/out"
node -e '
  const cells = JSON.parse(require("fs").readFileSync(process.argv[1])).cells;
  for (const name of Object.keys(cells).sort()) console.log(cells[name].artifact_sha256 + "  " + name);' "$root/matrix.lock.json" > "$root/SHA256SUMS.lock"
cmp "$root/SHA256SUMS.lock" "$root/out/SHA256SUMS" \
  || { echo "e2e: the --locked root matrix is not what matrix.lock.json records:" >&2; diff "$root/SHA256SUMS.lock" "$root/out/SHA256SUMS" >&2; exit 1; }
root_tests=$(node -e '
  const m = JSON.parse(require("fs").readFileSync(process.argv[1]));
  let n = 0, arm = 0;
  for (const a of m.artifacts) for (const t of a.tests || []) if (t.passed) { n++; if (t.image.platform === "linux/arm64") arm++; }
  console.log(m.artifacts.length + " " + n + " " + arm);' "$root/out/manifest.json")
[ "$root_tests" = "6 18 9" ] || { echo "e2e: root matrix: artifacts, passed tests, arm64 tests: $root_tests, want 6 18 9" >&2; exit 1; }
echo "e2e: the root matrix's 6 artifacts (3 arm64) rebuilt --locked byte for byte as matrix.lock.json records, 18 tests passed (9 under arm64 emulation)"

# The same matrix as three shards in three processes at once (as CI runners would run
# it), joined by matrix merge: the same SHA256SUMS as the one-process run, byte for
# byte, and the merged directory verifies. Tests are skipped here: they ran above.
start=$(date +%s)
pids=()
for k in 1 2 3; do
  "$M" run --quiet --locked --skip-tests --shard "$k/3" --var-file "$root/offline.hcl" --out "$root/shard$k" "$root/matrix.hcl" > "$root/shard$k.txt" 2>&1 &
  pids+=($!)
done
for k in 1 2 3; do
  wait "${pids[$((k-1))]}" || { echo "e2e: shard $k/3 of the root matrix failed:" >&2; cat "$root/shard$k.txt" >&2; exit 1; }
done
"$M" merge --locked --file "$root/matrix.hcl" --var-file "$root/offline.hcl" "$root/merged" "$root/shard1" "$root/shard2" "$root/shard3"
cmp "$root/out/SHA256SUMS" "$root/merged/SHA256SUMS" \
  || { echo "e2e: the merged shards differ from the one-process run:" >&2; diff "$root/out/SHA256SUMS" "$root/merged/SHA256SUMS" >&2; exit 1; }
"$M" verify "$root/merged"
echo "e2e: the root matrix as 3 shards in 3 processes, merged: the one-process run's SHA256SUMS byte for byte, verified ($(( $(date +%s) - start )) s)"
rm -rf "$root"

# The first run starts with a cold npm cache, the second with the cache the first
# filled: equal sums show that the cache changes no byte.
docker volume rm -f matrix-cache-npm >/dev/null
start=$(date +%s)
"$M" run --quiet "${vars[@]}" --out "$tmp/out1" "$spec"
echo "e2e: first run took $(( $(date +%s) - start )) s"
"$M" verify "$tmp/out1"

# One artifact per sharp version (x64 here), built once and tested by matrix on every
# runtime of NODES; here each is also loaded in every runtime independently.
want=$(echo $SHARP_VERSIONS | wc -w)
got=$(wc -l < "$tmp/out1/SHA256SUMS")
[ "$got" -eq "$want" ] || { echo "e2e: $got artifacts, want $want" >&2; exit 1; }
tested=$(node -e '
  const m = JSON.parse(require("fs").readFileSync(process.argv[1]));
  let n = 0;
  for (const a of m.artifacts) for (const t of a.tests || [a.test]) if (t && t.passed) n++;
  console.log(n);' "$tmp/out1/manifest.json")
[ "$tested" -eq $(( want * $(echo $NODES | wc -w) )) ] || { echo "e2e: $tested passed tests in the manifest, want one per artifact and runtime" >&2; exit 1; }

fails=0
for v in $SHARP_VERSIONS; do
  art="$tmp/out1/sharp-$v-linux-x64.tar.gz"
  [ -f "$art" ] || { echo "e2e: missing $art" >&2; fails=$((fails+1)); continue; }
  if tar -tvzf "$art" | grep -E '^[lh]' >/dev/null; then
    echo "e2e: $art holds links:" >&2; tar -tvzf "$art" | grep -E '^[lh]' | head >&2; fails=$((fails+1))
  fi
  got_version=$(tar -xzOf "$art" node_modules/sharp/package.json | sed -n 's/^  "version": "\(.*\)",$/\1/p')
  [ "$got_version" = "$v" ] || { echo "e2e: $art holds sharp $got_version, want $v" >&2; fails=$((fails+1)); }
  for n in $NODES; do
    cid=$(docker create --network host -w /t "local/node:$n" node -e '
      const sharp = require("sharp");
      sharp({ create: { width: 16, height: 16, channels: 3, background: "#0a0" } }).png().toBuffer()
        .then((png) => sharp(png).resize(4, 4).png().toBuffer({ resolveWithObject: true }))
        .then(({ info }) => {
          if (info.width !== 4 || info.height !== 4) throw new Error("resize gave " + info.width + "x" + info.height);
          console.log("sharp " + require("sharp/package.json").version + " resized a PNG to 4x4 on node " + process.version);
        })
        .catch((e) => { console.error(e); process.exit(1); });')
    gunzip -c "$art" | docker cp - "$cid:/t"
    if ! docker start -a "$cid"; then
      echo "e2e: $art does not load in local/node:$n" >&2; fails=$((fails+1))
    fi
    docker rm -f "$cid" >/dev/null
  done
done
[ "$fails" -eq 0 ] || { echo "e2e: $fails check(s) failed" >&2; exit 1; }

cp "$tmp/out1/SHA256SUMS" "$tmp/sums.first"
same_sums() {
  if ! cmp "$tmp/sums.first" "$1/SHA256SUMS"; then
    echo "e2e: $2: the artifacts differ from the first run's:" >&2
    diff "$tmp/sums.first" "$1/SHA256SUMS" >&2 || true
    exit 1
  fi
}
"$M" run --quiet "${vars[@]}" --out "$tmp/out2" "$spec"
same_sums "$tmp/out2" "second run"
echo "e2e: a second run reproduced every sha256"

locked=$(grep -c '"definition"' "$tmp/matrix.lock.json" || true)
[ "$locked" -eq "$want" ] || { echo "e2e: matrix.lock.json records $locked cells, want $want" >&2; exit 1; }
rm -rf "$tmp/out1" "$tmp/out2"
"$M" run --quiet --locked "${vars[@]}" --out "$tmp/out1" "$spec"
same_sums "$tmp/out1" "--locked rebuild"
echo "e2e: a --locked rebuild from matrix.lock.json reproduced every sha256"

# Nothing changed since and every cell is locked: a plain run keeps every artifact
# and builds nothing.
"$M" run --quiet "${vars[@]}" --out "$tmp/out1" "$spec" > "$tmp/reuse.txt"
grep -q "^0 built, $want reused, 0 failed" "$tmp/reuse.txt" || { echo "e2e: an unchanged re-run rebuilt cells:" >&2; cat "$tmp/reuse.txt" >&2; exit 1; }
same_sums "$tmp/out1" "unchanged re-run"
"$M" verify "$tmp/out1"
echo "e2e: an unchanged plain re-run built nothing and kept every artifact"

# Provenance: the statement names sharp's tarball by package URL; a signature made by
# matrix sign verifies with ssh-keygen and matrix verify --key; one real sharp cell
# rebuilt by verify --rebuild reproduces bit for bit.
first=${SHARP_VERSIONS%% *}
grep -q "\"pkg:npm/sharp@$first\"" "$tmp/out1/provenance.intoto.jsonl" || { echo "e2e: the statement does not list sharp@$first" >&2; exit 1; }
ssh-keygen -q -t ed25519 -N "" -C e2e -f "$tmp/key"
"$M" sign --key "$tmp/key" "$tmp/out1"
echo "e2e@matrix $(cat "$tmp/key.pub")" > "$tmp/allowed_signers"
ssh-keygen -Y verify -f "$tmp/allowed_signers" -I e2e@matrix -n matrix-provenance-v1 \
  -s "$tmp/out1/provenance.intoto.jsonl.sig" < "$tmp/out1/provenance.intoto.jsonl"
"$M" verify --key "$tmp/key.pub" "$tmp/out1"
start=$(date +%s)
"$M" verify --rebuild --file "$spec" "${vars[@]}" --cell "sharp-$first-linux-x64.tar.gz" "$tmp/out1" > "$tmp/rebuild.txt"
grep -q "^reproduced *sharp-$first-linux-x64.tar.gz" "$tmp/rebuild.txt" || { echo "e2e: verify --rebuild:" >&2; cat "$tmp/rebuild.txt" >&2; exit 1; }
echo "e2e: signed and verified the statement (ssh-keygen too); verify --rebuild reproduced sharp $first in $(( $(date +%s) - start )) s"

# SIGINT in the middle of npm install: exit 130, no container of the tool left, no
# partial file in the output directory.
"$M" run "${vars[@]}" --out "$tmp/int" "$spec" >/dev/null 2>"$tmp/int.err" &
pid=$!
for _ in $(seq 1 300); do  # until a build container runs (npm install takes seconds)
  [ -n "$(docker ps -q --filter label=org.matrixbuild.tool=matrix)" ] && break
  sleep 0.1
done
sleep 0.5
kill -INT "$pid"
code=0
wait "$pid" || code=$?
[ "$code" -eq 130 ] || { echo "e2e: SIGINT gave exit $code, want 130" >&2; cat "$tmp/int.err" >&2; exit 1; }
left=$(docker ps -aq --filter label=org.matrixbuild.tool=matrix)
[ -z "$left" ] || { echo "e2e: containers left after SIGINT: $left" >&2; exit 1; }
partial=$(find "$tmp/int" -name '.*' -type f ! -name .matrix.lock)
[ -z "$partial" ] || { echo "e2e: partial files left after SIGINT: $partial" >&2; exit 1; }
echo "e2e: SIGINT during npm install exited 130 and left no container and no partial file"

# A Lambda layer zip: nodejs/node_modules/..., loads in the runtime (matrix tests it
# the way Lambda loads layers; here unzip and node check it independently too).
"$M" run --quiet "${vars[@]}" --var format=zip --var 'sharp_versions=["0.34.5"]' --var 'nodes=[22]' --out "$tmp/zip" "$spec"
zip="$tmp/zip/sharp-0.34.5-linux-x64.zip"
mkdir -p "$tmp/unzipped"
(cd "$tmp/unzipped" && unzip -q "$zip")
[ -f "$tmp/unzipped/nodejs/node_modules/sharp/package.json" ] || { echo "e2e: $zip lacks nodejs/node_modules/sharp" >&2; exit 1; }
cid=$(docker create --network host -w /opt -e NODE_PATH=/opt/nodejs/node_modules local/node:22 \
  node -e 'require("sharp")({ create: { width: 4, height: 4, channels: 3, background: "#00f" } }).png().toBuffer().then(() => console.log("the layer zip loads"))')
(cd "$tmp/unzipped" && tar -c nodejs) | docker cp - "$cid:/opt"
docker start -a "$cid" || { docker rm -f "$cid" >/dev/null; echo "e2e: the layer zip does not load" >&2; exit 1; }
docker rm -f "$cid" >/dev/null

# A deliberately broken cell must fail its test with the loader's error.
if "$M" run --quiet --var ca_bundle=/etc/ssl/certs/ca-certificates.crt --out "$tmp/broken" testdata/e2e/broken.hcl; then
  echo "e2e: the broken cell passed its test" >&2; exit 1
fi
grep -q 'Could not load the \\"sharp\\" module using the linux-x64 runtime' "$tmp/broken/manifest.json" \
  || { echo "e2e: the broken cell's failure lacks the loader's error:" >&2; cat "$tmp/broken/manifest.json" >&2; exit 1; }
[ -z "$(ls "$tmp/broken"/*.tar.gz 2>/dev/null)" ] || { echo "e2e: the broken cell left an artifact" >&2; exit 1; }
echo "e2e: the broken cell failed its test with the loader's error, and left no artifact"

# The registry's answers pinned in the lock: update resolves sharp's minors on the real
# registry; then, with the registry unreachable for matrix itself (HTTPS_PROXY and
# npm_config_registry at a closed port; the build containers reach it as before),
# validate, plan and run --locked work from the lock alone and reproduce the builds;
# outdated is current right after update, and names the newest version once the lock's
# resolution lacks it.
reg="$tmp/registry"
mkdir -p "$reg"
cp offline.hcl "$reg/"
rvars=(--var-file "$reg/offline.hcl" --var 'archs=["x64"]' --var "nodes=[22]")
if grep -q '^variable "sharp_range"' matrix.hcl; then
  cp matrix.hcl "$reg/"
  rvars+=(--var "sharp_range=>=0.33.0 <0.35.0")
else  # a root file that lists its versions by hand
  sed 's|sharp = var.sharp_versions|sharp = npm_versions("sharp", ">=0.33.0 <0.35.0", { per = "minor" })|' matrix.hcl > "$reg/matrix.hcl"
fi
grep -q 'npm_versions("sharp"' "$reg/matrix.hcl" || { echo "e2e: the matrix file does not call npm_versions" >&2; exit 1; }
"$M" update "${rvars[@]}" "$reg/matrix.hcl"
pinned() {  # the versions the lock pins for the npm_versions call, one a line
  node -e 'for (const r of JSON.parse(require("fs").readFileSync(process.argv[1])).resolved)
             if (r.function === "npm_versions") console.log(r.versions.join("\n"))' "$reg/matrix.lock.json"
}
versions=$(pinned)
newest=$(echo "$versions" | tail -1)
{ [ "$(echo "$versions" | head -1)" = 0.33.5 ] && [[ "$newest" == 0.34.* ]]; } \
  || { echo "e2e: update pinned sharp versions: $versions" >&2; exit 1; }
"$M" run --quiet "${rvars[@]}" --out "$reg/out" "$reg/matrix.hcl" >/dev/null
offline=(env HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 npm_config_registry=http://127.0.0.1:9/)
"${offline[@]}" "$M" validate --locked "${rvars[@]}" "$reg/matrix.hcl"
"${offline[@]}" "$M" plan --locked "${rvars[@]}" "$reg/matrix.hcl" >/dev/null
"${offline[@]}" "$M" run --quiet --locked "${rvars[@]}" --out "$reg/out2" "$reg/matrix.hcl" >/dev/null
cmp "$reg/out/SHA256SUMS" "$reg/out2/SHA256SUMS" || { echo "e2e: the offline --locked run built other bytes" >&2; exit 1; }
"$M" outdated "${rvars[@]}" "$reg/matrix.hcl" || { echo "e2e: outdated right after update is not current" >&2; exit 1; }
node -e 'const fs = require("fs"), f = process.argv[1], lock = JSON.parse(fs.readFileSync(f));
         for (const r of lock.resolved) if (r.function === "npm_versions") r.versions.pop();
         fs.writeFileSync(f, JSON.stringify(lock, null, 2) + "\n")' "$reg/matrix.lock.json"
code=0
"$M" outdated "${rvars[@]}" "$reg/matrix.hcl" > "$reg/outdated.txt" || code=$?
[ "$code" -eq 1 ] && grep -q "^  +  $newest" "$reg/outdated.txt" \
  || { echo "e2e: outdated of a lock without sharp $newest: exit $code" >&2; cat "$reg/outdated.txt" >&2; exit 1; }
echo "e2e: update pinned sharp 0.33.5 and $newest; validate, plan and run --locked worked with the registry unreachable; outdated named $newest once the lock lacked it"

# The npm block, no shell: @node-rs/argon2 and a @napi-rs/canvas layer, whose locks list
# glibc and musl binaries alike (testdata/e2e/npm-packages.hcl). A plain run records
# the lock; a --locked rebuild must give the same bytes; an entry whose recorded
# sha256 is not what the rebuild gives must fail the locked run, naming the artifact.
np="$tmp/npm-packages"
mkdir -p "$np"
cp testdata/e2e/npm-packages.hcl "$np/"
"$M" run --quiet --out "$np/out1" "$np/npm-packages.hcl" >/dev/null
"$M" verify "$np/out1"
[ "$(wc -l < "$np/out1/SHA256SUMS")" -eq 5 ] || { echo "e2e: npm packages: want 5 artifacts" >&2; cat "$np/out1/SHA256SUMS" >&2; exit 1; }
# (The listing goes to a file first: grep -q closing the pipe would fail unzip under pipefail.)
unzip -l "$np/out1/canvas-0.1.84-layer-linux-x64.zip" > "$np/layer.txt"
grep -q 'nodejs/node_modules/@napi-rs/canvas-linux-x64-gnu/skia.linux-x64-gnu.node' "$np/layer.txt" \
  || { echo "e2e: the canvas layer lacks the glibc binary:" >&2; cat "$np/layer.txt" >&2; exit 1; }
if grep -q 'musl' "$np/layer.txt"; then echo "e2e: the canvas layer holds musl binaries" >&2; exit 1; fi
"$M" run --quiet --locked --out "$np/out2" "$np/npm-packages.hcl" >/dev/null
cmp "$np/out1/SHA256SUMS" "$np/out2/SHA256SUMS" || { echo "e2e: npm packages: the --locked rebuild gave other bytes" >&2; exit 1; }
drifted=argon2-2.0.0-node20-linux-x64.tar.gz
cp "$np/npm-packages.lock.json" "$np/lock.orig"
node -e '
  const fs = require("fs"), f = process.argv[1], lock = JSON.parse(fs.readFileSync(f));
  lock.cells[process.argv[2]].artifact_sha256 = "0".repeat(64);
  fs.writeFileSync(f, JSON.stringify(lock, null, 2) + "\n");' "$np/npm-packages.lock.json" "$drifted"
if "$M" run --quiet --locked --out "$np/out1" "$np/npm-packages.hcl" >"$np/drift.out" 2>"$np/drift.err"; then
  echo "e2e: a locked run whose lock records another sha256 passed" >&2; exit 1
fi
grep -q "$drifted drifted from the lock" "$np/drift.err" || { echo "e2e: the drift error does not name $drifted:" >&2; cat "$np/drift.err" >&2; exit 1; }
"$M" verify "$np/out1" >/dev/null 2>&1 || [ $? -eq 3 ] || { echo "e2e: the drifted run broke the output directory" >&2; exit 1; }
cp "$np/lock.orig" "$np/npm-packages.lock.json"
echo "e2e: npm block: argon2 x 2 runtimes and a canvas layer built and tested, reproduced by --locked; an edited artifact_sha256 failed the locked run naming $drifted"

# Compiling from source: better-sqlite3 with node-gyp in local/node-build:22 (python3,
# make, g++, node's headers, npm_config_nodedir), tested in local/node:22 without a
# compiler (testdata/e2e/from-source.hcl). node-gyp's download URL there is a closed
# port: first, without npm_config_nodedir, the cell must fail at that download, which
# shows that the image's headers are what let the build run offline.
scripts/images.sh --build 22
fs="$tmp/from-source"
mkdir -p "$fs"
cp testdata/e2e/from-source.hcl "$fs/"
if "$M" run --quiet --var nodedir= --out "$fs/download" "$fs/from-source.hcl" >/dev/null 2>&1; then
  echo "e2e: better-sqlite3 built without npm_config_nodedir" >&2; exit 1
fi
grep -q 'gyp http fetch GET http://127.0.0.1:9/.*-headers.tar.gz attempt 1 failed with ECONNREFUSED' "$fs/download/logs/"*.log \
  || { echo "e2e: without npm_config_nodedir, the cell did not fail at node-gyp's download:" >&2; tail -n 20 "$fs/download/logs/"*.log >&2; exit 1; }
start=$(date +%s)
"$M" run --quiet --out "$fs/out" "$fs/from-source.hcl"
echo "e2e: better-sqlite3 compiled from source in $(( $(date +%s) - start )) s"
"$M" verify "$fs/out"
log=$(echo "$fs/out/logs/"*.log)
grep -q 'prebuild-install info install --build-from-source specified, not attempting download' "$log" \
  || { echo "e2e: prebuild-install did not skip its download: $log" >&2; exit 1; }
grep -q "'-Dnode_root_dir=/usr/local'" "$log" || { echo "e2e: node-gyp did not use npm_config_nodedir: $log" >&2; exit 1; }
if grep 'gyp http' "$log" >&2; then echo "e2e: node-gyp downloaded something: $log" >&2; exit 1; fi
grep -q '"passed": true' "$fs/out/manifest.json" && grep -q 'better-sqlite3 compiled from source: SQLite 3' "$fs/out/manifest.json" \
  || { echo "e2e: better-sqlite3 did not run a query in local/node:22:" >&2; cat "$fs/out/manifest.json" >&2; exit 1; }
echo "e2e: better-sqlite3 compiled from source with the image's headers and no download, and ran a query in an image without a compiler; without npm_config_nodedir node-gyp tried to download them"

echo "e2e: $want artifacts verified, loaded and resized on every runtime, reproduced twice (plain and --locked)"
echo "$(( want + 10 )) passed, 0 failed"
