// The media types elfpack writes and recognises (image-spec media-types.md; Docker's schema 2 names
// for what `docker save` and older registries hand out).
import { ElfpackError } from '../errors.js';

export const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  /** An uncompressed layer tar (--compression none); layer.md's compressed ones below. */
  layer: 'application/vnd.oci.image.layer.v1.tar',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

/** Docker's names for an image index and a manifest, read as the OCI ones. */
export const DOCKER_MEDIA = {
  manifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  manifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

/** Whether a media type names an image index (OCI or Docker's manifest list). */
export function isIndexMediaType(mediaType: string | undefined): boolean {
  return mediaType === MEDIA.index || mediaType === DOCKER_MEDIA.manifestList;
}

/** How a layer is stored: --compression's values. */
export type LayerCompression = 'gzip' | 'zstd' | 'none';

/** Parses --compression's value (here, not in compress-layer.ts, so the CLI's parser loads no compressor). */
export function parseCompression(v: string): LayerCompression {
  if (v === 'gzip' || v === 'zstd' || v === 'none') return v;
  throw new ElfpackError('USAGE', `--compression ${v.slice(0, 40)}: want gzip, zstd or none`);
}
