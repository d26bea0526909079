// A layer as a deterministic tar: entries sorted parents first, uid/gid 0 and no user names (the
// image's users are not the builder's), one fixed mtime (SOURCE_DATE_EPOCH, else 0: the same input
// gives the same bytes), permission bits kept. Written synchronously through one reused buffer and
// hashed on the way: memory stays flat and nothing waits on a stream, whatever the files' sizes.
import { createHash } from 'node:crypto';
import { ElfpackError } from '../errors.js';
import type { FileTree, TreeEntry } from './file-tree.js';
import { BLOCK, encodeHeader, padding } from './tar-format.js';

const CHUNK = 4 << 20;

export interface BlobInfo {
  digest: string;
  size: number;
}

export interface LayerOptions {
  /** Seconds since the epoch for every entry (default 0). */
  mtime?: number;
  /** Called after each file, for progress on large closures. */
  onFile?: (path: string, bytes: number) => void;
}

/** Receives the layer's bytes in order; must be done with a buffer when it returns. */
export type ByteSink = (chunk: Buffer) => void;

export function writeLayer(tree: FileTree, sink: ByteSink, opts: LayerOptions = {}): BlobInfo {
  const hash = createHash('sha256');
  let size = 0;
  const out = (b: Buffer) => {
    if (!b.length) return;
    hash.update(b);
    sink(b);
    size += b.length;
  };
  const buf = Buffer.allocUnsafe(CHUNK);
  const mtime = opts.mtime ?? 0;
  for (const e of tree.sorted()) {
    if (e.path === '/') continue;
    out(encodeHeader(entryOf(e, mtime)));
    if (e.type !== 'file') continue;
    writeContent(e, out, buf);
    out(padding(e.size));
    opts.onFile?.(e.path, e.size);
  }
  out(Buffer.alloc(2 * BLOCK));
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

function entryOf(e: TreeEntry, mtime: number) {
  const name = e.path.slice(1);
  if (e.type === 'dir') return { name: `${name}/`, type: e.type, mode: e.mode, uid: e.uid ?? 0, gid: e.uid ?? 0, mtime };
  if (e.type === 'symlink') return { name, type: e.type, mode: 0o777, linkname: e.target, mtime };
  return { name, type: e.type, mode: e.mode, size: e.size, mtime };
}

function writeContent(e: Extract<TreeEntry, { type: 'file' }>, out: ByteSink, buf: Buffer): void {
  if ('content' in e.source) {
    out(e.source.content);
    return;
  }
  const src = e.source.root.open(e.source.path);
  try {
    if (src.size !== e.size) throw new ElfpackError('IO', `changed size while packing (${e.size} → ${src.size} bytes)`, { path: e.source.path });
    for (let offset = 0; offset < e.size; offset += CHUNK) {
      const n = Math.min(CHUNK, e.size - offset);
      out(src.readInto ? src.readInto(buf, offset, n, 'file content') : src.read(offset, n, 'file content'));
    }
  } finally {
    src.close();
  }
}
