// Stands in for node:child_process inside dist/elfpack.cjs (esbuild --alias, see the Makefile):
// commander requires child_process as it loads, for subcommands run as separate programs, which
// elfpack has none of; loading it pulls in net, dgram and the stream modules, ~10 ms of every
// run. Each export is a getter that loads the real module on first use ("child_process" without
// "node:" is not aliased). Getters, not a Proxy: esbuild's ESM interop copies own property names.
'use strict';
let real;
for (const name of ['ChildProcess', 'exec', 'execFile', 'execFileSync', 'execSync', 'fork', 'spawn', 'spawnSync']) {
  Object.defineProperty(module.exports, name, { enumerable: true, get: () => (real ??= require('child_process'))[name] });
}
