#!/usr/bin/env bash
# Everything a fresh machine needs before matrix can build or be tested: a Docker
# engine, OpenSSH's server for the ssh:// engine tests, a C compiler for the elfcheck
# tests, Debian's chromium for the report's browser test, arm64 emulation (QEMU's
# binfmt_misc handler, scripts/emulation.sh) and, where no image registry is
# reachable, the local stand-in images (with --arm64, the arm64 ones too).
# Idempotent; on a laptop where Docker runs and the images exist it does nothing.
# Usage: scripts/setup.sh [--arm64] [NODE_MAJOR...]   (default: 20 22 24)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH:/usr/sbin
scripts/engine.sh
# The ssh:// engine tests start an sshd of their own on a loopback port; only the
# program is needed. The package's own service is not started: a policy-rc.d that
# forbids it is put in place for the install when the machine has none.
if ! command -v sshd >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup.sh: sshd is missing and this is not root: install OpenSSH's server (Debian: openssh-server) and retry" >&2
    exit 1
  fi
  echo "setup.sh: installing OpenSSH's server from Debian's packages (openssh-server), its service left stopped" >&2
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends openssh-server >/dev/null
fi
# The elfcheck tests compile small ELF files with the machine's C compiler.
if ! command -v gcc >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup.sh: gcc is missing and this is not root: install a C compiler (Debian: gcc libc6-dev) and retry" >&2
    exit 1
  fi
  echo "setup.sh: installing gcc from Debian's packages (gcc libc6-dev) for the elfcheck tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends gcc libc6-dev >/dev/null
fi
# The report's integration test renders report.html in a real headless browser.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup.sh: chromium is missing and this is not root: install Debian's chromium and retry" >&2
    exit 1
  fi
  echo "setup.sh: installing Debian's chromium for the report's browser test" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
# Where the kernel does not allow it, say so and go on: arm64 cells are then refused
# before they build, with the reason, rather than skipped (images.sh --arm64 fails).
if ! scripts/emulation.sh; then
  echo "setup.sh: no arm64 emulation here: arm64 cells will be refused as untestable on this machine's engine" >&2
fi
scripts/images.sh "$@"
