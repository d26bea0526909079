#!/usr/bin/env bash
# Starts a plain-HTTP registry for the push tests on 127.0.0.1:5000 if it is installed, we are root,
# and nothing answers there yet: loopback only, filesystem storage, log in /var/log/elfpack-registry.log.
set -euo pipefail
command -v docker-registry >/dev/null || { echo "start-registry: docker-registry is not installed; registry tests will skip" >&2; exit 0; }
curl -fsS -o /dev/null http://127.0.0.1:5000/v2/ 2>/dev/null && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "start-registry: not root: not starting docker-registry; registry tests will skip" >&2
  exit 0
fi
dir=/var/lib/elfpack-registry
log=/var/log/elfpack-registry.log
mkdir -p "$dir/data"
# distribution 2.x wants "version: 0.1" and keeps delete under storage; no auth section means no auth.
cat >"$dir/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
YAML
# Its own session: it outlives the shell (and the job) that started it.
setsid nohup docker-registry serve "$dir/config.yml" >>"$log" 2>&1 </dev/null &
for _ in $(seq 1 40); do
  curl -fsS -o /dev/null http://127.0.0.1:5000/v2/ 2>/dev/null && { echo "start-registry: registry is up on 127.0.0.1:5000" >&2; exit 0; }
  sleep 0.5
done
echo "start-registry: docker-registry did not answer in 20 s; see $log:" >&2
tail -20 "$log" >&2
exit 1
