// Loads dist/elfpack.cjs with V8's code cache (dist/elfpack.cjs.v8cache, written by `make build`):
// the bundle's functions arrive compiled instead of being parsed and compiled at every start,
// about 15 ms of a short run. The cache is only an accelerator: when it is missing, or V8 refuses
// it (another Node version, other V8 flags, a checksum that does not match: bin/elfpack asks V8
// to verify it), the bundle is compiled as usual.
'use strict';
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const { createRequire, wrap } = require('node:module');
const { dirname, join } = require('node:path');
const vm = require('node:vm');

const BUNDLE = join(__dirname, '..', 'dist', 'elfpack.cjs');
const CACHE = `${BUNDLE}.v8cache`;

function readCache() {
  try {
    return readFileSync(CACHE);
  } catch {
    return undefined;
  }
}

/**
 * { exports, saveCodeCache }. saveCodeCache() writes the cache after a run, when
 * ELFPACK_WRITE_CODE_CACHE=1 (make build sets it): by then the cache holds every function the
 * run compiled, not only the top level.
 */
function loadBundle() {
  const source = readFileSync(BUNDLE, 'utf8');
  const cachedData = readCache();
  const script = new vm.Script(wrap(source), {
    filename: BUNDLE,
    cachedData,
    importModuleDynamically: vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(BUNDLE), module, BUNDLE, dirname(BUNDLE));
  return {
    exports: module.exports,
    saveCodeCache() {
      if (process.env.ELFPACK_WRITE_CODE_CACHE !== '1') return;
      const tmp = `${CACHE}.${process.pid}.tmp`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, CACHE);
    },
  };
}

module.exports = { loadBundle };
