// One tar that every loader takes: Docker's manifest.json (docker load, skopeo docker-archive:)
// beside an OCI image layout (oci-layout, index.json, blobs/sha256/: skopeo oci-archive:, podman),
// sharing the same blobs — the layout `docker save` writes since Docker 25.
// A layer goes straight into the archive while it is hashed: its header is written as a
// placeholder and filled in once the digest is known, so a 100 MB layer is written once, not twice.
// Written to a temporary name (temp-files.ts: a killed run's is removed by the next), synced and
// renamed, so a failed run leaves nothing behind.
import { closeSync, fsyncSync, openSync, write, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { rename, unlink } from 'node:fs/promises';
import { ElfpackError } from '../errors.js';
import { syncDirectory, tempNameFor } from '../temp-files.js';
import { MEDIA, jsonBlob, type Blob, type Descriptor, type PlatformImage } from '../image/image.js';
import { BLOCK, encodeHeader, padding } from '../image/tar-format.js';
import type { BlobInfo, ByteSink } from '../image/tar-writer.js';

export interface ArchiveOptions {
  /** Full references ("name:tag"), recorded in manifest.json and as index.json annotations. */
  tags: string[];
  /** For several platforms: the one `docker load` gets (default the first). */
  loadPlatform?: number;
}

const SMALL = 64 << 10;
const writeAsync = promisify(write);

export class ArchiveWriter {
  private fd: number;
  private pos = 0;
  /** Small writes (headers, padding) gathered into one write; `pos` counts them too. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private written = new Set<string>();
  private tmp: string;

  /** Opens a temporary file beside `path`; entries get `mtime` (seconds). */
  constructor(readonly path: string, private mtime = 0) {
    this.tmp = tempNameFor(path);
    try {
      this.fd = openSync(this.tmp, 'wx', 0o644);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new ElfpackError('IO', `cannot write here: ${e.code === 'ENOENT' ? 'no such directory' : e.code === 'EACCES' ? 'permission denied' : e.message}`, { path, step: 'archive', cause: err });
    }
    this.put(encodeHeader({ name: 'blobs/', type: 'dir', mode: 0o755, mtime }));
    this.put(encodeHeader({ name: 'blobs/sha256/', type: 'dir', mode: 0o755, mtime }));
  }

  /** Writes a blob whose digest is known only at the end (a layer), hashed as it goes. */
  async addStreamedBlob(produce: (sink: ByteSink) => Promise<BlobInfo>): Promise<BlobInfo> {
    this.flush();
    const at = this.pos;
    this.put(Buffer.alloc(BLOCK)); // the header, filled in below
    const info = await produce((chunk) => this.putAsync(chunk));
    this.put(padding(info.size));
    this.flush();
    writeSync(this.fd, encodeHeader({ name: blobName(info.digest), type: 'file', mode: 0o644, size: info.size, mtime: this.mtime }), 0, BLOCK, at);
    this.written.add(info.digest);
    return info;
  }

  addBlob(b: Blob): void {
    if (this.written.has(b.descriptor.digest)) return;
    if (!b.content) throw new Error(`blob ${b.descriptor.digest} has no content`);
    this.addFile(blobName(b.descriptor.digest), b.content);
    this.written.add(b.descriptor.digest);
  }

  /**
   * Writes the blobs of `images`, index.json, manifest.json and oci-layout, then renames into place.
   * Several images become one image index blob (one manifest per platform), which index.json
   * names, as buildx lays out a multi-platform image; returns that index's descriptor.
   */
  async finish(images: PlatformImage[], opts: ArchiveOptions): Promise<Descriptor | undefined> {
    for (const img of images) {
      for (const b of [img.config, img.manifest, ...img.layers]) {
        if (!this.written.has(b.descriptor.digest)) this.addBlob(b);
      }
    }
    const ref = opts.tags[0];
    // containerd and podman read the name from these annotations; the OCI one holds the tag.
    const annotations = ref ? { annotations: { 'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': ref.slice(ref.lastIndexOf(':') + 1) } } : {};
    let platformIndex: Blob | undefined;
    let manifests: Descriptor[];
    if (images.length > 1) {
      platformIndex = jsonBlob(MEDIA.index, { schemaVersion: 2, mediaType: MEDIA.index, manifests: images.map((img) => ({ ...img.manifest.descriptor, platform: img.platform })) });
      this.addBlob(platformIndex);
      manifests = [{ ...platformIndex.descriptor, ...annotations }];
    } else {
      manifests = images.map((img) => ({ ...img.manifest.descriptor, platform: img.platform, ...annotations }));
    }
    const loaded = images[opts.loadPlatform ?? 0];
    this.addFile('index.json', jsonBlob(MEDIA.index, { schemaVersion: 2, mediaType: MEDIA.index, manifests }).content!);
    this.addFile('manifest.json', Buffer.from(JSON.stringify([{
      Config: blobName(loaded.config.descriptor.digest),
      RepoTags: opts.tags,
      Layers: loaded.layers.map((l) => blobName(l.descriptor.digest)),
    }])));
    this.addFile('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
    this.put(Buffer.alloc(2 * BLOCK)); // end of archive
    this.flush();
    fsyncSync(this.fd); // before the rename: a power loss must not leave a renamed but empty tar
    closeSync(this.fd);
    this.fd = -1;
    await rename(this.tmp, this.path);
    syncDirectory(dirname(this.path));
    return platformIndex?.descriptor;
  }

  /** Removes the temporary file: nothing is left behind. */
  async abort(): Promise<void> {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    await unlink(this.tmp).catch(() => undefined);
  }

  private addFile(name: string, content: Buffer): void {
    this.put(encodeHeader({ name, type: 'file', mode: 0o644, size: content.length, mtime: this.mtime }));
    this.put(content);
    this.put(padding(content.length));
  }

  /** Like put, but a large chunk is written in the background, at its place: writes may overlap. */
  private putAsync(b: Buffer): void | Promise<void> {
    if (b.length < SMALL) return this.put(b);
    this.flush();
    const at = this.pos;
    this.pos += b.length;
    return writeFully(this.fd, b, at);
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
  }
}

async function writeFully(fd: number, b: Buffer, at: number): Promise<void> {
  for (let done = 0; done < b.length;) {
    const { bytesWritten } = await writeAsync(fd, b, done, b.length - done, at + done);
    done += bytesWritten;
  }
}

function blobName(digest: string): string {
  return `blobs/sha256/${digest.slice('sha256:'.length)}`;
}
