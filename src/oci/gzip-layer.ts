// A layer tar as one deterministic gzip member (RFC 1952), compressed in parallel as pigz and
// pgzip do: the input is cut into 1 MiB blocks, each deflated on a worker thread with the 32 KiB
// before it as a preset dictionary and ended by a sync flush, and the pieces are concatenated in
// order into ONE deflate stream under one header, with the CRC-32 and length of the whole input.
// Any gzip reader takes it (docker, containerd, skopeo, umoci: Go's compress/gzip). The bytes
// depend only on the input, the level and Node's zlib: never on the number of workers or on
// timing, since block boundaries and dictionaries come from the input alone.
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { crc32 } from 'node:zlib';
import { deflateBlock, deflatePool, type DeflatePool } from './deflate-pool.js';
import { forEachChunk, type ByteSink, type LayerChunks } from './layer-chunks.js';

/**
 * Uncompressed bytes per block. pigz takes 128 KiB, pgzip 1 MiB; measured on node's closure
 * (104 MB) at level 4, 128 KiB to 4 MiB blocks differ by 0.03% in size (the dictionary carries
 * the context over), and 1 MiB keeps the messages to the workers few (one per ~10 ms of work).
 */
export const GZIP_BLOCK_BYTES = 1 << 20;
/**
 * The deflate level. On node's closure (104 MB), one core, memLevel 9: level 2 gives 42.0 MB in
 * 1.11 s, level 3 41.4 MB in 1.25 s, level 4 40.4 MB in 1.41 s, level 6 (gzip's default) 39.4 MB
 * in 2.46 s; skopeo's pgzip at its default gives 40.8 MB. On two cores, level 3 is the highest
 * that stays ahead of skopeo's time (level 4 took 1.05-1.12× it), at 1.016× its size.
 */
export const GZIP_LEVEL = 3;
/** What deflate can look back: the dictionary each block gets from the one before. */
const DICT_BYTES = 32 << 10;
/** Workers at most, whatever the core count: beyond this, hashing on the main thread is the limit. */
const MAX_WORKERS = 16;

/** What the manifest and config need of a layer written compressed. */
export interface LayerDigests {
  /** "sha256:<hex>" of the bytes written (the blob's digest). */
  digest: string;
  /** Bytes written. */
  size: number;
  /** "sha256:<hex>" of the uncompressed tar (the config's rootfs.diff_ids entry). */
  diffId: string;
  /** Bytes of the uncompressed tar. */
  uncompressedSize: number;
}

export interface GzipLayerOptions {
  /** Deflate level 1-9 (default GZIP_LEVEL). Part of what decides the bytes. */
  level?: number;
  /**
   * Worker threads (default: the cores Node may use, at most 16); 0 compresses on this thread.
   * Never changes the bytes. A layer of one block (under 1 MiB) is compressed on this thread.
   */
  workers?: number;
}

/** The number of workers used when none is asked for. */
export function defaultGzipWorkers(): number {
  return Math.max(1, Math.min(availableParallelism(), MAX_WORKERS));
}

/** A gzip member's fixed header: no name, no comment, mtime 0, OS 255 ("unknown", as Go writes). */
function gzipHeader(level: number): Buffer {
  // XFL as zlib sets it: 2 for the slowest level, 4 for the fastest, else 0.
  const xfl = level === 9 ? 2 : level === 1 ? 4 : 0;
  return Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 0xff]);
}

/**
 * Takes the uncompressed layer through `write` (a ByteSink: chunks are copied, so the caller may
 * reuse them once the returned promise settles) and gives the gzip bytes to `sink`, in order, one
 * call at a time. Memory stays within 2 blocks per worker in flight (in and out), whatever the size.
 */
export class GzipLayerWriter {
  private readonly level: number;
  private readonly workers: number;
  private readonly maxInFlight: number;
  private block = Buffer.allocUnsafeSlow(GZIP_BLOCK_BYTES);
  private fill = 0;
  private dict?: Buffer;
  private crc = 0;
  private plain = createHash('sha256');
  private plainBytes = 0;
  private packed = createHash('sha256');
  private packedBytes = 0;
  /** Resolves when everything submitted so far has reached the sink; the last link of the chain. */
  private chain: Promise<void> = Promise.resolve();
  private emits: Promise<void>[] = [];
  private pool?: DeflatePool;
  /** Block buffers back from the workers, reused: 100 MB of input does not become 100 MB of garbage. */
  private spare: ArrayBuffer[] = [];
  private aborted = false;
  private finished = false;

  constructor(private readonly sink: ByteSink, opts: GzipLayerOptions = {}) {
    this.level = opts.level ?? GZIP_LEVEL;
    if (!Number.isInteger(this.level) || this.level < 1 || this.level > 9) throw new RangeError(`gzip level ${this.level}: want 1 to 9`);
    this.workers = Math.min(opts.workers ?? defaultGzipWorkers(), MAX_WORKERS);
    this.maxInFlight = Math.max(2, 2 * this.workers);
    this.enqueue(Promise.resolve(gzipHeader(this.level)));
  }

  /** Takes the next uncompressed bytes. */
  readonly write = async (chunk: Buffer): Promise<void> => {
    if (this.finished) throw new Error('write after finish');
    for (let at = 0; at < chunk.length;) {
      const n = Math.min(chunk.length - at, GZIP_BLOCK_BYTES - this.fill);
      chunk.copy(this.block, this.fill, at, at + n);
      this.fill += n;
      at += n;
      if (this.fill === GZIP_BLOCK_BYTES) await this.submit(false);
    }
  };

  /** Compresses what is left, writes the trailer, and returns the digests once the sink has it all. */
  async finish(): Promise<LayerDigests> {
    if (this.finished) throw new Error('finish called twice');
    this.finished = true;
    await this.submit(true);
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(this.crc >>> 0, 0);
    trailer.writeUInt32LE(this.plainBytes % 2 ** 32, 4); // ISIZE: the length modulo 2^32 (RFC 1952)
    this.enqueue(Promise.resolve(trailer));
    await this.chain;
    return {
      digest: `sha256:${this.packed.digest('hex')}`, size: this.packedBytes,
      diffId: `sha256:${this.plain.digest('hex')}`, uncompressedSize: this.plainBytes,
    };
  }

  /** Stops writing to the sink (after a failure elsewhere) and waits for what is in flight to settle. */
  async abort(): Promise<void> {
    this.aborted = true;
    this.finished = true;
    await this.chain.catch(() => undefined);
  }

  /** Hands the current block to a worker (or this thread) and waits while too many are in flight. */
  private async submit(last: boolean): Promise<void> {
    const data = this.block;
    const length = this.fill;
    const view = data.subarray(0, length);
    this.crc = crc32(view, this.crc);
    this.plain.update(view);
    this.plainBytes += length;
    const dict = this.dict;
    // Only the last block can be short, and nothing follows it: a full block always has 32 KiB to give.
    this.dict = last ? undefined : Buffer.from(view.subarray(length - DICT_BYTES));
    const spare = this.spare.pop();
    this.block = last ? Buffer.alloc(0) : spare ? Buffer.from(spare) : Buffer.allocUnsafeSlow(GZIP_BLOCK_BYTES);
    this.fill = 0;
    this.enqueue(this.compress(data, length, dict, last));
    while (this.emits.length > this.maxInFlight) await this.emits.shift();
  }

  /**
   * Workers start with the first full block: a layer of one block never waits for them. `data`
   * owns its ArrayBuffer (allocUnsafeSlow), which moves to the worker and back without a copy.
   */
  private compress(data: Buffer, length: number, dict: Buffer | undefined, last: boolean): Promise<Buffer> {
    if (this.workers > 0 && (!last || this.pool)) {
      this.pool ??= deflatePool(this.workers);
      return this.pool.run(data.buffer as ArrayBuffer, length, dict, last, this.level).then(({ out, input }) => {
        if (this.spare.length < this.maxInFlight) this.spare.push(input);
        return out;
      });
    }
    return Promise.resolve().then(() => deflateBlock(data.subarray(0, length), dict, last, this.level));
  }

  /** Output goes to the sink in submission order, whichever block finishes first. */
  private enqueue(piece: Promise<Buffer>): void {
    piece.catch(() => undefined); // awaited below; a failure surfaces through the chain
    this.chain = this.chain.then(() => piece).then((out) => {
      if (this.aborted) return undefined;
      this.packed.update(out);
      this.packedBytes += out.length;
      return this.sink(out);
    });
    this.chain.catch(() => undefined);
    this.emits.push(this.chain);
  }
}

/** Gzip-compresses the layer in `chunks` into `sink`; returns its digests. */
export async function gzipLayer(chunks: LayerChunks, sink: ByteSink, opts: GzipLayerOptions = {}): Promise<LayerDigests> {
  const w = new GzipLayerWriter(sink, opts);
  try {
    await forEachChunk(chunks, w.write);
    return await w.finish();
  } catch (err) {
    await w.abort();
    throw err;
  }
}
