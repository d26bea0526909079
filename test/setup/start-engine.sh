#!/usr/bin/env bash
# Starts the Docker engine for the tests if it is installed, we are root, and it is not running:
# no bridge and no iptables (containers run with --network none), log in build/dockerd.log.
set -euo pipefail
command -v dockerd >/dev/null || { echo "start-engine: dockerd is not installed; engine tests will skip" >&2; exit 0; }
docker info >/dev/null 2>&1 && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "start-engine: not root: not starting dockerd; engine tests will skip" >&2
  exit 0
fi
mkdir -p build
nohup dockerd --bridge=none --iptables=false --ip6tables=false >build/dockerd.log 2>&1 &
for _ in $(seq 1 60); do
  docker info >/dev/null 2>&1 && { echo "start-engine: dockerd is up" >&2; exit 0; }
  sleep 1
done
echo "start-engine: dockerd did not answer in 60 s; see build/dockerd.log:" >&2
tail -20 build/dockerd.log >&2
exit 1
