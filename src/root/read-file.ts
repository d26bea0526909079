// Whole small files of a root (configuration, certificates, database files), read as one buffer.
import { tryResolveInRoot } from './resolve-path.js';
import type { Root } from './root.js';

export interface RootFile {
  /** Its real path in the root. */
  path: string;
  size: number;
  mode: number;
}

/** The regular file at `path`, links on the way and at its end followed inside the root; undefined when none is there. */
export function regularFileAt(root: Root, path: string): RootFile | undefined {
  const r = tryResolveInRoot(root, path);
  const st = r && !r.missing && r.type === 'file' ? root.lstat(r.path) : undefined;
  return st && { path: r!.path, size: st.size, mode: st.mode };
}

/**
 * All `file.size` bytes of the root's file at its real path, in a buffer of their own: a byte
 * source hands out views of a pooled head buffer, which the next file opened overwrites.
 */
export function readRootFile(root: Root, file: { path: string; size: number }, what: string): Buffer {
  if (!file.size) return Buffer.alloc(0);
  const src = root.open(file.path);
  try {
    return Buffer.from(src.read(0, file.size, what));
  } finally {
    src.close();
  }
}
