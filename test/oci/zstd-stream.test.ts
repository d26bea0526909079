// zstd decompression of layers on the fzstd path (Node 20): real frames from the zstd tool cut at
// any byte, hand-made frames of raw and RLE blocks, and every refusal of the frame scanner and
// the bounds, each quick. Node's own zstd (22.15+) is checked where this Node has it.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { hasNativeZstd, zstdDecompressStages, ZstdFrameScanner, ZstdStreamError } from '../../src/oci/zstd-stream.js';
import { needCommand } from '../support/helpers.js';

const MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** A block header: Last_Block, Block_Type (0 raw, 1 RLE, 2 compressed, 3 reserved), Block_Size. */
function blockHeader(size: number, type: number, last: boolean): Buffer {
  const v = (size << 3) | (type << 1) | (last ? 1 : 0);
  return Buffer.from([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff]);
}

/** A frame with a window descriptor (windowLog = 10 + (wd >> 3)) and the given blocks, the last flagged. */
function frame(blocks: { raw?: Buffer; rle?: [number, number]; type?: number; size?: number }[], opts: { wd?: number; fhd?: number; checksum?: boolean } = {}): Buffer {
  const fhd = (opts.fhd ?? 0) | (opts.checksum ? 4 : 0);
  const parts: Buffer[] = [MAGIC, Buffer.from([fhd, opts.wd ?? 0x50])]; // 0x50: a 1 MiB window
  blocks.forEach((b, i) => {
    const last = i === blocks.length - 1;
    if (b.raw) parts.push(blockHeader(b.raw.length, 0, last), b.raw);
    else if (b.rle) parts.push(blockHeader(b.rle[1], 1, last), Buffer.from([b.rle[0]]));
    else parts.push(blockHeader(b.size ?? 0, b.type ?? 3, last), Buffer.alloc(b.size ?? 0));
  });
  if (opts.checksum) parts.push(Buffer.from([1, 2, 3, 4]));
  return Buffer.concat(parts);
}

function zstdTool(input: Buffer, args: string[]): Buffer {
  const r = spawnSync('zstd', ['-q', '-c', ...args], { input, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`zstd ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Unpacks `bytes` fed in pieces of `piece` bytes through the fzstd path (or Node's, with native). */
async function unzstd(bytes: Buffer, opts: { piece?: number; max?: number; native?: boolean } = {}): Promise<Buffer> {
  const piece = opts.piece ?? 1 << 20;
  const out: Buffer[] = [];
  const pieces = function* () { for (let at = 0; at < bytes.length; at += piece) yield Buffer.from(bytes.subarray(at, at + piece)); };
  const stages = await zstdDecompressStages({ maxOutputBytes: opts.max ?? 1 << 30, native: opts.native ?? false });
  const sink = new Writable({ write(c: Buffer, _e, done) { out.push(c); done(); } });
  await pipeline([Readable.from(pieces()), ...stages, sink]);
  return Buffer.concat(out);
}

async function refusal(bytes: Buffer, opts: { max?: number; piece?: number } = {}): Promise<ZstdStreamError> {
  const err = await unzstd(bytes, opts).then(() => undefined, (e: unknown) => e);
  expect(err, 'refused').to.be.instanceOf(ZstdStreamError);
  return err as ZstdStreamError;
}

/** Text and noise, so that the zstd tool makes compressed blocks, not only raw ones. */
function sample(size: number): Buffer {
  const b = Buffer.alloc(size);
  let x = 12345;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = i % 3 === 0 ? x >>> 24 : 'abcdefgh'.charCodeAt((i >> 4) % 8);
  }
  return b;
}

describe('oci/zstd-stream: zstd layers through fzstd, bounded', function () {
  this.timeout(60_000);

  it('unpacks what the zstd tool writes (fast and -19 levels, with and without checksums, two frames and a skippable one), cut at any byte', async function () {
    needCommand(this, 'zstd');
    const a = sample(700_000);
    const b = sample(300_001).reverse();
    const skippable = Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18]), Buffer.from([5, 0, 0, 0]), Buffer.from('hello')]);
    const stream = Buffer.concat([zstdTool(a, ['-1']), skippable, zstdTool(b, ['-19', '--no-check'])]);
    const want = Buffer.concat([a, b]);
    expect((await unzstd(stream)).equals(want)).to.equal(true);
    expect((await unzstd(stream, { piece: 1 })).equals(want), 'fed one byte at a time').to.equal(true);
    expect((await unzstd(stream, { piece: 4099 })).equals(want)).to.equal(true);
  });

  it('unpacks hand-made frames: raw, RLE and empty blocks, a checksum, a single-segment frame', async () => {
    const single = Buffer.concat([MAGIC, Buffer.from([0x20, 5]), blockHeader(5, 0, true), Buffer.from('12345')]); // Single_Segment, FCS 5
    const bytes = Buffer.concat([
      frame([{ raw: Buffer.from('abc') }, { raw: Buffer.alloc(0) }, { rle: [0x41, 100_000] }], { checksum: true }),
      single,
    ]);
    const out = await unzstd(bytes, { piece: 1 });
    expect(out.toString()).to.equal(`abc${'A'.repeat(100_000)}12345`);
  });

  it('refuses a window over 8 MiB, reserved bits and block types, blocks over 128 KiB, dictionaries, and garbage between frames', async () => {
    expect((await refusal(frame([{ raw: Buffer.from('x') }], { wd: 0x70 }))).message).to.match(/zstd window is 16777216 bytes; elfpack reads windows up to 8388608/);
    expect((await unzstd(frame([{ raw: Buffer.from('x') }], { wd: 0x68 }))).toString(), '8 MiB is accepted').to.equal('x');
    expect((await refusal(frame([{ raw: Buffer.from('x') }], { fhd: 8 }))).message).to.match(/reserved bit/);
    expect((await refusal(frame([{ type: 3, size: 1 }]))).message).to.match(/reserved type/);
    expect((await refusal(frame([{ rle: [0, 200_000] }]))).message).to.match(/block of 200000 bytes, over the 131072/);
    expect((await refusal(Buffer.concat([MAGIC, Buffer.from([0x01, 0x50, 7]), blockHeader(1, 0, true), Buffer.from('x')]))).code).to.equal('IMAGE_UNSUPPORTED');
    expect((await refusal(Buffer.concat([frame([{ raw: Buffer.from('x') }]), Buffer.from('garbage!')]))).message).to.match(/not a zstd frame/);
  });

  it('a stream cut in a header, in a block or before its checksum is truncated', async () => {
    const whole = frame([{ raw: Buffer.from('abcdef') }, { rle: [1, 10] }], { checksum: true });
    for (const cut of [3, 5, 7, 12, whole.length - 2]) {
      expect((await refusal(whole.subarray(0, cut), { piece: 1 })).message, `cut at ${cut}`).to.match(/truncated/);
    }
  });

  it('an RLE bomb stops at the output bound, holding no more than a block at a time', async () => {
    // 4 bytes per 128 KiB: 8 KB of blocks claim 256 MiB.
    const bomb = frame(Array.from({ length: 2048 }, () => ({ rle: [0, 128 << 10] as [number, number] })), { wd: 0x38 });
    const before = process.memoryUsage().rss;
    const err = await refusal(bomb, { max: 16 << 20 });
    expect(err.code).to.equal('IMAGE_LIMIT');
    expect(err.overBound).to.equal(true);
    expect(process.memoryUsage().rss - before).to.be.below(200 << 20);
  });

  it('many tiny blocks in a large window are refused before fzstd moves its window for each (quickly)', async () => {
    // fzstd shifts its whole window after every block: 100,000 one-byte blocks in an 8 MiB window
    // would move 800 GB. The scanner's budget (128× the output bound + 1 GiB of window moves) stops it.
    const tiny = frame(Array.from({ length: 100_000 }, () => ({ raw: Buffer.from('x') })), { wd: 0x68 });
    const t0 = Date.now();
    const err = await refusal(tiny, { max: 1 << 20 });
    expect(err.code).to.equal('IMAGE_LIMIT');
    expect(err.message).to.match(/more blocks than its size explains/);
    expect(Date.now() - t0).to.be.below(10_000);
  });

  it('the scanner reports where each block ends, across pieces', () => {
    const s = new ZstdFrameScanner(8 << 20, 2 ** 40);
    const f = frame([{ raw: Buffer.from('ab') }, { raw: Buffer.alloc(0) }, { rle: [7, 9] }]);
    // magic 4 + FHD/WD 2, then blocks of 3+2, 3+0, 3+1 bytes
    expect(s.feed(f.subarray(0, 8))).to.deep.equal([]);
    expect(s.feed(f.subarray(8))).to.deep.equal([3, 6, 10]);
    s.end();
    expect(s.blocks).to.equal(3);
  });

  it('Node\'s own zstd, where this Node has it, unpacks the same stream', async function () {
    needCommand(this, 'zstd');
    const a = sample(500_000);
    const z = zstdTool(a, ['-3']);
    if (!hasNativeZstd()) {
      // Node 20: the fzstd path is the only one; asked for the native one, it still unpacks.
      expect((await unzstd(z, { native: true })).equals(a)).to.equal(true);
      return;
    }
    expect((await unzstd(z, { native: true })).equals(a)).to.equal(true);
    expect(await unzstd(z.subarray(0, z.length - 5), { native: true }).then(() => 'unpacked', () => 'refused')).to.equal('refused');
  });
});
