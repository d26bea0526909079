// Loading into the real engine: a tar it refuses is one line with the engine's own reason.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadIntoEngine } from '../../src/sinks/engine-load.js';
import { ElfpackError } from '../../src/errors.js';
import { needEngine, run } from '../support/engine.js';

describe('sinks/engine-load: load', function () {
  this.timeout(60_000);
  it('an image whose manifest names a layer the tar lacks is refused by the engine, and said so', async function () {
    needEngine(this);
    const dir = mkdtempSync(join(tmpdir(), 'elfpack-engine-'));
    try {
      run('sh', ['-c', `cd ${dir} && printf '[{"Config":"c.json","RepoTags":["x:1"],"Layers":["nope/layer.tar"]}]' > manifest.json && printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:${'0'.repeat(64)}"]}}' > c.json && tar -cf bad.tar manifest.json c.json`]);
      let err: unknown;
      try {
        await loadIntoEngine(join(dir, 'bad.tar'));
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(ElfpackError);
      expect((err as ElfpackError).message).to.match(/^docker load: the engine refused: .*(nope\/layer\.tar|no such file)/);
      expect((err as ElfpackError).message).to.not.include('\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
