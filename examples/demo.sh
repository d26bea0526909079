#!/usr/bin/env bash
# `make demo`: elfpack's main job, each step printed as the command a user would type. A C program
# and a Go service from testdata/programs are packed onto scratch, loaded into the engine and run,
# their image sizes shown beside the programs'; then a cgo binary alone on scratch fails to start,
# and `elfpack doctor` says why. Without a Docker engine it still packs, and says how to load.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PATH" GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off
export GOCACHE="${GOCACHE:-$PWD/build/fixtures/.gocache}"
work=$(mktemp -d "${TMPDIR:-/tmp}/elfpack-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT

bold=$'\e[1m' dim=$'\e[2m' off=$'\e[0m'
if [ -n "${NO_COLOR:-}" ] || [ ! -t 1 ]; then bold='' dim='' off=''; fi
step() { printf '\n%s# %s%s\n' "$bold" "$*" "$off"; }
# Prints the command as a user types it (the demo's scratch directory shown as $W), then runs it.
run() { printf '%s$ %s%s\n' "$dim" "$(printf '%q ' "$@" | sed "s#$work#\$W#g")" "$off"; "$@"; }
size() { stat -c %s "$1" | numfmt --to=si --suffix=B; }

engine=false
if docker info >/dev/null 2>&1; then engine=true; fi
load=(); $engine && load=(--load)

step "1. Two programs: a C program (dynamically linked against glibc) and a Go service (static)"
run gcc -O2 -o "$work/hello" testdata/programs/hello/hello.c

step "2. What the C program needs, found as the loader would find it, without running it"
run elfpack ldd "$work/hello"

step "3. Pack each onto scratch: the program and exactly what it needs"
run elfpack "$work/hello" --as /usr/local/bin/hello --tag elfpack-demo-hello:1 --out "$work/hello.tar" "${load[@]}"
run elfpack go ./testdata/programs/go/server --tag elfpack-demo-server:1 --out "$work/server.tar" "${load[@]}"

step "4. Sizes: the program, the files of its image, and the image's tar (gzip layers)"
(cd testdata/programs/go/server && CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags='-s -w' -o "$work/server" .)
# The image's files: what the engine unpacks (docker image inspect's Size), or the tar's when it is not here.
files() { if $engine; then docker image inspect -f '{{.Size}}' "$1" | numfmt --to=si --suffix=B; else echo -; fi; }
printf '  %-22s %10s %14s %12s\n' program binary 'image files' 'image tar'
printf '  %-22s %10s %14s %12s\n' 'hello (C, glibc)' "$(size "$work/hello")" "$(files elfpack-demo-hello:1)" "$(size "$work/hello.tar")"
printf '  %-22s %10s %14s %12s\n' 'server (Go, static)' "$(size "$work/server")" "$(files elfpack-demo-server:1)" "$(size "$work/server.tar")"

if $engine; then
  step "5. Run them (no network, nothing pulled)"
  run docker run --rm --network none --pull never elfpack-demo-hello:1
  run docker run --rm --network none --pull never elfpack-demo-server:1 -version
else
  step "5. No Docker engine here: load and run them elsewhere with"
  echo "  docker load -i hello.tar && docker run --rm elfpack-demo-hello:1"
fi

step "6. Break one on purpose: a cgo binary alone on scratch (what COPY into FROM scratch gives)"
mkdir -p "$work/broken"
(cd testdata/programs/go/gocgo && CGO_ENABLED=1 go build -trimpath -buildvcs=false -ldflags='-s -w' -o "$work/broken/app" main.go)
if $engine; then
  tar -C "$work/broken" -c app | docker import --change 'ENTRYPOINT ["/app"]' - elfpack-demo-broken:1 >/dev/null
  run docker run --rm --network none --pull never elfpack-demo-broken:1 || true
  step "7. Why? elfpack doctor reads the image (as the engine has it) and says"
  run elfpack doctor elfpack-demo-broken:1 || true
  docker rmi -f elfpack-demo-broken:1 >/dev/null
  step "The two good images stay loaded: docker rmi elfpack-demo-hello:1 elfpack-demo-server:1 removes them"
else
  step "7. Why would it not start? elfpack doctor reads the directory as the image's root and says"
  run elfpack doctor "$work/broken" --entrypoint /app || true
fi
