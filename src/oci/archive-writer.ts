// One tar that every loader takes: Docker's manifest.json (docker load, skopeo docker-archive:)
// beside an OCI image layout (oci-layout, index.json, blobs/sha256/: skopeo oci-archive:, podman),
// sharing the same blobs — the layout `docker save` writes since Docker 25. Written two ways from
// one member order: into a file (ArchiveWriter) and as a stream (archiveStream, what the engine
// loads); both give the same bytes for the same image.
// ArchiveWriter is also where a layer is first kept: it goes straight into the file while it is
// hashed (its header is written as a placeholder and filled in once the digest is known), so a
// 100 MB layer is written once, not twice, and every other sink reads it from there.
// Written to a temporary name (temp-files.ts: a killed run's is removed by the next), synced and
// renamed, so a failed run leaves nothing behind.
import { closeSync, createReadStream, fdatasync, fsyncSync, ftruncateSync, openSync, readSync, write, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { rename, unlink } from 'node:fs/promises';
import { ElfpackError } from '../errors.js';
import { syncDirectory, tempNameFor } from '../temp-files.js';
import type { Region } from './blob-source.js';
import { jsonBlob, type Blob, type BlobContent, type BlobInfo, type BlobStore, type ByteSink } from './blob.js';
import { blobPath } from './digest.js';
import { imagesOf, isImageIndex, manifestsBottomUp, type Image, type ImageIndex } from './image.js';
import { MEDIA } from './media-types.js';
import { BLOCK, encodeHeader, padding } from './tar-format.js';

export interface ArchiveOptions {
  /** Full references ("name:tag"), recorded in manifest.json and as index.json annotations. */
  tags: string[];
  /** For an index: the image `docker load` gets, by its place among the index's images (default the first). */
  loadPlatform?: number;
  /** Seconds since the epoch for every member (default 0). */
  mtime?: number;
}

const SMALL = 64 << 10;
const CHUNK = 1 << 20;
/** Bytes written after which the disk is asked, in the background, to take what is written so far. */
const SYNC_STEP = 8 << 20;
const writeAsync = promisify(write);
const fdatasyncAsync = promisify(fdatasync);

/**
 * The blobs of an image in the archive's order, each once: every layer first (the order they are
 * built in), then each image's config and manifest, then each index after what it names.
 */
function archiveBlobs(v: Image | ImageIndex): Blob[] {
  const seen = new Set<string>();
  const out: Blob[] = [];
  const add = (b: Blob) => {
    if (seen.has(b.descriptor.digest)) return;
    seen.add(b.descriptor.digest);
    out.push(b);
  };
  const all = manifestsBottomUp(v);
  for (const m of all) if (!isImageIndex(m)) m.layers.forEach(add);
  for (const m of all) {
    if (isImageIndex(m)) add(m.index);
    else {
      add(m.config);
      add(m.manifest);
    }
  }
  return out;
}

/** index.json (naming the image or the index, with the tag), manifest.json (the image docker load gets) and oci-layout. */
function archiveFiles(v: Image | ImageIndex, opts: ArchiveOptions): [string, Buffer][] {
  const ref = opts.tags[0];
  // containerd and podman read the name from these annotations; the OCI one holds the tag.
  const annotations = ref ? { annotations: { 'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': ref.slice(ref.lastIndexOf(':') + 1) } } : {};
  const manifests = isImageIndex(v) ? [{ ...v.index.descriptor, ...annotations }] : [{ ...v.manifest.descriptor, platform: v.platform, ...annotations }];
  const images = imagesOf(v);
  const loaded = images[opts.loadPlatform ?? 0] ?? images[0];
  const index = jsonBlob(MEDIA.index, { schemaVersion: 2, mediaType: MEDIA.index, manifests }).content as { bytes: Buffer };
  return [
    ['index.json', index.bytes],
    ['manifest.json', Buffer.from(JSON.stringify([{
      Config: blobPath(loaded.config.descriptor.digest),
      RepoTags: opts.tags,
      Layers: loaded.layers.map((l) => blobPath(l.descriptor.digest)),
    }]))],
    ['oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}')],
  ];
}

function dirHeaders(mtime: number): Buffer[] {
  return [encodeHeader({ name: 'blobs/', type: 'dir', mode: 0o755, mtime }), encodeHeader({ name: 'blobs/sha256/', type: 'dir', mode: 0o755, mtime })];
}

function blobHeader(b: Blob, mtime: number): Buffer {
  return encodeHeader({ name: blobPath(b.descriptor.digest), type: 'file', mode: 0o644, size: b.descriptor.size, mtime });
}

export class ArchiveWriter implements BlobStore {
  private fd: number;
  private pos = 0;
  /** Small writes (headers, padding) gathered into one write; `pos` counts them too. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private written = new Set<string>();
  /** Where each streamed blob lies; the regions follow the file when it is renamed into place. */
  private regions = new Map<string, Region>();
  private tmp: string;
  private renamed = false;
  /**
   * A background fdatasync of what was written so far, while the writing goes on: the fsync
   * before the rename then waits only for the rest (40 ms for a 37 MB image here, 110 ms for
   * 104 MB). Its errors are left to that last fsync, which covers every byte.
   */
  private syncing?: Promise<void>;
  private syncedTo = 0;

  /** Opens a temporary file beside `path`; entries get `mtime` (seconds). */
  constructor(readonly path: string, private mtime = 0) {
    this.tmp = tempNameFor(path);
    try {
      this.fd = openSync(this.tmp, 'wx', 0o644);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new ElfpackError('IO', `cannot write here: ${e.code === 'ENOENT' ? 'no such directory' : e.code === 'EACCES' ? 'permission denied' : e.message}`, { path, step: 'archive', cause: err });
    }
    for (const h of dirHeaders(mtime)) this.put(h);
  }

  /**
   * Writes a blob whose digest is known only at the end (a layer), hashed by `produce` as it goes.
   * `produce` must not return before its last sink call has settled.
   */
  async addStreamedBlob<T extends BlobInfo>(produce: (sink: ByteSink) => Promise<T>): Promise<T & { region: Region }> {
    this.flush();
    const at = this.pos;
    this.put(Buffer.alloc(BLOCK)); // the header, filled in below
    const info = await produce((chunk) => this.putAsync(chunk));
    this.flush();
    const had = this.regions.get(info.digest);
    if (had) {
      // A blob kept already (a layer two images share): the copy just written is cut off.
      ftruncateSync(this.fd, at);
      this.pos = at;
      return { ...info, region: had };
    }
    this.put(padding(info.size));
    this.flush();
    writeSync(this.fd, encodeHeader({ name: blobPath(info.digest), type: 'file', mode: 0o644, size: info.size, mtime: this.mtime }), 0, BLOCK, at);
    const region = { file: this.tmp, offset: at + BLOCK, size: info.size };
    this.written.add(info.digest);
    this.regions.set(info.digest, region);
    return { ...info, region };
  }

  /**
   * Writes the blobs of `image` not written yet, index.json, manifest.json and oci-layout, then
   * renames the file into place.
   */
  async finish(image: Image | ImageIndex, opts: Omit<ArchiveOptions, 'mtime'>): Promise<void> {
    for (const b of archiveBlobs(image)) {
      if (this.written.has(b.descriptor.digest)) continue;
      this.put(blobHeader(b, this.mtime));
      this.putContent(b);
      this.put(padding(b.descriptor.size));
      this.written.add(b.descriptor.digest);
    }
    for (const [name, content] of archiveFiles(image, opts)) this.addFile(name, content);
    this.put(Buffer.alloc(2 * BLOCK)); // end of archive
    this.flush();
    await this.syncing;
    fsyncSync(this.fd); // before the rename: a power loss must not leave a renamed but empty tar
    closeSync(this.fd);
    this.fd = -1;
    await rename(this.tmp, this.path);
    this.renamed = true;
    for (const r of this.regions.values()) r.file = this.path;
    syncDirectory(dirname(this.path));
  }

  /** Removes the temporary file: nothing is left behind (a finished archive stays). */
  async abort(): Promise<void> {
    await this.syncing; // its file descriptor is closed below
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    if (!this.renamed) await unlink(this.tmp).catch(() => undefined);
  }

  private addFile(name: string, content: Buffer): void {
    this.put(encodeHeader({ name, type: 'file', mode: 0o644, size: content.length, mtime: this.mtime }));
    this.put(content);
    this.put(padding(content.length));
  }

  /** A blob's bytes: from memory, or copied from the file region it lies in. */
  private putContent(b: Blob): void {
    if ('bytes' in b.content) {
      this.put(b.content.bytes);
      return;
    }
    const r = b.content.region;
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, r.size));
    const fd = openSync(r.file, 'r');
    try {
      for (let done = 0; done < r.size;) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, r.size - done), r.offset + done);
        if (n === 0) throw new ElfpackError('IO', `blob ${b.descriptor.digest} is shorter than its ${r.size} bytes`, { path: r.file, step: 'archive' });
        this.put(buf.subarray(0, n));
        done += n;
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Like put, but a large chunk is written in the background, at its place: writes may overlap. */
  private putAsync(b: Buffer): void | Promise<void> {
    if (b.length < SMALL) return this.put(b);
    this.flush();
    const at = this.pos;
    this.pos += b.length;
    return writeFully(this.fd, b, at).then(() => this.syncInBackground());
  }

  /** Starts a background fdatasync once SYNC_STEP more bytes were written, unless one is running. */
  private syncInBackground(): void {
    if (this.syncing || this.pos - this.syncedTo < SYNC_STEP) return;
    const upTo = this.pos;
    this.syncing = fdatasyncAsync(this.fd).then(() => { this.syncedTo = upTo; }, () => undefined).finally(() => { this.syncing = undefined; });
  }

  private put(b: Buffer): void {
    if (b.length < SMALL) {
      // Copied: the caller may reuse its buffer as soon as this returns.
      this.pending.push(Buffer.from(b));
      this.pendingBytes += b.length;
      if (this.pendingBytes >= SMALL) this.flush();
      return;
    }
    this.flush();
    this.writeAt(b);
  }

  private flush(): void {
    if (!this.pendingBytes) return;
    const b = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.writeAt(b);
  }

  private writeAt(b: Buffer): void {
    for (let done = 0; done < b.length;) done += writeSync(this.fd, b, done, b.length - done, this.pos + done);
    this.pos += b.length;
    this.syncInBackground();
  }
}

async function writeFully(fd: number, b: Buffer, at: number): Promise<void> {
  for (let done = 0; done < b.length;) {
    const { bytesWritten } = await writeAsync(fd, b, done, b.length - done, at + done);
    done += bytesWritten;
  }
}

/** The archive of `image` as a stream (what `docker load` reads): the bytes ArchiveWriter writes for it. */
export function archiveStream(image: Image | ImageIndex, opts: ArchiveOptions): Readable {
  return Readable.from(archiveChunks(image, opts), { objectMode: false });
}

async function* archiveChunks(image: Image | ImageIndex, opts: ArchiveOptions): AsyncGenerator<Buffer> {
  const mtime = opts.mtime ?? 0;
  yield* dirHeaders(mtime);
  for (const b of archiveBlobs(image)) {
    yield blobHeader(b, mtime);
    yield* contentChunks(b.content, b.descriptor.digest);
    yield padding(b.descriptor.size);
  }
  for (const [name, content] of archiveFiles(image, opts)) {
    yield encodeHeader({ name, type: 'file', mode: 0o644, size: content.length, mtime });
    yield content;
    yield padding(content.length);
  }
  yield Buffer.alloc(2 * BLOCK);
}

/** A blob's bytes in chunks; a region that has shrunk since is an error, not a short tar. */
async function* contentChunks(c: BlobContent, digest: string): AsyncGenerator<Buffer> {
  if ('bytes' in c) {
    yield c.bytes;
    return;
  }
  const r = c.region;
  let got = 0;
  if (r.size > 0) {
    for await (const chunk of createReadStream(r.file, { start: r.offset, end: r.offset + r.size - 1, highWaterMark: CHUNK })) {
      got += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
  }
  if (got !== r.size) throw new ElfpackError('IO', `blob ${digest} is shorter than its ${r.size} bytes`, { path: r.file, step: 'archive' });
}
