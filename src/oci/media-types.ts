// The media types elfpack writes and recognises (image-spec media-types.md; Docker's schema 2 names
// for what `docker save` and older registries hand out).
export const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  /** An uncompressed layer tar: what elfpack writes today (compressed layers have their own types). */
  layer: 'application/vnd.oci.image.layer.v1.tar',
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
