// One call from an uncompressed layer to the blob a manifest names: compressed (gzip, zstd) or
// not, with the media type image-spec layer.md gives each (application/vnd.oci.image.layer.v1.tar,
// +gzip, +zstd), the digest and size of the bytes written, and the diff_id (the digest of the
// uncompressed tar) the config's rootfs.diff_ids lists.
import { createHash } from 'node:crypto';
import { ElfpackError } from '../errors.js';
import { gzipLayer, type GzipLayerOptions, type LayerDigests } from './gzip-layer.js';
import { forEachChunk, type ByteSink, type LayerChunks } from './layer-chunks.js';
import type { LayerEncoder } from './layer.js';
import { MEDIA, parseCompression, type LayerCompression } from './media-types.js';

export { parseCompression, type LayerCompression };
import { uncompressedLayer } from './layer.js';
import { canWriteZstd, zstdLayer } from './zstd-layer.js';

export type { ByteSink, LayerChunks } from './layer-chunks.js';


/** image-spec media-types.md / layer.md. */
export const LAYER_MEDIA_TYPES: Readonly<Record<LayerCompression, string>> = {
  none: MEDIA.layer,
  gzip: MEDIA.layerGzip,
  zstd: MEDIA.layerZstd,
};

/** A layer's descriptor fields (mediaType, digest, size) and its diff_id. */
export interface LayerDescriptorInfo extends LayerDigests {
  mediaType: string;
}

export interface CompressLayerOptions {
  /** gzip only: worker threads (default: the cores Node may use); never changes the bytes. */
  workers?: GzipLayerOptions['workers'];
}

/**
 * Compresses the uncompressed layer tar in `chunks` into `sink`: bytes in order, one call at a
 * time, each awaited. gzip and zstd give `sink` fresh buffers it may keep; 'none' passes the
 * chunks through as given, so `sink` must be done with each when its promise settles (the tar
 * writer's contract). The same input and kind give the same bytes (README "--compression").
 */
export async function compressLayer(kind: LayerCompression, chunks: LayerChunks, sink: ByteSink, opts: CompressLayerOptions = {}): Promise<LayerDescriptorInfo> {
  const mediaType = LAYER_MEDIA_TYPES[kind];
  if (!mediaType) throw new ElfpackError('USAGE', `compression "${String(kind).slice(0, 40)}": want gzip, zstd or none`);
  if (kind === 'gzip') return { mediaType, ...await gzipLayer(chunks, sink, { workers: opts.workers }) };
  if (kind === 'zstd') return { mediaType, ...await zstdLayer(chunks, sink) };
  const hash = createHash('sha256');
  let size = 0;
  await forEachChunk(chunks, async (chunk) => {
    hash.update(chunk);
    size += chunk.length;
    await sink(chunk);
  });
  const digest = `sha256:${hash.digest('hex')}`;
  return { mediaType, digest, size, diffId: digest, uncompressedSize: size };
}

/**
 * How image/build-image.ts turns each layer tar into its blob, for `kind`. Fails at once (before
 * any packing) when this Node cannot write it (zstd before 22.15).
 */
export function layerEncoder(kind: LayerCompression, opts: CompressLayerOptions = {}): LayerEncoder {
  parseCompression(kind);
  if (kind === 'none') return uncompressedLayer; // the tar writer hashes it already
  if (kind === 'zstd' && !canWriteZstd()) {
    throw new ElfpackError('USAGE', `--compression zstd needs Node 22.15 or later to write zstd (this is ${process.version}); use gzip`);
  }
  return (tar, sink) => compressLayer(kind, tar, sink, opts);
}
