// Content-addressed blobs (image-spec descriptor.md): a descriptor (media type, digest, size) and
// where the bytes are — in memory (JSON documents, serialized once and hashed as those exact
// bytes) or a region of a file (a layer, written once and read from there by every sink).
import { createHash } from 'node:crypto';
import type { Region } from './blob-source.js';
import type { Platform } from './platform.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

/** Where a blob's bytes are. */
export type BlobContent = { bytes: Buffer } | { region: Region };

export interface Blob {
  descriptor: Descriptor;
  content: BlobContent;
}

/** The digest and size of bytes that were streamed. */
export interface BlobInfo {
  digest: string;
  size: number;
}

/**
 * Receives a blob's bytes in order. It may keep a chunk until the promise it returns settles
 * (the writer then reuses that buffer); without a promise it must be done with it on return.
 */
export type ByteSink = (chunk: Buffer) => void | Promise<void>;

/** Where blobs built as they are streamed are kept (elfpack's archive file: oci/archive-writer.ts). */
export interface BlobStore {
  /**
   * Keeps a blob whose digest is known only once it is written (a layer): `produce` streams it and
   * returns its digest and size (and whatever else it measured). Returns that, and where the bytes
   * now lie. A blob the store has already is kept once.
   */
  addStreamedBlob<T extends BlobInfo>(produce: (sink: ByteSink) => Promise<T>): Promise<T & { region: Region }>;
}

export function sha256Digest(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

/** A JSON document as a blob: serialized once, the digest taken of exactly those bytes. */
export function jsonBlob(mediaType: string, value: unknown): Blob {
  const bytes = Buffer.from(JSON.stringify(value));
  return { descriptor: { mediaType, digest: sha256Digest(bytes), size: bytes.length }, content: { bytes } };
}
