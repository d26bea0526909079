// The file index of an image root: linear in the bytes of the names, bounded in path length and
// depth, and free of recursion (deep whiteouts and opaque directories), with OCI whiteout rules.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ElfpackError } from '../../src/errors.js';
import { FsIndex, MAX_PATH_BYTES } from '../../src/root/fs-index.js';
import { tarOf, type TarEntry } from '../support/image-builder.js';

describe('root/fs-index: an image\'s files, bounded and linear', function () {
  this.timeout(60_000);
  let dir: string;
  let n = 0;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'elfpack-index-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function apply(idx: FsIndex, entries: TarEntry[]): Promise<void> {
    const f = join(dir, `layer${n++}.tar`);
    writeFileSync(f, tarOf(entries));
    await idx.applyLayer(f, 0, { label: 'img.tar', layerName: 'L' });
  }

  async function refusal(entries: TarEntry[]): Promise<ElfpackError> {
    const err = await apply(new FsIndex(), entries).then(() => undefined, (e: ElfpackError) => e);
    expect(err, 'refused').to.not.equal(undefined);
    return err!;
  }

  it('a 1 MB pax path (500,000 levels) and a 50,000-level one are refused at once with IMAGE_LIMIT, naming the image', async () => {
    for (const levels of [500_000, 50_000]) {
      const t0 = Date.now();
      const err = await refusal([{ name: 'a/'.repeat(levels) + 'f', body: 'x' }]);
      expect(err.code).to.equal('IMAGE_LIMIT');
      expect(err.describe()).to.match(/^img\.tar: a path is longer than 4095 bytes \("a\/a\/a/);
      expect(err.describe()).not.to.include('\n');
      expect(Date.now() - t0).to.be.below(10_000); // was minutes and gigabytes
    }
  });

  it('a path of 4095 bytes (2047 levels) is kept; 4096 bytes is refused; so is a symlink target past 4095 bytes', async () => {
    const idx = new FsIndex();
    const deep = 'a/'.repeat(2047) + 'f'; // 4095 bytes
    expect(Buffer.byteLength(deep)).to.equal(MAX_PATH_BYTES - 1);
    await apply(idx, [{ name: deep, body: 'x' }]);
    expect(idx.get('/' + deep)?.type).to.equal('file');
    expect((await refusal([{ name: deep + 'g', body: 'x' }])).code).to.equal('IMAGE_LIMIT');
    // Multi-byte names count in bytes, not characters.
    expect((await refusal([{ name: 'é'.repeat(2048), body: 'x' }])).code).to.equal('IMAGE_LIMIT');
    const err = await refusal([{ name: 'l', type: '2', link: 'x'.repeat(4096) }]);
    expect(err.describe()).to.match(/symbolic link's target is longer than 4095 bytes/);
  });

  it('memory stays linear in the bytes of the names: 100 distinct trees 2000 levels deep', async () => {
    const entries: TarEntry[] = [];
    for (let i = 0; i < 100; i++) entries.push({ name: `t${i}/` + 'd/'.repeat(1999) + 'f', body: 'x' });
    const before = process.memoryUsage().heapUsed;
    const idx = new FsIndex();
    await apply(idx, entries);
    const grown = process.memoryUsage().heapUsed - before;
    expect(idx.size).to.equal(1 + 100 * 2001);
    // Keys of every prefix would be ~100 × 2000² bytes (400 MB); nodes of one name each are a few tens of MB.
    expect(grown).to.be.below(150 << 20);
  });

  it('a whiteout of a deep directory removes it without recursion, and the entry count comes back down', async () => {
    const idx = new FsIndex({ maxEntries: 10_000 });
    await apply(idx, [{ name: 'top/' + 'd/'.repeat(2000) + 'f', body: 'x' }, { name: 'keep', body: 'k' }]);
    expect(idx.size).to.equal(2004);
    await apply(idx, [{ name: '.wh.top' }]);
    expect(idx.get('/top')).to.equal(undefined);
    expect(idx.size).to.equal(2);
    // The count is live: a later layer may add as many again within the bound.
    await apply(idx, [{ name: 'again/' + 'd/'.repeat(2000) + 'f', body: 'x' }]);
    expect(idx.size).to.equal(2004);
  });

  it('an opaque directory hides everything lower layers put under it, at any depth, and keeps what its own layer put there', async () => {
    const idx = new FsIndex();
    await apply(idx, [
      { name: 'd/', type: '5' }, { name: 'd/x', body: 'lower' }, { name: 'd/sub/', type: '5' }, { name: 'd/sub/y', body: 'lower' },
      { name: 'd/deep/' + 'e/'.repeat(1500) + 'z', body: 'lower' }, { name: 'other/o', body: 'stays' },
    ]);
    await apply(idx, [
      { name: 'd/sub/new', body: 'upper, before the marker' }, { name: 'd/', type: '5' }, { name: 'd/.wh..wh..opq' }, { name: 'd/late', body: 'upper, after' },
    ]);
    expect([...idx.children('/d')!.keys()].sort()).to.deep.equal(['late', 'sub']);
    expect([...idx.children('/d/sub')!.keys()]).to.deep.equal(['new']);
    expect(idx.get('/other/o')?.type).to.equal('file');
    expect(idx.size).to.equal(7); // /, d, d/sub, d/sub/new, d/late, other, other/o
  });

  it('lookups walk names, not string prefixes: "/", trailing parts, and missing components', async () => {
    const idx = new FsIndex();
    await apply(idx, [{ name: 'usr/lib/libc.so.6', body: 'c' }, { name: 'lib', type: '2', link: 'usr/lib' }]);
    expect(idx.get('/')?.type).to.equal('dir');
    expect(idx.get('/usr/lib/libc.so.6')?.size).to.equal(1);
    expect(idx.get('/usr/nope/libc.so.6')).to.equal(undefined);
    expect(idx.get('/lib/libc.so.6')).to.equal(undefined); // the index never follows links: resolve-path does
    expect(idx.paths().sort()).to.deep.equal(['/', '/lib', '/usr', '/usr/lib', '/usr/lib/libc.so.6']);
  });

  it('a directory entry that claims a size does not stall the reading (tar-stream never ends its stream)', async () => {
    const idx = new FsIndex();
    await apply(idx, [{ name: 'lib/', type: '5', size: 1 }, { name: 'lib/x', body: 'x' }, { name: 'd2/', type: '5', size: 1 << 20 }]);
    expect(idx.get('/lib')?.type).to.equal('dir');
  });
});
