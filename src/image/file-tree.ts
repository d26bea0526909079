// The files of an image before they are written: absolute paths → directory, regular file (bytes
// taken from a root, or given) or symlink. Parents are created as directories on the way.
import { ElfpackError } from '../errors.js';
import type { Root } from '../root/root.js';
import { splitPath } from '../root/resolve-path.js';

export type TreeSource = { root: Root; path: string } | { content: Buffer };

export type TreeEntry =
  | { type: 'dir'; path: string; mode: number; uid?: number }
  | { type: 'file'; path: string; mode: number; size: number; source: TreeSource }
  | { type: 'symlink'; path: string; target: string };

export class FileTree {
  private entries = new Map<string, TreeEntry>();
  private kids = new Map<string, Set<string>>();

  constructor() {
    this.entries.set('/', { type: 'dir', path: '/', mode: 0o755 });
    this.kids.set('/', new Set());
  }

  get(path: string): TreeEntry | undefined {
    return this.entries.get(normalize(path));
  }

  /** `uid` (and the same gid) for a directory a non-root user must own, like nonroot's home. */
  addDir(path: string, mode = 0o755, uid?: number): void {
    const p = normalize(path);
    this.parents(p);
    const had = this.entries.get(p);
    if (had && had.type !== 'dir') throw conflict(p, had.type, 'dir');
    if (!had || mode !== 0o755 || uid) this.put({ type: 'dir', path: p, mode, ...(uid ? { uid } : {}) });
  }

  addFile(path: string, source: TreeSource, size: number, mode: number): void {
    const p = normalize(path);
    this.parents(p);
    const had = this.entries.get(p);
    if (had && had.type !== 'file') throw conflict(p, had.type, 'file');
    this.put({ type: 'file', path: p, mode: mode & 0o7777, size, source });
  }

  addSymlink(path: string, target: string): void {
    const p = normalize(path);
    this.parents(p);
    const had = this.entries.get(p);
    if (had && !(had.type === 'symlink' && had.target === target)) throw conflict(p, had.type, 'symlink');
    this.put({ type: 'symlink', path: p, target });
  }

  /** Every entry, parents before children, siblings by name: the order a layer is written in. */
  sorted(): TreeEntry[] {
    return [...this.entries.values()].sort((a, b) => comparePaths(a.path, b.path));
  }

  /** Names directly inside a directory. */
  children(dir: string): string[] {
    return [...(this.kids.get(normalize(dir)) ?? [])];
  }

  private put(e: TreeEntry): void {
    if (!this.entries.has(e.path)) {
      const cut = e.path.lastIndexOf('/');
      const parent = cut === 0 ? '/' : e.path.slice(0, cut);
      this.kids.get(parent)?.add(e.path.slice(cut + 1));
      if (e.type === 'dir') this.kids.set(e.path, new Set());
    }
    this.entries.set(e.path, e);
  }

  get size(): number {
    return this.entries.size;
  }

  private parents(p: string): void {
    const parts = splitPath(p);
    let cur = '';
    for (let i = 0; i < parts.length - 1; i++) {
      cur += `/${parts[i]}`;
      const had = this.entries.get(cur);
      if (!had) this.put({ type: 'dir', path: cur, mode: 0o755 });
      else if (had.type !== 'dir') throw conflict(cur, had.type, 'a parent directory');
    }
  }
}

function normalize(path: string): string {
  if (!path.startsWith('/')) throw new ElfpackError('USAGE', 'image paths must be absolute', { path });
  const parts = splitPath(path);
  if (parts.includes('..')) throw new ElfpackError('USAGE', 'image paths must not contain ".."', { path });
  return '/' + parts.join('/');
}

function conflict(path: string, had: string, want: string): ElfpackError {
  return new ElfpackError('USAGE', `the image already has a ${had} here; cannot also put ${want === 'a parent directory' ? want : `a ${want}`} here`, { path, step: 'image' });
}

/** Component-wise order: "/a/b" comes right after "/a", before "/a-b". */
export function comparePaths(a: string, b: string): number {
  const x = splitPath(a);
  const y = splitPath(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return x.length - y.length;
}
