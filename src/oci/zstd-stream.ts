// zstd decompression of a layer (RFC 8878) as a stream: Node's own (zlib.createZstdDecompress,
// Node 22.15 and later) when the running Node has it, else fzstd (pure JavaScript). Either way a
// frame scanner reads every frame and block header first (Node's zstd takes a stream cut short
// without complaint; the scanner says it is truncated). fzstd trusts
// the frame header for its window allocation and moves its whole window after every block, so a
// hostile frame could ask for 2 GiB or for millions of 1-byte blocks; ahead of it the scanner
// refuses windows over 8 MiB, blocks over the spec's 128 KiB, dictionaries and reserved bits,
// and streams with more blocks than their size explains. The input reaches fzstd one block at a time, so what one step unpacks is at most
// 128 KiB, held until the reader takes it (backpressure), and the output bound is checked there.
import { Duplex, Transform } from 'node:stream';
import * as zlib from 'node:zlib';

/** The largest window fzstd is given: what skopeo, containerd, BuildKit (klauspost/zstd) and `zstd -19` write. */
export const FZSTD_MAX_WINDOW = 8 << 20;
/** RFC 8878 Block_Maximum_Size: no block holds or unpacks to more. */
const MAX_BLOCK = 128 << 10;
const ZSTD_MAGIC = 0xfd2fb528;

/** A refusal by the scanner or the output bound; layer-blob.ts names the layer and image. */
export class ZstdStreamError extends Error {
  /** `overBound`: the output passed maxOutputBytes (the caller says so in its own words). */
  constructor(readonly code: 'IMAGE_MALFORMED' | 'IMAGE_UNSUPPORTED' | 'IMAGE_LIMIT', message: string, readonly overBound = false) {
    super(message);
  }
}

/**
 * Walks zstd frames and blocks by their headers only (contents are skipped), across chunks.
 * `feed` returns where, in the chunk, each block ends.
 */
export class ZstdFrameScanner {
  private head: number[] = [];
  private state: 'magic' | 'skippable' | 'frame' | 'block' = 'magic';
  /** Bytes to pass over before the next header: block content, checksum, skippable frame. */
  private skip = 0;
  private inBlock = false;
  private lastBlock = false;
  private checksum = false;
  private window = 0;
  /** Window bytes fzstd moves, summed over the blocks so far. */
  private work = 0;
  blocks = 0;

  /** `maxWork`: the most window-bytes moved the stream may cost (see createZstdDecompress). */
  constructor(private readonly maxWindow: number, private readonly maxWork: number) {}

  feed(chunk: Uint8Array): number[] {
    const ends: number[] = [];
    let i = 0;
    while (i < chunk.length || (this.inBlock && this.skip === 0)) {
      if (this.skip > 0 || this.inBlock) {
        const n = Math.min(this.skip, chunk.length - i);
        i += n;
        this.skip -= n;
        if (this.skip > 0) break;
        if (this.inBlock) {
          this.inBlock = false;
          ends.push(i);
          if (this.lastBlock) {
            this.state = 'magic';
            this.skip = this.checksum ? 4 : 0;
          }
        }
        continue;
      }
      this.head.push(chunk[i++]);
      this.header();
    }
    return ends;
  }

  /** Throws unless the stream stopped between frames. */
  end(): void {
    if (this.state !== 'magic' || this.head.length || this.skip > 0 || this.inBlock) throw new ZstdStreamError('IMAGE_MALFORMED', 'the zstd stream is truncated');
  }

  /** Acts on `head` once it holds a whole header of the current state. */
  private header(): void {
    const h = this.head;
    const u32 = (at: number) => (h[at] | (h[at + 1] << 8) | (h[at + 2] << 16) | (h[at + 3] << 24)) >>> 0;
    switch (this.state) {
      case 'magic': {
        if (h.length < 4) return;
        const m = u32(0);
        if (m === ZSTD_MAGIC) this.state = 'frame';
        else if ((m & 0xfffffff0) >>> 0 === 0x184d2a50) this.state = 'skippable';
        else throw new ZstdStreamError('IMAGE_MALFORMED', 'the zstd stream is damaged (not a zstd frame where one should start)');
        break;
      }
      case 'skippable':
        if (h.length < 4) return;
        this.skip = u32(0);
        this.state = 'magic';
        break;
      case 'frame': {
        const fhd = h[0];
        const single = (fhd >> 5) & 1;
        const fcsBytes = [single, 2, 4, 8][fhd >> 6];
        const dictBytes = [0, 1, 2, 4][fhd & 3];
        if (h.length < 1 + (single ? 0 : 1) + dictBytes + fcsBytes) return;
        if (fhd & 8) throw new ZstdStreamError('IMAGE_MALFORMED', 'the zstd stream is damaged (a reserved bit is set)');
        if (dictBytes && h.slice(2 - single, 2 - single + dictBytes).some((b) => b !== 0)) throw new ZstdStreamError('IMAGE_UNSUPPORTED', 'the zstd stream needs a dictionary, which no layer carries');
        if (single) {
          const at = 1 + dictBytes;
          let size = 0;
          for (let k = fcsBytes - 1; k >= 0; k--) size = size * 256 + h[at + k];
          this.window = fcsBytes === 2 ? size + 256 : size;
        } else {
          const wd = h[1];
          const base = 2 ** (10 + (wd >> 3));
          this.window = base + (base / 8) * (wd & 7);
        }
        if (this.window > this.maxWindow) throw new ZstdStreamError('IMAGE_UNSUPPORTED', `its zstd window is ${this.window} bytes; elfpack reads windows up to ${this.maxWindow} on this Node (${process.version}${this.maxWindow < NATIVE_MAX_WINDOW ? '; Node 22.15 and later read up to 128 MiB' : ''})`);
        this.checksum = ((fhd >> 2) & 1) === 1;
        this.state = 'block';
        break;
      }
      case 'block': {
        if (h.length < 3) return;
        const b = h[0] | (h[1] << 8) | (h[2] << 16);
        const type = (b >> 1) & 3;
        const size = b >>> 3;
        if (type === 3) throw new ZstdStreamError('IMAGE_MALFORMED', 'the zstd stream is damaged (a block of the reserved type)');
        if (size > Math.min(MAX_BLOCK, Math.max(this.window, 1))) throw new ZstdStreamError('IMAGE_MALFORMED', `the zstd stream is damaged (a block of ${size} bytes, over the ${MAX_BLOCK} a block may hold)`);
        this.work += this.window;
        this.blocks++;
        if (this.work > this.maxWork) throw new ZstdStreamError('IMAGE_LIMIT', `its zstd stream has more blocks than its size explains (${this.blocks} blocks of a ${this.window}-byte window): refused`);
        this.lastBlock = (b & 1) === 1;
        this.skip = type === 1 ? 1 : size; // an RLE block holds one byte, repeated `size` times
        this.inBlock = true;
        break;
      }
    }
    this.head = [];
  }
}

export interface ZstdDecompressOptions {
  /** Unpacked bytes at most; past them the stream fails with IMAGE_LIMIT (the caller's bound). */
  maxOutputBytes: number;
  /** Use Node's zstd (default: when this Node has it); false takes the fzstd path (tests). */
  native?: boolean;
}

type NativeZstd = { createZstdDecompress?: (o?: object) => Duplex };

/** Whether this Node decompresses zstd itself (22.15 and later). */
export function hasNativeZstd(): boolean {
  return typeof (zlib as unknown as NativeZstd).createZstdDecompress === 'function';
}

/** The largest window Node's zstd reads (zstd's default windowLogMax, 27). */
const NATIVE_MAX_WINDOW = 2 ** 27;

/**
 * The streams, in pipeline order, from zstd bytes to the bytes they unpack to. Both paths scan
 * the frames: Node's zstd takes a stream cut short as if it had ended, and the scanner does not.
 * On the fzstd path the output bound is enforced here too, block by block (a block unpacks to at
 * most 128 KiB), and the scanner's work bound is twice what a stream of 128 KiB blocks with 8 MiB
 * windows costs at that bound.
 */
export async function zstdDecompressStages(opts: ZstdDecompressOptions): Promise<Duplex[]> {
  const native = (zlib as unknown as NativeZstd).createZstdDecompress;
  if (native && opts.native !== false) {
    const scanner = new ZstdFrameScanner(NATIVE_MAX_WINDOW, Infinity);
    const scan = new Transform({
      transform(chunk: Buffer, _enc, done) {
        try {
          scanner.feed(chunk);
          done(null, chunk);
        } catch (err) {
          done(err as Error);
        }
      },
      flush(done) {
        try {
          scanner.end();
          done();
        } catch (err) {
          done(err as Error);
        }
      },
    });
    return [scan, native()];
  }
  const { Decompress } = await import('fzstd');
  const scanner = new ZstdFrameScanner(FZSTD_MAX_WINDOW, 2 * (FZSTD_MAX_WINDOW / MAX_BLOCK) * opts.maxOutputBytes + 2 ** 30);
  let out: Buffer[] = [];
  let bytes = 0;
  const dec = new Decompress((chunk) => {
    bytes += chunk.length;
    if (bytes > opts.maxOutputBytes) throw new ZstdStreamError('IMAGE_LIMIT', `unpacks to more than ${opts.maxOutputBytes} bytes: refused`, true);
    if (chunk.length) out.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  });
  return [Duplex.from(async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      let from = 0;
      // One block per push: fzstd's output for it is whole when push returns, and waits here until read.
      for (const end of [...scanner.feed(chunk), chunk.length]) {
        if (end === from) continue;
        dec.push(chunk.subarray(from, end));
        from = end;
        const ready = out;
        out = [];
        for (const b of ready) yield b;
      }
    }
    scanner.end();
    dec.push(new Uint8Array(0), true);
    for (const b of out) yield b;
  })];
}
