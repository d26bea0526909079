# elfpack — build, test, bench, demo. `make test` and `make demo` work on a fresh Debian machine.
SHELL := /bin/bash
FIXTURES ?= build/fixtures
NODE_BIN := node_modules/.bin
export FIXTURES

.PHONY: all install build deps test test-only bench demo clean fixtures fuzz

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
	  --external:dockerode --external:tar-stream --external:undici --external:picocolors \
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

demo: deps build
	@$(MAKE) --no-print-directory -j2 fixtures >/dev/null
	@echo '$$ elfpack ldd $(FIXTURES)/origin/bin/app'
	@./bin/elfpack ldd $(FIXTURES)/origin/bin/app
	@echo
	@echo '$$ elfpack ldd --tree $(FIXTURES)/cxx/hello-cxx $(FIXTURES)/musl/hello-musl $(FIXTURES)/go/gostatic'
	@./bin/elfpack ldd --tree $(FIXTURES)/cxx/hello-cxx $(FIXTURES)/musl/hello-musl $(FIXTURES)/go/gostatic

clean:
	rm -rf dist build
