// SBOMs attached to an image the way BuildKit attaches them (docs.docker.com, "Image attestation
// storage"): an in-toto statement per document, as the layers of an attestation manifest that the
// image index lists beside the image, for platform unknown/unknown, annotated with the image
// manifest's digest. Registries, `docker buildx imagetools` and scanners find them there.
import { jsonBlob } from './blob.js';
import { buildIndex, imagesOf, type Image, type ImageIndex } from './image.js';
import type { Layer } from './layer.js';
import { MEDIA } from './media-types.js';
import { platformName, type Platform } from './platform.js';

export const IN_TOTO = 'application/vnd.in-toto+json';
export const PREDICATE_SPDX = 'https://spdx.dev/Document';
export const PREDICATE_CYCLONEDX = 'https://cyclonedx.org/bom';
export const PREDICATE_TYPE = 'in-toto.io/predicate-type';
export const REFERENCE_TYPE = 'vnd.docker.reference.type';
export const REFERENCE_DIGEST = 'vnd.docker.reference.digest';
/** What an attestation manifest's index entry says it runs on: nothing (BuildKit's choice, so no runtime picks it). */
export const ATTESTATION_PLATFORM: Platform = { architecture: 'unknown', os: 'unknown' };

export interface AttestedDocument {
  predicateType: string;
  predicate: object;
}

/**
 * The attestation manifest of one image, as an Image value the index lists beside it.
 * `subjectName` is a purl of the image (imagePurl), `image` the image the statements are about.
 */
export function buildAttestation(subjectName: string, image: Image, documents: AttestedDocument[]): Image {
  const manifestDigest = image.manifest.descriptor.digest;
  const subject = [{ name: subjectName, digest: { sha256: manifestDigest.replace(/^sha256:/, '') } }];
  const layers: Layer[] = documents.map((d) => {
    const b = jsonBlob(IN_TOTO, { _type: 'https://in-toto.io/Statement/v0.1', predicateType: d.predicateType, subject, predicate: d.predicate });
    return { descriptor: { ...b.descriptor, annotations: { [PREDICATE_TYPE]: d.predicateType } }, content: b.content };
  });
  // A valid config, ignored by readers: BuildKit writes one for registries that require it.
  const config = jsonBlob(MEDIA.config, { architecture: 'unknown', os: 'unknown', config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.descriptor.digest) } });
  const manifest = jsonBlob(MEDIA.manifest, { schemaVersion: 2, mediaType: MEDIA.manifest, config: config.descriptor, layers: layers.map((l) => l.descriptor) });
  return {
    platform: ATTESTATION_PLATFORM,
    annotations: { [REFERENCE_DIGEST]: manifestDigest, [REFERENCE_TYPE]: 'attestation-manifest' },
    manifest, config, layers,
  };
}

/**
 * The index BuildKit would push: every image (with its platform) first, then each image's
 * attestation manifest in the same order. `documentsOf` gives an image's documents (by its place).
 */
export function attachAttestations(built: Image | ImageIndex, tag: { name: string; tag: string }, documentsOf: (image: Image, i: number) => AttestedDocument[]): ImageIndex {
  const images = imagesOf(built);
  const attestations = images.map((img, i) => buildAttestation(imagePurl(tag.name, tag.tag, img.platform ?? { os: 'linux', architecture: 'unknown' }), img, documentsOf(img, i)));
  return buildIndex([...images, ...attestations]);
}

/** The image as a purl, BuildKit's subject name: pkg:docker/NAME@TAG?platform=OS%2FARCH[%2FVARIANT]. */
export function imagePurl(name: string, tag: string, platform: Platform): string {
  return `pkg:docker/${name}@${encodeURIComponent(tag)}?platform=${encodeURIComponent(platformName(platform))}`;
}
