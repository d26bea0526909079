// How a layer's bytes reach a compressor and leave it: as chunks pushed into a ByteSink (what the
// tar writer produces) or pulled from an iterable (a file's read stream), and out into a ByteSink.

import type { ByteSink } from './blob.js';

export type { ByteSink };

/** An uncompressed layer: chunks to iterate, or a producer that pushes them into a sink and resolves when done. */
export type LayerChunks = AsyncIterable<Uint8Array> | Iterable<Uint8Array> | ((sink: ByteSink) => Promise<unknown>);

/** Calls `fn` on every chunk of `chunks` in order, waiting for each returned promise. */
export async function forEachChunk(chunks: LayerChunks, fn: ByteSink): Promise<void> {
  if (typeof chunks === 'function') {
    await chunks(fn);
    return;
  }
  for await (const c of chunks as AsyncIterable<Uint8Array>) {
    await fn(Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength));
  }
}

