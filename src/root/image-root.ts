// An image's filesystem without any daemon: a docker-save tar, an OCI archive (or the two in one,
// as elfpack writes) or an OCI layout directory. Layers are applied in order into an FsIndex;
// uncompressed layers are read where they lie in the archive, gzip ones are unpacked once into
// the cache directory under their digest. The Root answers from the index, with the same in-root
// symlink rules as the host Root (resolve-path.ts does the walking).
import { closeSync, createReadStream, createWriteStream, existsSync, mkdirSync, openSync, readSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { FileByteSource, type ByteSource } from '../elf/byte-source.js';
import { ElfpackError, RootPathError } from '../errors.js';
import { describeType, HostRoot } from './host-root.js';
import { FsIndex, type IndexLimits } from './fs-index.js';
import type { FileType, Root, RootStat } from './root.js';
import { runConfigFromBlob, type ImageRunConfig } from './run-config.js';

export interface ImageRootOptions extends IndexLimits {
  /** Where unpacked gzip layers are kept (required for an image with compressed layers). */
  cacheDir?: string;
  /** Bytes a gzip layer may unpack to (default 64 GiB): a decompression bomb stops there. */
  maxLayerBytes?: number;
}

/** Where a member's bytes lie: a file, from `offset`, `size` bytes. */
export interface Region { file: string; offset: number; size: number }

/** Whether a host path looks like an image (a tar holding manifest.json or index.json, or an OCI layout directory). */
export function isImagePath(path: string): boolean {
  const st = statSync(path, { throwIfNoEntry: false });
  if (st?.isDirectory()) return existsSync(join(path, 'oci-layout'));
  if (!st?.isFile() || st.size < 1024) return false;
  const fd = openSync(path, 'r');
  try {
    const h = Buffer.alloc(512);
    readSync(fd, h, 0, 512, 0);
    return h.toString('latin1', 257, 262) === 'ustar';
  } finally {
    closeSync(fd);
  }
}

/** A host path as a root: an image, a directory, something else, or nothing there. */
export type PathRoot = { kind: 'image'; root: ImageRoot } | { kind: 'directory'; root: HostRoot } | { kind: 'other' | 'missing' };

export async function openPathRoot(path: string, opts: ImageRootOptions = {}): Promise<PathRoot> {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return { kind: 'missing' };
  if (isImagePath(path)) return { kind: 'image', root: await openImageRoot(path, opts) };
  return st.isDirectory() ? { kind: 'directory', root: new HostRoot(path) } : { kind: 'other' };
}

export async function openImageRoot(path: string, opts: ImageRootOptions = {}): Promise<ImageRoot> {
  const members = statSync(path).isDirectory() ? undefined : await listMembers(path);
  const region = (name: string): Region | undefined => {
    if (members) return members.get(name.replace(/^\.?\/+/, ''));
    const p = join(path, name);
    const st = statSync(p, { throwIfNoEntry: false });
    return st?.isFile() ? { file: p, offset: 0, size: st.size } : undefined;
  };
  const json = (name: string) => {
    const r = region(name);
    if (!r) return undefined;
    return JSON.parse(readRegion(r, 16 << 20).toString('utf8'));
  };
  let layers: Region[];
  let configName: string | undefined;
  const dockerManifest = json('manifest.json');
  if (Array.isArray(dockerManifest) && dockerManifest[0]?.Layers) {
    layers = (dockerManifest[0].Layers as string[]).map((l) => need(region(l), path, l));
    configName = typeof dockerManifest[0].Config === 'string' ? dockerManifest[0].Config : undefined;
  } else {
    const index = json('index.json');
    if (!index?.manifests?.length) throw new ElfpackError('USAGE', 'not an image: no manifest.json or index.json', { path, step: 'image' });
    let desc = index.manifests[0];
    let manifest = json(blobName(desc.digest));
    while (manifest?.manifests) manifest = json(blobName((desc = manifest.manifests[0]).digest)); // a nested index
    if (!manifest?.layers) throw new ElfpackError('USAGE', `not an image: manifest ${desc.digest} has no layers`, { path, step: 'image' });
    layers = (manifest.layers as { digest: string }[]).map((l) => need(region(blobName(l.digest)), path, blobName(l.digest)));
    configName = manifest.config?.digest ? blobName(manifest.config.digest) : undefined;
  }
  const config = configName ? runConfigFromBlob(json(configName)) : undefined;
  const index = new FsIndex(opts);
  for (const l of layers) {
    const plain = await uncompressed(l, opts);
    await index.applyLayer(plain.file, plain.offset, plain.size);
  }
  return new ImageRoot(index, path, config);
}

function blobName(digest: string): string {
  return `blobs/${String(digest).replace(':', '/')}`;
}

function need(r: Region | undefined, path: string, name: string): Region {
  if (!r) throw new ElfpackError('USAGE', `not a complete image: ${name} is missing`, { path, step: 'image' });
  return r;
}

/** Every member of a tar with where its bytes start: read once, contents skipped. */
export async function listMembers(file: string): Promise<Map<string, Region>> {
  const out = new Map<string, Region>();
  const ex = extract();
  ex.on('entry', (h, stream, next) => {
    if (h.type === 'file' || !h.type) out.set(h.name.replace(/^\.?\/+/, ''), { file, offset: (h as { byteOffset?: number }).byteOffset!, size: h.size ?? 0 });
    stream.on('end', () => next());
    stream.on('error', () => undefined); // the extractor reports the same error
    stream.resume();
  });
  try {
    await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), ex);
  } catch (err) {
    throw new ElfpackError('USAGE', `not a readable image tar: ${(err as Error).message}`, { path: file, step: 'image', cause: err });
  }
  return out;
}

export function readRegion(r: Region, max: number): Buffer {
  if (r.size > max) throw new ElfpackError('USAGE', `${r.size} bytes of metadata: too large`, { path: r.file, step: 'image' });
  const fd = openSync(r.file, 'r');
  try {
    const b = Buffer.alloc(r.size);
    readSync(fd, b, 0, r.size, r.offset);
    return b;
  } finally {
    closeSync(fd);
  }
}

/** The layer as an uncompressed tar region: itself, or its gzip unpacked once into the cache. */
async function uncompressed(r: Region, opts: ImageRootOptions): Promise<Region> {
  const magic = readRegion({ ...r, size: Math.min(r.size, 4) }, 4);
  if (magic[0] === 0x28 && magic[1] === 0xb5 && magic[2] === 0x2f && magic[3] === 0xfd) throw new ElfpackError('USAGE', 'zstd layers are not supported yet', { path: r.file, step: 'layer' });
  if (!(magic[0] === 0x1f && magic[1] === 0x8b)) return r;
  if (!opts.cacheDir) throw new ElfpackError('USAGE', 'a gzip layer needs a cache directory to unpack into', { path: r.file, step: 'layer' });
  const dir = join(opts.cacheDir, 'layers');
  mkdirSync(dir, { recursive: true });
  const key = `${r.file.replace(/[^A-Za-z0-9]+/g, '_').slice(-80)}-${r.offset}-${r.size}.tar`;
  const out = join(dir, key);
  if (!existsSync(out)) {
    const tmp = `${out}.tmp-${process.pid}`;
    let total = 0;
    const max = opts.maxLayerBytes ?? 64 * 2 ** 30;
    const gunzip = createGunzip();
    gunzip.on('data', (c: Buffer) => {
      total += c.length;
      if (total > max) gunzip.destroy(new ElfpackError('USAGE', `a layer unpacks to more than ${max} bytes: refused`, { path: r.file, step: 'layer' }));
    });
    try {
      await pipeline(createReadStream(r.file, { start: r.offset, end: r.offset + r.size - 1 }), gunzip, createWriteStream(tmp));
      renameSync(tmp, out);
    } catch (err) {
      if (existsSync(tmp)) unlinkSync(tmp);
      if (err instanceof ElfpackError) throw err;
      throw new ElfpackError('USAGE', `a layer does not unpack: ${(err as Error).message}`, { path: r.file, step: 'layer', cause: err });
    }
  }
  return { file: out, offset: 0, size: statSync(out).size };
}

export class ImageRoot implements Root {
  /** What the image runs, from its config (undefined for a filesystem without one). */
  constructor(readonly index: FsIndex, readonly label: string, readonly config?: ImageRunConfig) {}

  lstat(path: string): RootStat | undefined {
    const e = this.index.entries.get(path);
    if (!e) return undefined;
    return { type: e.type, size: e.size, mode: e.mode, id: e.data ? `${e.data.file}@${e.data.offset}` : path };
  }

  kind(path: string): FileType | undefined {
    return this.index.entries.get(path)?.type;
  }

  readdirTypes(path: string): Map<string, FileType | undefined> | undefined {
    const kids = this.index.children.get(path);
    if (!kids) return undefined;
    const base = path === '/' ? '' : path;
    return new Map([...kids].map((k) => [k, this.index.entries.get(`${base}/${k}`)?.type]));
  }

  readlink(path: string): string {
    const e = this.index.entries.get(path);
    if (e?.type !== 'symlink') throw new RootPathError('IO', 'not a symbolic link', path);
    return e.target!;
  }

  readdir(path: string): string[] | undefined {
    const kids = this.index.children.get(path);
    return kids ? [...kids] : undefined;
  }

  open(path: string): ByteSource {
    const e = this.index.entries.get(path);
    if (!e) throw new RootPathError('NOT_FOUND', 'no such file', path);
    if (e.type !== 'file' || !e.data) throw new RootPathError('NOT_REGULAR_FILE', `is ${describeType(e.type)}, not a regular file`, path);
    const fd = openSync(e.data.file, 'r');
    return new FileByteSource(fd, e.size, `${e.data.file}@${e.data.offset}`, e.data.offset);
  }
}
