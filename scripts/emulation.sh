#!/usr/bin/env bash
# Let this machine's Docker engine run arm64 containers under emulation: QEMU's user
# mode emulator from Debian (qemu-user-static, binfmt-support) and a binfmt_misc
# handler for aarch64 ELF files registered with the F flag. F makes the kernel open
# the interpreter when the handler is registered, so it works inside every container,
# whose file system has no /usr/bin/qemu-aarch64-static; Debian's own registration
# may lack it. (docker/setup-qemu-action does the same on GitHub's runners.)
# Idempotent. Exit status: 0 when arm64 programs run here (natively or emulated),
# 1 when they cannot, with the reason on stderr: cells of that CPU then fail their
# platform check before building, saying so, instead of being skipped.
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin

name=qemu-aarch64
interp=/usr/bin/qemu-aarch64-static
dir=/proc/sys/fs/binfmt_misc
say() { echo "emulation.sh: $*" >&2; }

case "$(uname -m)" in
  aarch64 | arm64) exit 0 ;; # arm64 programs run natively
esac
if [ -r "$dir/$name" ] && grep -q '^enabled' "$dir/$name" && grep -q '^flags:.*F' "$dir/$name" \
  && [ -x "$interp" ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  say "this machine's kernel has no $name binfmt handler with the F flag and this is not root: run this script as root"
  say "(Debian: it installs qemu-user-static). An engine elsewhere (Docker Desktop's VM) may emulate arm64 all the same: matrix asks the engine before it builds"
  exit 1
fi
if [ ! -x "$interp" ]; then
  say "installing QEMU's user mode emulators from Debian's packages (qemu-user-static, binfmt-support)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends qemu-user-static binfmt-support >/dev/null
fi
if [ ! -e "$dir/register" ]; then
  mount -t binfmt_misc binfmt_misc "$dir" 2>/dev/null || {
    say "cannot mount binfmt_misc on $dir (a container without privileges?): arm64 containers cannot run here"
    exit 1
  }
fi

# The handler's magic and mask, as \xNN strings: from the registered handler when
# there is one (its file lists them as hex), else from Debian's binfmts entry.
hexesc() { sed 's/../\\x&/g'; }
if [ -r "$dir/$name" ]; then
  magic=$(sed -n 's/^magic //p' "$dir/$name" | hexesc)
  mask=$(sed -n 's/^mask //p' "$dir/$name" | hexesc)
  echo -1 >"$dir/$name" # unregister, to register again with F
else
  magic=$(sed -n 's/^magic //p' /usr/share/binfmts/$name)
  mask=$(sed -n 's/^mask //p' /usr/share/binfmts/$name)
fi
if [ -z "$magic" ] || [ -z "$mask" ]; then
  say "no magic and mask for $name (neither $dir/$name nor /usr/share/binfmts/$name has them)"
  exit 1
fi
echo ":$name:M::$magic:$mask:$interp:F" >"$dir/register"
grep -q '^flags:.*F' "$dir/$name" || { say "registered $name, but without the F flag: $(cat "$dir/$name")"; exit 1; }
say "registered $name ($interp) with the F flag: arm64 containers run under emulation"
