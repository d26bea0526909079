// SBOMs attached to an image the way BuildKit attaches them (docs.docker.com, "Image attestation
// storage"): an in-toto statement per document, as the layers of an attestation manifest that the
// image index lists beside the image, for platform unknown/unknown, annotated with the image
// manifest's digest. Registries, `docker buildx imagetools` and scanners find them there.
import { createHash } from 'node:crypto';

export const IN_TOTO = 'application/vnd.in-toto+json';
export const PREDICATE_SPDX = 'https://spdx.dev/Document';
export const PREDICATE_CYCLONEDX = 'https://cyclonedx.org/bom';
export const REFERENCE_TYPE = 'vnd.docker.reference.type';
export const REFERENCE_DIGEST = 'vnd.docker.reference.digest';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';

export interface AttestationBlob {
  mediaType: string;
  digest: string;
  size: number;
  bytes: Buffer;
  annotations?: Record<string, string>;
}

export interface Attestation {
  /** The attestation manifest's descriptor, as the image index lists it. */
  descriptor: { mediaType: string; digest: string; size: number; platform: { architecture: string; os: string }; annotations: Record<string, string> };
  /** Every blob it needs (manifest, config, statements), to be written or pushed beside the image's. */
  blobs: AttestationBlob[];
}

function blob(mediaType: string, value: unknown, annotations?: Record<string, string>): AttestationBlob {
  const bytes = Buffer.from(JSON.stringify(value));
  return { mediaType, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length, bytes, ...(annotations ? { annotations } : {}) };
}

/**
 * The attestation manifest for one platform's image. `subjectName` is a purl of the image
 * (pkg:docker/NAME@TAG?platform=…), `manifestDigest` the image manifest's digest.
 */
export function buildAttestation(subjectName: string, manifestDigest: string, documents: { predicateType: string; predicate: object }[]): Attestation {
  const subject = [{ name: subjectName, digest: { sha256: manifestDigest.replace(/^sha256:/, '') } }];
  const layers = documents.map((d) => blob(IN_TOTO, { _type: 'https://in-toto.io/Statement/v0.1', predicateType: d.predicateType, subject, predicate: d.predicate }, { 'in-toto.io/predicate-type': d.predicateType }));
  // A valid config, ignored by readers: BuildKit writes one for registries that require it.
  const config = blob(OCI_CONFIG, { architecture: 'unknown', os: 'unknown', config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } });
  const manifest = blob(OCI_MANIFEST, {
    schemaVersion: 2, mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size, annotations: l.annotations })),
  });
  return {
    descriptor: {
      mediaType: OCI_MANIFEST, digest: manifest.digest, size: manifest.size, platform: { architecture: 'unknown', os: 'unknown' },
      annotations: { [REFERENCE_DIGEST]: manifestDigest, [REFERENCE_TYPE]: 'attestation-manifest' },
    },
    blobs: [manifest, config, ...layers],
  };
}

/** The image as a purl, BuildKit's subject name: pkg:docker/NAME@TAG?platform=OS%2FARCH[%2FVARIANT]. */
export function imagePurl(name: string, tag: string, platform: { os: string; architecture: string; variant?: string }): string {
  const p = [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
  return `pkg:docker/${name}@${encodeURIComponent(tag)}?platform=${encodeURIComponent(p)}`;
}
