// The archive: written to a file and streamed to the engine from one member order, so both are
// the same bytes; a blob kept twice is kept once; regions handed out follow the file's rename.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveWriter, archiveStream } from '../../src/oci/archive-writer.js';
import { buildImage, buildImages, type ImageSpec } from '../../src/image/build-image.js';
import { FileTree } from '../../src/image/file-tree.js';
import { withDefaultPath } from '../../src/oci/config.js';
import { buildIndex, imagesOf, type Image, type ImageIndex } from '../../src/oci/image.js';
import type { BlobContent } from '../../src/oci/blob.js';

function specOf(text: string, architecture = 'amd64'): ImageSpec {
  const tree = new FileTree();
  tree.addFile('/app', { content: Buffer.from(text) }, Buffer.byteLength(text), 0o755);
  tree.addDir('/tmp', 0o1777);
  return {
    config: { platform: { os: 'linux', architecture }, entrypoint: ['/app'], cmd: [], env: withDefaultPath([]), workingDir: '/', user: '', ports: [], labels: {} },
    layers: [tree], history: { created: new Date(0), createdBy: 'test' }, mtime: 0,
  };
}

async function streamed(image: Image | ImageIndex, tag: string, loadPlatform = 0): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of archiveStream(image, { tags: [tag], loadPlatform, mtime: 0 })) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function regionOf(c: BlobContent) {
  if (!('region' in c)) throw new Error('a layer in memory');
  return c.region;
}

describe('oci/archive-writer', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'elfpack-archive-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  for (const platforms of [1, 2]) {
    it(`the tar streamed to the engine is the tar written to the file, byte for byte (${platforms} platform${platforms > 1 ? 's' : ''})`, async () => {
      const out = join(dir, 'img.tar');
      const w = new ArchiveWriter(out);
      const image = await buildImages([specOf('one'), specOf('two', 'arm64')].slice(0, platforms), w);
      await w.finish(image, { tags: ['x:1'], loadPlatform: platforms - 1 });
      expect((await streamed(image, 'x:1', platforms - 1)).equals(readFileSync(out))).to.equal(true);
      // The layers the value names are read where the archive holds them, under its final name.
      for (const img of imagesOf(image)) expect(regionOf(img.layers[0].content).file).to.equal(out);
      expect(readdirSync(dir)).to.deep.equal(['img.tar']);
    });
  }

  it('a layer the archive holds already is kept once: the second copy is cut off, both images name the first', async () => {
    const out = join(dir, 'img.tar');
    const w = new ArchiveWriter(out);
    const a = await buildImage(specOf('same'), w);
    const b = await buildImage(specOf('same', 'arm64'), w);
    expect(b.layers[0].descriptor.digest).to.equal(a.layers[0].descriptor.digest);
    expect(regionOf(b.layers[0].content)).to.equal(regionOf(a.layers[0].content));
    const index = buildIndex([a, b]);
    await w.finish(index, { tags: ['x:1'] });
    const members = execFileSync('tar', ['-tf', out], { encoding: 'utf8' }).trim().split('\n');
    expect(members.filter((m) => m === `blobs/sha256/${a.layers[0].descriptor.digest.slice(7)}`)).to.have.length(1);
    expect((await streamed(index, 'x:1')).equals(readFileSync(out))).to.equal(true);
  });

  it('layers past the background sync step (8 MiB) are written whole, streamed the same; abort after one leaves nothing', async () => {
    const big = (seed: number) => {
      const spec = specOf(`big ${seed}`);
      const bytes = Buffer.alloc(12 << 20, seed);
      for (let i = 0; i < bytes.length; i += 4096) bytes.writeUInt32LE(i ^ seed, i); // not all one byte
      spec.layers[0].addFile('/big', { content: bytes }, bytes.length, 0o644);
      return spec;
    };
    const out = join(dir, 'img.tar');
    const w = new ArchiveWriter(out);
    const image = await buildImages([big(1), big(2)], w);
    await w.finish(image, { tags: ['x:1'] });
    expect((await streamed(image, 'x:1')).equals(readFileSync(out))).to.equal(true);
    const gone = new ArchiveWriter(join(dir, 'gone.tar'));
    await buildImage(big(3), gone);
    await gone.abort();
    expect(readdirSync(dir)).to.deep.equal(['img.tar']);
  });

  it('abort removes the unfinished file; nothing is left', async () => {
    const w = new ArchiveWriter(join(dir, 'img.tar'));
    await buildImage(specOf('gone'), w);
    await w.abort();
    expect(readdirSync(dir)).to.deep.equal([]);
    expect(existsSync(join(dir, 'img.tar'))).to.equal(false);
  });
});
