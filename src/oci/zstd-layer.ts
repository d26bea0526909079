// A layer tar as one zstd frame (RFC 8878), through Node's own zstd (node:zlib, Node 22.15 and
// later). Deterministic: fixed level 3 (zstd's default, what containerd and BuildKit write),
// content checksum on (as the zstd tool and klauspost/zstd write), no content size (the stream's
// length is not known ahead), one thread; the bytes depend only on the input and the zstd in
// Node, not on how the input is cut into chunks. On Node 20 there is no zstd writer worth
// depending on (README "--compression"): zstdLayer refuses with one line.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import * as zlib from 'node:zlib';
import { ElfpackError } from '../errors.js';
import type { LayerDigests } from './gzip-layer.js';
import { forEachChunk, type ByteSink, type LayerChunks } from './layer-chunks.js';

export const ZSTD_LEVEL = 3;

type NativeZstd = {
  createZstdCompress?: (o?: { params?: Record<number, number> }) => Duplex;
  constants: Record<string, number>;
};

/** Whether this Node writes zstd (22.15 and later). */
export function canWriteZstd(): boolean {
  return typeof (zlib as unknown as NativeZstd).createZstdCompress === 'function';
}

/** zstd-compresses the layer in `chunks` into `sink`; returns its digests. */
export async function zstdLayer(chunks: LayerChunks, sink: ByteSink): Promise<LayerDigests> {
  const z = zlib as unknown as NativeZstd;
  if (!z.createZstdCompress) {
    throw new ElfpackError('USAGE', `zstd layers need Node 22.15 or later to write (this is ${process.version}); use --compression gzip`, { step: 'layer' });
  }
  const c = z.constants;
  const enc = z.createZstdCompress({ params: { [c.ZSTD_c_compressionLevel]: ZSTD_LEVEL, [c.ZSTD_c_checksumFlag]: 1, [c.ZSTD_c_nbWorkers]: 0 } });
  const plain = createHash('sha256');
  const packed = createHash('sha256');
  let plainBytes = 0;
  let packedBytes = 0;
  const drained = (async () => {
    for await (const out of enc as AsyncIterable<Buffer>) {
      packed.update(out);
      packedBytes += out.length;
      await sink(out);
    }
  })();
  drained.catch(() => undefined); // awaited below
  try {
    await forEachChunk(chunks, async (chunk) => {
      plain.update(chunk);
      plainBytes += chunk.length;
      // Copied: the producer may reuse its buffer once this returns, and the encoder may not be done with it.
      if (!enc.write(Buffer.from(chunk))) await Promise.race([once(enc, 'drain'), drained]);
    });
    enc.end();
    await drained;
  } catch (err) {
    enc.destroy();
    await drained.catch(() => undefined);
    throw err;
  }
  return { digest: `sha256:${packed.digest('hex')}`, size: packedBytes, diffId: `sha256:${plain.digest('hex')}`, uncompressedSize: plainBytes };
}
