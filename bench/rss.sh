#!/usr/bin/env bash
# Peak RSS of `matrix run` for a 1 GiB artifact: one cell whose script writes SIZE_MIB
# (default 1024) MiB of random bytes (incompressible: the packer's gzip keeps all of
# them) into its collect path, packed and hashed, untested. GNU time's maximum
# resident set size of the matrix process; the goal is under 100 MB.
# Usage: bench/rss.sh [SIZE_MIB]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
size=${1:-1024}
scripts/setup.sh 20 >&2
tmp=$(mktemp -d /tmp/matrix-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/matrix" ./cmd/matrix
cat >"$tmp/matrix.hcl" <<HCL
target "big" {
  image    = "local/debian:bookworm"
  network  = "host"
  workdir  = "/build"
  script   = "mkdir -p out && head -c ${size}M /dev/urandom > out/random.bin"
  collect  = "/build/out"
  artifact = "big.tar.gz"
  max_size = "4GiB"
  timeout  = "20m"
}
HCL
cd "$tmp"
l=$(cut -d' ' -f1 /proc/loadavg)
/usr/bin/time -f '%M %e' -o time.txt ./matrix run -q --out o matrix.hcl >/dev/null 2>err || { cat err >&2; exit 1; }
read -r kib secs <time.txt
size_b=$(stat -c %s o/big.tar.gz)
echo "| artifact | content | wall s | load at start | peak RSS |"
echo "|---|---|---|---|---|"
echo "| big.tar.gz, $size_b bytes | $size MiB of random bytes | $secs | $l | $((kib / 1024)) MiB |"
