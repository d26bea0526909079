// Loading into the real engine: a tar it refuses is one line with the engine's own reason.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineSink, loadIntoEngine } from '../../src/sinks/engine-load.js';
import { engineVersion } from '../../src/engine/engine.js';
import { MEDIA } from '../../src/oci/media-types.js';
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

  it('zstd layers are refused before packing by an engine older than 25 (20.10 cannot unpack them); gzip and plain pass', async function () {
    needEngine(this);
    const sink = engineSink({ load: true });
    await sink.acceptsLayers!(MEDIA.layerGzip);
    await sink.acceptsLayers!(MEDIA.layer);
    const v = await engineVersion();
    const err = await sink.acceptsLayers!(MEDIA.layerZstd).then(() => undefined, (e: Error) => e);
    if (Number(v.split('.')[0]) < 25) {
      expect(err).to.be.instanceOf(ElfpackError);
      expect(err!.message).to.equal(`--compression zstd: this Docker engine (${v}) cannot load zstd layers (Docker 25 or later can); use --compression gzip or none with --load and --verify`);
    } else expect(err).to.equal(undefined);
  });
});
