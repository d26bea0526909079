// Content digests as the OCI image spec defines them (descriptor.md#digests): "algorithm:encoded".
// Only the registered algorithms are accepted, with their exact hex length, so that a digest read
// from an image can name a blob path ("blobs/sha256/<hex>") and nothing else: "sha256:../../x" is
// refused before it reaches the filesystem. Digests are checked against the bytes they name, as
// containerd does on ingest.
import { createHash, type Hash } from 'node:crypto';
import { ElfpackError } from '../errors.js';
import { escapeName } from '../escape.js';

export type DigestAlgorithm = 'sha256' | 'sha512';

export interface Digest {
  algorithm: DigestAlgorithm;
  /** Lowercase hex, 64 characters for sha256 and 128 for sha512. */
  hex: string;
}

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

/** The digest in `value`, or undefined when it is not one of the registered forms. */
export function parseDigest(value: unknown): Digest | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(sha256|sha512):([0-9a-f]+)$/.exec(value);
  if (!m || m[2].length !== HEX_LENGTH[m[1] as DigestAlgorithm]) return undefined;
  return { algorithm: m[1] as DigestAlgorithm, hex: m[2] };
}

export function digestString(d: Digest): string {
  return `${d.algorithm}:${d.hex}`;
}

/** Where a blob lies inside an OCI layout (image-layout.md#blobs); a digest given as text is checked first. */
export function blobPath(d: Digest | string): string {
  const p = typeof d === 'string' ? parseDigest(d) : d;
  if (!p) throw new ElfpackError('IMAGE_MALFORMED', `not a digest: ${describeDigestText(d)}`, { step: 'image' });
  return `blobs/${p.algorithm}/${p.hex}`;
}

/** A short, printable form of something that should have been a digest, for error messages. */
export function describeDigestText(value: unknown): string {
  if (typeof value !== 'string') return `a ${value === null ? 'null' : typeof value}`;
  return `"${escapeName(value.length > 80 ? `${value.slice(0, 80)}…` : value)}"`;
}

/** Hashes bytes as they pass, counting them; checkDigest compares the result with what it should be. */
export class DigestHasher {
  private hash: Hash;
  bytes = 0;

  constructor(readonly algorithm: DigestAlgorithm = 'sha256') {
    this.hash = createHash(algorithm);
  }

  update(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
  }

  /** The digest of everything passed (once). */
  digest(): Digest {
    return { algorithm: this.algorithm, hex: this.hash.digest('hex') };
  }
}

/** The digest of a buffer, in the given algorithm. */
export function digestOf(b: Buffer, algorithm: DigestAlgorithm = 'sha256'): Digest {
  return { algorithm, hex: createHash(algorithm).update(b).digest('hex') };
}

/** Throws IMAGE_MALFORMED when `got` differs from `want`. */
export function checkDigest(got: Digest, want: Digest, what: string, path: string): void {
  if (got.algorithm !== want.algorithm || got.hex !== want.hex) {
    throw new ElfpackError('IMAGE_MALFORMED', `${what} does not match its digest ${digestString(want)} (the bytes hash to ${digestString(got)})`, { path, step: 'image' });
  }
}
