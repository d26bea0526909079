// A layer as a deterministic tar: entries sorted parents first, uid/gid 0 and no user names (the
// image's users are not the builder's), one fixed mtime (SOURCE_DATE_EPOCH, else 0: the same input
// gives the same bytes), permission bits kept. File contents go through two reused buffers: one is
// hashed while the other is being written, so hashing and writing overlap and memory stays flat.
import { createHash } from 'node:crypto';
import { ElfpackError } from '../errors.js';
import type { BlobInfo, ByteSink } from '../oci/blob.js';
import { BLOCK, encodeHeader, padding } from '../oci/tar-format.js';
import type { FileTree, TreeEntry } from './file-tree.js';

const CHUNK = 4 << 20;

export interface LayerOptions {
  /** Seconds since the epoch for every entry (default 0). */
  mtime?: number;
  /** Called after each file, for progress on large closures. */
  onFile?: (path: string, bytes: number) => void;
}

export async function writeLayer(tree: FileTree, sink: ByteSink, opts: LayerOptions = {}): Promise<BlobInfo> {
  const hash = createHash('sha256');
  let size = 0;
  // At most one sink call in flight: a buffer is refilled only once its write has settled.
  let inFlight: void | Promise<void> = undefined;
  const out = async (b: Buffer) => {
    if (!b.length) return;
    hash.update(b);
    size += b.length;
    await inFlight;
    inFlight = sink(b);
  };
  const bufs = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
  const mtime = opts.mtime ?? 0;
  try {
    for (const e of tree.sorted()) {
      if (e.path === '/') continue;
      await out(encodeHeader(entryOf(e, mtime)));
      if (e.type !== 'file') continue;
      await writeContent(e, out, bufs);
      await out(padding(e.size));
      opts.onFile?.(e.path, e.size);
    }
    await out(Buffer.alloc(2 * BLOCK));
  } catch (err) {
    await Promise.resolve(inFlight).catch(() => undefined); // settle the write in flight before giving up
    throw err;
  }
  await inFlight;
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

function entryOf(e: TreeEntry, mtime: number) {
  const name = e.path.slice(1);
  if (e.type === 'dir') return { name: `${name}/`, type: e.type, mode: e.mode, uid: e.uid ?? 0, gid: e.uid ?? 0, mtime };
  if (e.type === 'symlink') return { name, type: e.type, mode: 0o777, linkname: e.target, mtime };
  return { name, type: e.type, mode: e.mode, size: e.size, mtime };
}

async function writeContent(e: Extract<TreeEntry, { type: 'file' }>, out: (b: Buffer) => Promise<void>, bufs: Buffer[]): Promise<void> {
  if ('content' in e.source) {
    await out(e.source.content);
    return;
  }
  const src = e.source.root.open(e.source.path);
  try {
    if (src.size !== e.size) throw new ElfpackError('IO', `changed size while packing (${e.size} → ${src.size} bytes)`, { path: e.source.path });
    for (let offset = 0, i = 0; offset < e.size; offset += CHUNK, i ^= 1) {
      const n = Math.min(CHUNK, e.size - offset);
      // bufs[i] was last handed to the sink two chunks ago; out() awaited that write before the one after it.
      await out(src.readInto ? src.readInto(bufs[i], offset, n, 'file content') : src.read(offset, n, 'file content'));
    }
  } finally {
    src.close();
  }
}
