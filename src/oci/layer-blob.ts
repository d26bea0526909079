// A layer blob as an uncompressed tar: an uncompressed blob is read where it lies, and checked by
// whoever reads it (the digests it must hash to are returned); a gzip or zstd blob (told by its
// magic bytes, whatever its media type says) is unpacked once into the cache, under its own
// content digest (never under where its bytes were), hashed on both sides as it unpacks, and kept
// only when both digests match and the unpacked size stayed within bounds. A failed or refused
// unpacking leaves nothing in the cache.
import { createReadStream, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Duplex } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ElfpackError } from '../errors.js';
import { escapeName } from '../escape.js';
import { writeFileAtomically } from '../temp-files.js';
import { readRegion, type Region } from './blob-source.js';
import { checkDigest, DigestHasher, type Digest } from './digest.js';
import type { LayerRef } from './read-image.js';
import { zstdDecompressStages, ZstdStreamError } from './zstd-stream.js';

/** The default bound on a compressed layer's unpacked size: 8× its compressed size plus 256 MiB. */
export function defaultMaxLayerBytes(compressedSize: number): number {
  return compressedSize * 8 + 256 * 2 ** 20;
}

export interface LayerBlobOptions {
  /** Where unpacked gzip and zstd layers are kept (required for an image with compressed layers). */
  cacheDir?: string;
  /** Bytes a compressed layer may unpack to; default defaultMaxLayerBytes(its compressed size). */
  maxLayerBytes?: number;
}

export interface LayerTar {
  region: Region;
  /** Digests the region's bytes must hash to (empty when they were checked as they were unpacked). */
  expect: Digest[];
}

const GZIP = [0x1f, 0x8b];
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];

/** The uncompressed tar of a layer. `label` names the image in messages. */
export async function layerTar(layer: LayerRef, label: string, opts: LayerBlobOptions): Promise<LayerTar> {
  const magic = readRegion({ ...layer.region, size: Math.min(layer.region.size, 4) }, 4, `layer ${layer.name}`, label);
  const is = (m: number[]) => m.every((b, i) => magic[i] === b);
  const kind = is(GZIP) ? 'gzip' : is(ZSTD) ? 'zstd' : undefined;
  if (!kind) return { region: layer.region, expect: [layer.digest, layer.diffId].filter((d): d is Digest => !!d) };
  return { region: await unpack(kind, layer, label, opts), expect: [] };
}

async function unpack(kind: 'gzip' | 'zstd', layer: LayerRef, label: string, opts: LayerBlobOptions): Promise<Region> {
  if (!opts.cacheDir) throw new ElfpackError('USAGE', `a ${kind} layer needs a cache directory to unpack into`, { path: label, step: 'layer' });
  const dir = join(opts.cacheDir, 'layers');
  mkdirSync(dir, { recursive: true });
  // The cache key is the blob's digest: from the image, checked below as it unpacks, or computed first.
  const key = layer.digest ?? await hashRegion(layer.region);
  const out = join(dir, `${key.algorithm}-${key.hex}.tar`);
  if (existsSync(out)) return { file: out, offset: 0, size: statSync(out).size };
  removeOldStyleEntries(dir); // only when writing: a cache hit reads no directory

  const max = opts.maxLayerBytes ?? defaultMaxLayerBytes(layer.region.size);
  const what = `layer ${escapeName(layer.name)}`;
  const overBound = () => new ElfpackError('IMAGE_LIMIT', `${what} unpacks to more than ${max} bytes: refused (a larger bound: --max-layer-size)`, { path: label, step: 'layer' });
  const compressed = new DigestHasher(key.algorithm);
  const plain = new DigestHasher(layer.diffId?.algorithm ?? 'sha256');
  try {
    await writeFileAtomically(out, async (file) => {
      const countIn = tap((c) => compressed.update(c));
      const countOut = tap((c) => {
        plain.update(c);
        if (plain.bytes > max) throw overBound();
      });
      const { region: r } = layer;
      const decompress: Duplex[] = kind === 'gzip' ? [createGunzip()] : await zstdDecompressStages({ maxOutputBytes: max });
      await pipeline([createReadStream(r.file, { start: r.offset, end: r.offset + r.size - 1, highWaterMark: 1 << 20 }), countIn, ...decompress, countOut, file]);
      checkDigest(compressed.digest(), key, what, label);
      if (layer.diffId) checkDigest(plain.digest(), layer.diffId, `${what}, unpacked,`, label);
    });
  } catch (err) {
    if (err instanceof ElfpackError) throw err;
    if (err instanceof ZstdStreamError) {
      if (err.overBound) throw overBound();
      throw new ElfpackError(err.code, err.code === 'IMAGE_MALFORMED' ? `${what} does not unpack: ${err.message}` : `${what}: ${err.message}`, { path: label, step: 'layer', cause: err });
    }
    throw new ElfpackError('IMAGE_MALFORMED', `${what} does not unpack: ${describeError(kind, err)}`, { path: label, step: 'layer', cause: err });
  }
  return { file: out, offset: 0, size: plain.bytes };
}

function tap(fn: (chunk: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      try {
        fn(chunk);
        done(null, chunk);
      } catch (err) {
        done(err as Error);
      }
    },
  });
}

/** zlib's and fzstd's errors, said as what is wrong with the stream (fzstd's codes: 5 is a truncation). */
function describeError(kind: 'gzip' | 'zstd', err: unknown): string {
  const e = err as { code?: unknown; message?: string };
  if (e?.code === 'Z_BUF_ERROR' || e?.code === 5 || /unexpected end|truncat/i.test(e?.message ?? '')) return `the ${kind} stream is truncated`;
  if (e?.code === 'Z_DATA_ERROR' || typeof e?.code === 'number' || /^ZSTD_error/.test(String(e?.code))) return `the ${kind} stream is damaged`;
  return typeof e?.code === 'string' ? e.code : escapeName(String(e?.message ?? err).slice(0, 120));
}

/** The sha256 of a region's bytes, read once. */
export async function hashRegion(r: Region): Promise<Digest> {
  const h = new DigestHasher('sha256');
  if (r.size > 0) for await (const c of createReadStream(r.file, { start: r.offset, end: r.offset + r.size - 1, highWaterMark: 1 << 20 })) h.update(c as Buffer);
  return h.digest();
}

/** Entries of the cache from versions that keyed layers by their place ("…-OFFSET-SIZE.tar"). */
function removeOldStyleEntries(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (/-\d+-\d+\.tar$/.test(name) && !/^(sha256|sha512)-[0-9a-f]+\.tar$/.test(name)) rmSync(join(dir, name), { force: true });
  }
}
