// An image as a value (image-spec manifest.md, image-index.md): its config, its layers and the
// manifest that names them; several images under one index. Every sink takes this value (the
// archive, the engine, the registry): none re-reads what another wrote.
import { jsonBlob, type Blob } from './blob.js';
import type { Layer } from './layer.js';
import { MEDIA } from './media-types.js';
import type { Platform } from './platform.js';

export interface Image {
  /** What an index says it runs on (undefined for an image read without an index entry saying it). */
  platform?: Platform;
  /** Annotations of its entry in an index (an attestation manifest's vnd.docker.reference.*). */
  annotations?: Record<string, string>;
  manifest: Blob;
  config: Blob;
  /** Lowest first. */
  layers: Layer[];
}

export interface ImageIndex {
  index: Blob;
  /** In the index's order: images, or (read from an image) indexes. */
  manifests: (Image | ImageIndex)[];
}

export function isImageIndex(v: Image | ImageIndex): v is ImageIndex {
  return 'index' in v;
}

/** The image whose manifest names `config` and `layers`. */
export function buildManifest(platform: Platform, config: Blob, layers: Layer[]): Image {
  const manifest = jsonBlob(MEDIA.manifest, {
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config: config.descriptor,
    layers: layers.map((l) => l.descriptor),
  });
  return { platform, manifest, config, layers };
}

/** One index of `images`, each listed with its platform (as buildx lays out a multi-platform image). */
export function buildIndex(images: Image[]): ImageIndex {
  const index = jsonBlob(MEDIA.index, {
    schemaVersion: 2,
    mediaType: MEDIA.index,
    manifests: images.map((img) => ({ ...img.manifest.descriptor, platform: img.platform, ...(img.annotations ? { annotations: img.annotations } : {}) })),
  });
  return { index, manifests: images };
}

/** The top manifest's or index's blob: what a tag names. */
export function topBlob(v: Image | ImageIndex): Blob {
  return isImageIndex(v) ? v.index : v.manifest;
}

/**
 * Every manifest and index under `v`, each after what it names (an index after its manifests),
 * `v` last: the order a registry takes them in. An explicit stack: no recursion.
 */
export function manifestsBottomUp(v: Image | ImageIndex): (Image | ImageIndex)[] {
  const out: (Image | ImageIndex)[] = [];
  const stack: [Image | ImageIndex, boolean][] = [[v, false]];
  while (stack.length) {
    const [m, expanded] = stack.pop()!;
    if (!isImageIndex(m) || expanded) {
      out.push(m);
      continue;
    }
    stack.push([m, true]);
    for (const c of [...m.manifests].reverse()) stack.push([c, false]);
  }
  return out;
}

/**
 * Whether an image of an index is an attestation manifest (oci/attestation.ts: BuildKit's
 * annotation, or its platform unknown/unknown), which holds statements about an image, not files.
 */
export function isAttestationManifest(m: Image): boolean {
  return m.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' || (m.platform?.os === 'unknown' && m.platform?.architecture === 'unknown');
}

/** The runnable images under `v` (not indexes, not attestation manifests), in order. */
export function imagesOf(v: Image | ImageIndex): Image[] {
  return manifestsBottomUp(v).filter((m): m is Image => !isImageIndex(m) && !isAttestationManifest(m));
}
