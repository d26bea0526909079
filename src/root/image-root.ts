// An image's filesystem without any daemon: a docker-save tar, an OCI archive (or the two in one,
// as elfpack writes) or an OCI layout directory. Layers are applied in order into an FsIndex;
// uncompressed layers are read where they lie in the archive, gzip ones are unpacked once into
// the cache directory under their digest. The Root answers from the index, with the same in-root
// symlink rules as the host Root (resolve-path.ts does the walking).
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FileByteSource, type ByteSource } from '../elf/byte-source.js';
import { RootPathError } from '../errors.js';
import { archiveSource, directorySource } from '../oci/blob-source.js';
import { checkDigest, DigestHasher } from '../oci/digest.js';
import { layerTar, type LayerBlobOptions } from '../oci/layer-blob.js';
import { readImageLayers } from '../oci/read-image.js';
import { imageConfigOf, type ImageConfig } from '../oci/config.js';
import { escapeName } from '../escape.js';
import { describeType, HostRoot } from './host-root.js';
import { FsIndex, type IndexLimits } from './fs-index.js';
import type { FileType, Root, RootStat } from './root.js';

export interface ImageRootOptions extends IndexLimits, LayerBlobOptions {}

/** Whether a host path looks like an image (a tar, or a directory holding oci-layout, or blobs/ with index.json or manifest.json). */
export function isImagePath(path: string): boolean {
  const st = statSync(path, { throwIfNoEntry: false });
  // An OCI layout has oci-layout; one that lost it still has blobs/ beside its index.json or
  // manifest.json (a root filesystem with a stray index.json at its top stays a directory).
  if (st?.isDirectory()) return existsSync(join(path, 'oci-layout')) || (statSync(join(path, 'blobs'), { throwIfNoEntry: false })?.isDirectory() === true && ['index.json', 'manifest.json'].some((f) => existsSync(join(path, f))));
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

/**
 * The filesystem of the image at `path` (a tar or an OCI layout directory): its layers applied in
 * order, each checked against its digest (and its diff_id) as it is read.
 */
export async function openImageRoot(path: string, opts: ImageRootOptions = {}): Promise<ImageRoot> {
  const source = statSync(path).isDirectory() ? directorySource(path) : await archiveSource(path);
  const { layers, config } = readImageLayers(source);
  const index = new FsIndex(opts);
  for (const layer of layers) {
    const tar = await layerTar(layer, path, opts);
    const hashers = tar.expect.map((d) => new DigestHasher(d.algorithm));
    await index.applyLayer(tar.region.file, tar.region.offset, {
      length: tar.region.size, label: path, layerName: layer.name,
      onChunk: hashers.length ? (c) => { for (const h of hashers) h.update(c); } : undefined,
    });
    tar.expect.forEach((d, i) => checkDigest(hashers[i].digest(), d, `layer ${escapeName(layer.name)}`, path));
  }
  return new ImageRoot(index, path, config ? imageConfigOf(config) : undefined);
}

export class ImageRoot implements Root {
  /** What the image runs, from its config (undefined for a filesystem without one). */
  constructor(readonly index: FsIndex, readonly label: string, readonly config?: ImageConfig) {}

  lstat(path: string): RootStat | undefined {
    const e = this.index.get(path);
    if (!e) return undefined;
    return { type: e.type, size: e.size, mode: e.mode, id: e.data ? `${e.data.file}@${e.data.offset}` : path };
  }

  kind(path: string): FileType | undefined {
    return this.index.get(path)?.type;
  }

  readdirTypes(path: string): Map<string, FileType | undefined> | undefined {
    const kids = this.index.children(path);
    if (!kids) return undefined;
    return new Map([...kids].map(([name, e]) => [name, e.type]));
  }

  readlink(path: string): string {
    const e = this.index.get(path);
    if (e?.type !== 'symlink') throw new RootPathError('IO', 'not a symbolic link', path);
    return e.target!;
  }

  readdir(path: string): string[] | undefined {
    const kids = this.index.children(path);
    return kids ? [...kids.keys()] : undefined;
  }

  open(path: string): ByteSource {
    const e = this.index.get(path);
    if (!e) throw new RootPathError('NOT_FOUND', 'no such file', path);
    if (e.type !== 'file' || !e.data) throw new RootPathError('NOT_REGULAR_FILE', `is ${describeType(e.type)}, not a regular file`, path);
    const fd = openSync(e.data.file, 'r');
    return new FileByteSource(fd, e.size, `${e.data.file}@${e.data.offset}`, e.data.offset);
  }
}
