// A layer as the image spec stores it (image-spec layer.md): a blob (the tar, possibly compressed)
// whose descriptor the manifest lists, and the diff_id — the digest of the uncompressed tar — that
// the config lists. An encoding turns a layer's tar into the stored blob; elfpack writes the tar
// as it is today, and a compressed encoding (gzip, zstd) is another LayerEncoder.
import type { Blob, BlobInfo, ByteSink } from './blob.js';
import { MEDIA } from './media-types.js';

export interface Layer extends Blob {
  /** The digest of the uncompressed tar (the config's rootfs.diff_ids entry); unknown for a layer read without its config. */
  diffId?: string;
}

/** Streams a layer's uncompressed tar into a sink; returns its digest and size (image/tar-writer.ts writeLayer). */
export type LayerTarWriter = (sink: ByteSink) => Promise<BlobInfo>;

/** What encoding a layer measured: the stored blob's media type, digest and size, and the tar's digest. */
export interface LayerInfo extends BlobInfo {
  mediaType: string;
  diffId: string;
}

/**
 * Turns the tar that `tar` streams into the blob written to `sink`. The blob's digest and size are
 * of the bytes given to `sink`; diffId is the tar's own digest. The same tar must give the same
 * bytes (digests are pinned).
 */
export type LayerEncoder = (tar: LayerTarWriter, sink: ByteSink) => Promise<LayerInfo>;

/** The tar as it is: the blob is the tar, so its digest is the diff_id. */
export const uncompressedLayer: LayerEncoder = async (tar, sink) => {
  const info = await tar(sink);
  return { mediaType: MEDIA.layer, digest: info.digest, size: info.size, diffId: info.digest };
};
