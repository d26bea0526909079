// A saved FsIndex reads back as the same index, and any doubt (a truncated or garbled file, a
// record out of bounds, a data file changed since) gives undefined, never a wrong index.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsIndex } from '../../src/root/fs-index.js';
import { readIndexFile, writeIndexFile } from '../../src/root/index-file.js';
import { tarOf } from '../support/image-builder.js';

describe('root/index-file: a built index saved and read back', function () {
  this.timeout(60_000);
  let dir: string;
  let layer: string;
  let saved: string;
  let index: FsIndex;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'elfpack-index-file-'));
    layer = join(dir, 'layer.tar');
    writeFileSync(layer, tarOf([
      { name: 'usr/', type: '5', mode: 0o755 }, { name: 'usr/lib/', type: '5', mode: 0o700 },
      { name: 'usr/lib/z', body: 'zzz', mode: 0o644 }, { name: 'usr/lib/a', body: 'a', mode: 0o4755 },
      { name: 'lib', type: '2', link: 'usr/lib' }, { name: 'usr/lib/hard', type: '1', link: 'usr/lib/z' },
    ]));
    index = new FsIndex();
    await index.applyLayer(layer);
    saved = join(dir, 'root.index');
    await writeIndexFile(saved, index, { what: 'test' });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** The whole index as text: names in directory order, with every field. */
  const dump = (idx: FsIndex) => idx.snapshot().map((r) => JSON.stringify(r));

  it('reads back the same entries, in the same order, with the metadata', () => {
    const back = readIndexFile(saved)!;
    expect(back.meta).to.deep.equal({ what: 'test' });
    expect(dump(back.index)).to.deep.equal(dump(index));
    expect(back.index.size).to.equal(index.size);
    expect(back.index.get('/usr/lib/hard')).to.deep.include({ type: 'file', size: 3, data: index.get('/usr/lib/z')!.data });
    expect(back.index.get('/lib')).to.include({ type: 'symlink', target: 'usr/lib' });
  });

  it('a missing, truncated or garbled file is not used', () => {
    expect(readIndexFile(join(dir, 'none'))).to.equal(undefined);
    const bytes = readFileSync(saved);
    const garbled = Buffer.from(bytes);
    garbled[bytes.length - 10] ^= 1;
    writeFileSync(saved, garbled);
    expect(readIndexFile(saved)).to.equal(undefined);
    writeFileSync(saved, bytes.subarray(0, bytes.length - 20));
    expect(readIndexFile(saved)).to.equal(undefined);
    truncateSync(saved, 0);
    expect(readIndexFile(saved)).to.equal(undefined);
  });

  it('a data file that changed since (size or mtime) makes the index unusable', () => {
    utimesSync(layer, new Date(1000), new Date(1000));
    expect(readIndexFile(saved)).to.equal(undefined);
    appendFileSync(layer, Buffer.alloc(512));
    expect(readIndexFile(saved)).to.equal(undefined);
  });

  it('records out of bounds are refused even under a right checksum, and so are more entries than allowed', () => {
    const text = readFileSync(saved, 'utf8');
    const body = JSON.parse(text.slice(text.indexOf('\n') + 1));
    const rewrite = (change: (b: typeof body) => void) => {
      const b = structuredClone(body);
      change(b);
      const json = JSON.stringify(b);
      writeFileSync(saved, `elfpack-index/1 ${createHash('sha256').update(json).digest('hex')}\n${json}`);
      return readIndexFile(saved);
    };
    expect(rewrite(() => undefined)).to.not.equal(undefined); // the rewriting itself is sound
    const fileAt = body.records.findIndex((r: unknown[]) => r[2] === 'f');
    expect(rewrite((b) => { b.records[fileAt][6] = 1 << 30; })).to.equal(undefined); // bytes past the data file
    expect(rewrite((b) => { b.records[fileAt][5] = 7; })).to.equal(undefined); // no such data file
    expect(rewrite((b) => { b.records[1][0] = 5; })).to.equal(undefined); // a parent after its child
    expect(rewrite((b) => { b.records[1][1] = '..'; })).to.equal(undefined);
    expect(rewrite((b) => { b.records[1][1] = 'a/b'; })).to.equal(undefined);
    expect(rewrite((b) => { b.records[1][2] = 'x'; })).to.equal(undefined);
    expect(rewrite((b) => { b.records[1][3] = 0o17777; })).to.equal(undefined);
    expect(rewrite((b) => { b.records.push([-1, 'usr', 'd', 0o755, 0]); })).to.equal(undefined); // a name twice
    expect(rewrite((b) => { b.records.push([-1, 'deep', 'l', 0o777, 0, 'x'.repeat(5000)]); })).to.equal(undefined);
    expect(rewrite((b) => { b.files[0].path = 'relative.tar'; })).to.equal(undefined);
    expect(readIndexFile(saved, { maxEntries: 3 })).to.equal(undefined);
  });

  it('a path past 4095 bytes, built one name at a time, is refused', () => {
    const records = [];
    for (let i = 0; i < 20; i++) records.push([i - 1, 'n'.repeat(250), 'd', 0o755, 0]);
    const json = JSON.stringify({ meta: null, files: [], records });
    writeFileSync(saved, `elfpack-index/1 ${createHash('sha256').update(json).digest('hex')}\n${json}`);
    expect(readIndexFile(saved)).to.equal(undefined);
  });
});
