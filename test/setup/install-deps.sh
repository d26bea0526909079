#!/usr/bin/env bash
# Installs the Debian packages the tests use. Only as root on Debian; elsewhere it says so, and the
# tests that need a missing tool skip with a printed reason (and fail when CI=true).
set -euo pipefail

PACKAGES=(
  gcc g++ make binutils        # fixtures, readelf
  gcc-multilib                 # a 32-bit library for the wrong-architecture fixture
  musl-tools                   # musl fixtures
  golang-go                    # Go fixtures
  pax-utils python3-pyelftools libtree time  # lddtree, libtree, /usr/bin/time: make bench
  docker.io skopeo umoci podman buildah  # the engine images are loaded into and run by; validators; a second Dockerfile engine
  zstd                         # zstd frames for the tests of reading zstd layers
  python3 curl jq ca-certificates libc-bin coreutils tzdata  # Debian programs and data the pack tests put on scratch (jq and curl: layers they share)
  qemu-user-static binfmt-support  # arm64 images run here too (elfpack go --platform linux/arm64)
  docker-registry apache2-utils openssl  # a local registry, htpasswd and a self-signed cert for the push tests
  bubblewrap strace            # --trace: the sandbox and the tracer
  imagemagick php-cli openjdk-17-jre-headless gnupg nginx-light  # real programs packed with --trace and the lean defaults
  gpgv debian-archive-keyring  # elfpack deb: the archive signature checker apt runs, and the keys it checks against
)

if [ "$(id -u)" != 0 ] || [ ! -f /etc/debian_version ]; then
  echo "install-deps: not root on Debian: not installing ${PACKAGES[*]}; tests needing them will skip" >&2
  exit 0
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's own registry service would listen on every interface: only the loopback is allowed here.
if [ -f /etc/docker/registry/config.yml ]; then
  sed -i 's/^\(  addr: \):5000$/\1127.0.0.1:5000/' /etc/docker/registry/config.yml
fi
