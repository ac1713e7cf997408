#!/usr/bin/env bash
# End-to-end: build real sharp versions from the npm registry with the root matrix.hcl
# (offline overrides: local images, host networking, the host CA bundle), then check
# every artifact independently of the tool:
#   - `matrix verify` passes;
#   - the tarball holds node_modules/sharp/package.json of the cell's version, and no
#     symlink or hard link;
#   - extracted into a fresh container of its node image, sharp loads and resizes a PNG;
#   - a second run into another directory gives byte-identical SHA256SUMS.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH

SHARP_VERSIONS=${SHARP_VERSIONS:-0.33.5 0.34.5}
NODES=${NODES:-20 22}
tmp=$(mktemp -d /tmp/matrix-e2e.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

list() { local IFS=,; echo "$*"; }
quoted() { local out="" v; for v in "$@"; do out+="${out:+,}\"$v\""; done; echo "[$out]"; }
vars=(--var-file offline.hcl --var "sharp_versions=$(quoted $SHARP_VERSIONS)" --var "nodes=[$(list $NODES)]")

go build -o "$tmp/matrix" ./cmd/matrix
M="$tmp/matrix"
"$M" validate "${vars[@]}" matrix.hcl
"$M" plan "${vars[@]}" matrix.hcl

start=$(date +%s)
"$M" run --quiet "${vars[@]}" --out "$tmp/out1" matrix.hcl
echo "e2e: first run took $(( $(date +%s) - start )) s"
"$M" verify "$tmp/out1"

want=$(( $(echo $SHARP_VERSIONS | wc -w) * $(echo $NODES | wc -w) ))
got=$(wc -l < "$tmp/out1/SHA256SUMS")
[ "$got" -eq "$want" ] || { echo "e2e: $got artifacts, want $want" >&2; exit 1; }

fails=0
for v in $SHARP_VERSIONS; do
  for n in $NODES; do
    art="$tmp/out1/sharp-$v-node$n-linux-x64.tar.gz"
    [ -f "$art" ] || { echo "e2e: missing $art" >&2; fails=$((fails+1)); continue; }
    if tar -tvzf "$art" | grep -E '^[lh]' >/dev/null; then
      echo "e2e: $art holds links:" >&2; tar -tvzf "$art" | grep -E '^[lh]' | head >&2; fails=$((fails+1))
    fi
    got_version=$(tar -xzOf "$art" node_modules/sharp/package.json | sed -n 's/^  "version": "\(.*\)",$/\1/p')
    [ "$got_version" = "$v" ] || { echo "e2e: $art holds sharp $got_version, want $v" >&2; fails=$((fails+1)); }
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

"$M" run --quiet "${vars[@]}" --out "$tmp/out2" matrix.hcl
if ! cmp "$tmp/out1/SHA256SUMS" "$tmp/out2/SHA256SUMS"; then
  echo "e2e: the second run's artifacts differ:" >&2
  diff "$tmp/out1/SHA256SUMS" "$tmp/out2/SHA256SUMS" >&2 || true
  exit 1
fi
echo "e2e: $want artifacts verified, loaded and resized; a second run reproduced every sha256"
echo "$want passed, 0 failed"
