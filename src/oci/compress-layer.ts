// One call from an uncompressed layer to the blob a manifest names: compressed (gzip, zstd) or
// not, with the media type image-spec layer.md gives each (application/vnd.oci.image.layer.v1.tar,
// +gzip, +zstd), the digest and size of the bytes written, and the diff_id (the digest of the
// uncompressed tar) the config's rootfs.diff_ids lists.
import { createHash } from 'node:crypto';
import { ElfpackError } from '../errors.js';
import { gzipLayer, type GzipLayerOptions, type LayerDigests } from './gzip-layer.js';
import { forEachChunk, type ByteSink, type LayerChunks } from './layer-chunks.js';
import { zstdLayer } from './zstd-layer.js';

export type { ByteSink, LayerChunks } from './layer-chunks.js';

export type LayerCompression = 'gzip' | 'zstd' | 'none';

/** image-spec media-types.md / layer.md. */
export const LAYER_MEDIA_TYPES: Readonly<Record<LayerCompression, string>> = {
  none: 'application/vnd.oci.image.layer.v1.tar',
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
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
