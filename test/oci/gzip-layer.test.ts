// The parallel gzip writer: one gzip member that any reader takes, the same bytes whatever the
// number of workers or the cut of the input, digests of both sides, bounded memory in flight.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { crc32, gunzipSync, inflateRawSync } from 'node:zlib';
import { GZIP_BLOCK_BYTES, GZIP_LEVEL, GzipLayerWriter, gzipLayer } from '../../src/oci/gzip-layer.js';

/** Bytes that compress like a layer does, somewhat: text runs between pseudo-random runs (xorshift, fixed seed). */
function layerLike(size: number): Buffer {
  const b = Buffer.alloc(size);
  let x = 0x9e3779b9;
  const text = Buffer.from('/usr/lib/x86_64-linux-gnu/libc.so.6 GLIBC_2.34 __libc_start_main ');
  for (let at = 0; at < size;) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    const run = 64 + (x % 4096);
    if (x & 1) for (let i = 0; i < run && at < size; i++) b[at++] = text[i % text.length];
    else for (let i = 0; i < run && at < size; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x >>>= 0; b[at++] = x & 0xff; }
  }
  return b;
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Compresses `input` cut into pieces of `piece` bytes; returns the bytes written and the digests. */
async function gz(input: Buffer, opts: { workers?: number; level?: number; piece?: number } = {}) {
  const out: Buffer[] = [];
  const piece = opts.piece ?? 1 << 20;
  const chunks = function* () { for (let at = 0; at < input.length; at += piece) yield input.subarray(at, at + piece); };
  const info = await gzipLayer(chunks(), (b) => { out.push(b); }, { workers: opts.workers, level: opts.level });
  return { bytes: Buffer.concat(out), info };
}

describe('oci/gzip-layer: deterministic parallel gzip of a layer', function () {
  this.timeout(60_000);
  const input = layerLike(3 * GZIP_BLOCK_BYTES + 12_345);

  it('writes one gzip member with a fixed header (mtime 0, no name, OS 255) whose single deflate stream and CRC cover the whole input', async () => {
    const { bytes, info } = await gz(input, { workers: 2 });
    expect([...bytes.subarray(0, 10)]).to.deep.equal([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    // One raw deflate stream between header and trailer: no second member, no stray bytes.
    expect(inflateRawSync(bytes.subarray(10, bytes.length - 8)).equals(input)).to.equal(true);
    expect(bytes.readUInt32LE(bytes.length - 8)).to.equal(crc32(input));
    expect(bytes.readUInt32LE(bytes.length - 4)).to.equal(input.length);
    expect(gunzipSync(bytes).equals(input)).to.equal(true);
    expect(info).to.deep.equal({ digest: sha(bytes), size: bytes.length, diffId: sha(input), uncompressedSize: input.length });
  });

  it('gives the same bytes on this thread, on 1 worker and on 3, and whatever the cut of the input (a pinned digest)', async () => {
    const runs = await Promise.all([
      gz(input, { workers: 0 }), gz(input, { workers: 1, piece: 4093 }), gz(input, { workers: 3, piece: 3 << 20 }), gz(input, { workers: 2, piece: 997 }),
    ].map(async (p) => (await p).info.digest));
    expect(new Set(runs).size, runs.join(' ')).to.equal(1);
    // Pinned with Node 20's zlib (1.3.1-e00f703; Node 22's 1.3.1-470d3a2 gives the same bytes). If a
    // new Node's zlib deflates differently, this digest changes with it: images stay reproducible
    // for one elfpack and one Node.
    expect(runs[0]).to.equal('sha256:36f9b48d7a09efa353db390801f69b7c71fd6674ee9ec299aac34170c9702fae');
  });

  it('is deflate level 3 by default (GZIP_LEVEL): the level is part of the bytes, and of the XFL byte at the ends', async () => {
    const [d, l1, l3, l9] = await Promise.all([gz(input), gz(input, { level: 1 }), gz(input, { level: GZIP_LEVEL }), gz(input, { level: 9 })]);
    expect(GZIP_LEVEL).to.equal(3);
    expect(d.info.digest).to.equal(l3.info.digest);
    expect(l3.info.size).to.be.below(l1.info.size);
    expect(l9.info.size).to.be.below(l3.info.size);
    expect([l1.bytes[8], l3.bytes[8], l9.bytes[8]], 'XFL: 4 fastest, 2 slowest, else 0').to.deep.equal([4, 0, 2]);
  });

  it('takes input of exactly whole blocks, a single short block and no bytes at all', async () => {
    for (const size of [2 * GZIP_BLOCK_BYTES, GZIP_BLOCK_BYTES, 1000, 0]) {
      const data = input.subarray(0, size);
      const { bytes, info } = await gz(data, { workers: 2 });
      expect(gunzipSync(bytes).equals(data), `${size} bytes`).to.equal(true);
      expect(info.diffId).to.equal(sha(data));
    }
  });

  it('keeps at most two blocks per worker in flight while the sink is slow, then catches up', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const out: Buffer[] = [];
    const w = new GzipLayerWriter(async (b) => { await gate; out.push(b); }, { workers: 1 });
    let accepted = 0;
    const producing = (async () => {
      for (let i = 0; i < 12; i++) {
        await w.write(input.subarray(0, GZIP_BLOCK_BYTES));
        accepted++;
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    // One worker: at most two pieces wait for the sink, the header (held there) and the first
    // block; the write that hands over the second block waits, so nothing more is read.
    expect(accepted).to.equal(1);
    release();
    await producing;
    const info = await w.finish();
    expect(accepted).to.equal(12);
    expect(gunzipSync(Buffer.concat(out)).length).to.equal(12 * GZIP_BLOCK_BYTES);
    expect(info.uncompressedSize).to.equal(12 * GZIP_BLOCK_BYTES);
  });

  it('a producer that fails fails the layer, and nothing reaches the sink after the failure is reported', async () => {
    let writes = 0;
    let after = 0;
    let failed = false;
    const producer = async (sink: (b: Buffer) => void | Promise<void>) => {
      for (let i = 0; i < 5; i++) await sink(input.subarray(0, GZIP_BLOCK_BYTES));
      throw new Error('disk went away');
    };
    const err = await gzipLayer(producer, () => { writes++; if (failed) after++; }, { workers: 2 }).catch((e: Error) => e);
    failed = true;
    await new Promise((r) => setTimeout(r, 200));
    expect(String(err)).to.match(/disk went away/);
    expect(after).to.equal(0);
    expect(writes).to.be.at.most(6);
  });

  it('a sink that fails fails the layer with its error', async () => {
    const err = await gzipLayer([input], (b) => { if (b.length > 10) throw new Error('ENOSPC'); }, { workers: 2 }).catch((e: Error) => e);
    expect(String(err)).to.match(/ENOSPC/);
  });

  it('refuses a level outside 1-9', () => {
    expect(() => new GzipLayerWriter(() => undefined, { level: 0 })).to.throw(/want 1 to 9/);
  });
});
