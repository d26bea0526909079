// An image as content-addressed blobs (image-spec manifest.md, image-index.md): config + layers
// → manifest; several manifests (one per platform) → index. JSON is serialized once, and the
// digest is taken of exactly those bytes.
import { createHash } from 'node:crypto';
import { ElfpackError } from '../errors.js';
import type { Platform } from './config.js';

export const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

/** A blob: its descriptor, and where its bytes are (in memory, or a file written earlier). */
export interface Blob {
  descriptor: Descriptor;
  content?: Buffer;
  file?: string;
}

export interface PlatformImage {
  platform: Platform;
  manifest: Blob;
  config: Blob;
  layers: Blob[];
}

export function sha256(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

export function jsonBlob(mediaType: string, value: unknown): Blob {
  const content = Buffer.from(JSON.stringify(value));
  return { descriptor: { mediaType, digest: sha256(content), size: content.length }, content };
}

export function buildImage(platform: Platform, config: object, layers: Blob[]): PlatformImage {
  const configBlob = jsonBlob(MEDIA.config, config);
  const manifest = jsonBlob(MEDIA.manifest, {
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config: configBlob.descriptor,
    layers: layers.map((l) => l.descriptor),
  });
  return { platform, manifest, config: configBlob, layers };
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:localhost|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+|[a-zA-Z0-9.-]+:\d+)$/;

/** "name:tag" → repository and tag, checked against the distribution spec's grammar. */
export function parseTag(ref: string): { repository: string; tag: string; full: string } {
  const slash = ref.lastIndexOf('/');
  const at = ref.lastIndexOf(':');
  const repository = at > slash ? ref.slice(0, at) : ref;
  const tag = at > slash ? ref.slice(at + 1) : 'latest';
  const parts = repository.split('/');
  if (parts.length > 1 && DOMAIN.test(parts[0])) parts.shift();
  if (!parts.every((c) => COMPONENT.test(c))) {
    throw new ElfpackError('USAGE', `bad image name "${ref}": want lowercase [REGISTRY/]NAME[:TAG], like myapp:1.0`);
  }
  if (!/^\w[\w.-]{0,127}$/.test(tag)) throw new ElfpackError('USAGE', `bad tag in "${ref}": letters, digits, "_", "." and "-", at most 128`);
  return { repository, tag, full: `${repository}:${tag}` };
}
