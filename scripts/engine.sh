#!/usr/bin/env bash
# Make sure a Docker engine answers. Idempotent: where `docker info` already works
# (a laptop with Docker running) it does nothing. Otherwise, as root on Debian, it
# installs the engine from Debian's packages and starts it without a bridge, so that
# no traffic leaves the machine except through host networking (see README).
set -euo pipefail

if docker info >/dev/null 2>&1; then
  exit 0
fi
if [ -n "${DOCKER_HOST:-}" ]; then
  echo "engine.sh: DOCKER_HOST=$DOCKER_HOST is set but no engine answers there; start it and retry" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "engine.sh: no Docker engine answers and this is not root: start Docker (e.g. 'sudo systemctl start docker') and retry" >&2
  exit 1
fi
if ! command -v dockerd >/dev/null 2>&1; then
  echo "engine.sh: installing the Docker engine from Debian's packages (docker.io)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi
# A pid file left by an earlier machine state makes dockerd refuse to start.
if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
  rm -f /var/run/docker.pid
fi
if ! pgrep -x dockerd >/dev/null; then
  echo "engine.sh: starting dockerd (log: /tmp/dockerd.log)" >&2
  setsid dockerd --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
    >/tmp/dockerd.log 2>&1 < /dev/null &
fi
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    exit 0
  fi
  sleep 1
done
echo "engine.sh: dockerd did not answer within 60 s; last lines of /tmp/dockerd.log:" >&2
tail -n 20 /tmp/dockerd.log >&2 || true
exit 1
