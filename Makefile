# elfpack — build, test, bench, demo. `make test` and `make demo` work on a fresh Debian machine.
SHELL := /bin/bash
FIXTURES ?= build/fixtures
NODE_BIN := node_modules/.bin
export FIXTURES

.PHONY: all install build deps test test-only bench demo clean fixtures fuzz image image-pack

all: build

# npm ci when the lock file is newer than what is installed.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.installed

# dist/src: the library (ES modules) and the tests; dist/elfpack.cjs: the CLI as one CommonJS file,
# which Node loads in a fraction of the time it takes to link dist/src module by module. commander
# is bundled in; the packages only some commands use stay external and load when used (import()
# becomes require(), so the bundle runs as a plain script under bin/load-bundle.cjs).
build: install
	$(NODE_BIN)/tsc -p tsconfig.json
	$(NODE_BIN)/esbuild src/cli.ts --bundle --platform=node --format=cjs --target=node20 \
	  --external:dockerode --external:tar-stream --external:undici --external:picocolors --external:xz-decompress \
	  --alias:node:child_process=./src/bundle/child-process-lazy.cjs \
	  --define:import.meta.url=__filename --supported:dynamic-import=false \
	  --log-level=warning --outfile=dist/elfpack.cjs
	@# V8's code cache of the bundle, taken after an ldd run so it holds what ldd compiles (bin/load-bundle.cjs).
	@# Exit status 1 (a library of /bin/sh not found on this host) still wrote the cache; anything else fails.
	@rm -f dist/elfpack.cjs.v8cache
	@ELFPACK_WRITE_CODE_CACHE=1 ./bin/elfpack ldd /bin/sh >/dev/null || [ $$? -eq 1 ]

# Debian packages and services the tests use (only as root on Debian; elsewhere those tests skip).
deps:
	@bash test/setup/install-deps.sh
	@bash test/setup/start-engine.sh
	@bash test/setup/enable-binfmt.sh
	@bash test/setup/start-registry.sh

include testdata/programs.mk

# Every test; the run ends with "N passed, N failed".
test:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory -j2 fixtures
	@$(MAKE) --no-print-directory test-only

test-only:
	$(NODE_BIN)/mocha --reporter test/support/summary-reporter.cjs --timeout 60000 'dist/test/**/*.test.js'

# Structure-aware mutants of the ELF samples and of generated images through ldd --json, for
# FUZZ_SECONDS (default 600) from FUZZ_SEED (default: the clock); failures are kept in build/fuzz-failures.
# `make test` runs a fixed-seed slice (test/fuzz/fuzz-slice.test.ts).
FUZZ_SECONDS ?= 600
fuzz: build
	node dist/test/fuzz/fuzz.js --time $(FUZZ_SECONDS) $(if $(FUZZ_SEED),--seed $(FUZZ_SEED)) --stats

bench: deps build
	node dist/test/bench/bench.js

# The main job on a fresh machine: pack a C program and a Go service, run them, and let doctor
# explain a broken image (examples/demo.sh prints each step as the command a user would type).
demo: deps build
	@$(MAKE) --no-print-directory -j2 fixtures >/dev/null
	@bash examples/demo.sh

# elfpack's own image, packed by elfpack on scratch: node (the one running this), the CLI bundle and
# the packages it loads at run time (npm ci --omit=dev from the lock file), the CA bundle, and for
# `elfpack deb` the host's gpgv (with its libraries: --also) and Debian's archive keyring, which
# signature.ts looks for on the image's default PATH and at its Debian path; nothing else (no
# shell, no env but PATH). /usr/local/bin/elfpack is the ENTRYPOINT, a link to the CLI whose #!
# names node by its absolute path, so `RUN ["elfpack", …]` works in exec form. The same sources
# give the same digest. Loaded as elfpack:VERSION and elfpack:latest when the engine answers.
IMAGE_NODE ?= $(shell readlink -f "$$(command -v node)")
IMAGE_DIR ?= build/image
IMAGE_TAR ?= build/elfpack-image.tar
IMAGE_NAME ?= elfpack
IMAGE_KEYRING ?= /usr/share/keyrings/debian-archive-keyring.gpg
VERSION = $(shell node -p 'require("./package.json").version')
image: build
	@$(MAKE) --no-print-directory image-pack

# The packing part of `make image`, from what `make build` made (the tests call it: test/examples).
image-pack:
	@rm -rf $(IMAGE_DIR) && mkdir -p $(IMAGE_DIR)/stage/lib $(IMAGE_DIR)/stage/bin
	@npm pack --ignore-scripts --silent --pack-destination $(IMAGE_DIR) >/dev/null
	@tar -xzf $(IMAGE_DIR)/elfpack-$(VERSION).tgz -C $(IMAGE_DIR) && mv $(IMAGE_DIR)/package $(IMAGE_DIR)/stage/lib/elfpack
	@cp package-lock.json $(IMAGE_DIR)/stage/lib/elfpack/
	@cd $(IMAGE_DIR)/stage/lib/elfpack && npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund --silent
	@# The library (dist/src) is not run; the code cache matches only the flags of bin/elfpack's #! line.
	@cd $(IMAGE_DIR)/stage/lib/elfpack && rm -rf dist/src dist/elfpack.cjs.v8cache package-lock.json && sed -i '1s|.*|#!$(IMAGE_NODE)|' bin/elfpack
	@ln -s ../lib/elfpack/bin/elfpack $(IMAGE_DIR)/stage/bin/elfpack
	@echo '$$ elfpack $(IMAGE_NODE) --entrypoint /usr/local/bin/elfpack --add …:/usr/local/lib/elfpack --add …:/usr/local/bin --ca-certs --also /usr/bin/gpgv --include $(IMAGE_KEYRING) --out $(IMAGE_TAR)'
	@./bin/elfpack $(IMAGE_NODE) --entrypoint /usr/local/bin/elfpack --ca-certs --also /usr/bin/gpgv --include $(IMAGE_KEYRING) \
	  --add $(IMAGE_DIR)/stage/lib/elfpack:/usr/local/lib/elfpack --add $(IMAGE_DIR)/stage/bin:/usr/local/bin \
	  --tag $(IMAGE_NAME):$(VERSION) --out $(IMAGE_TAR) $$(docker info >/dev/null 2>&1 && echo --load)
	@if docker info >/dev/null 2>&1; then docker tag $(IMAGE_NAME):$(VERSION) $(IMAGE_NAME):latest && echo "elfpack: tagged $(IMAGE_NAME):$(VERSION) and $(IMAGE_NAME):latest"; \
	  else echo "elfpack: no Docker engine here: load it with docker load -i $(IMAGE_TAR)"; fi

clean:
	rm -rf dist build
