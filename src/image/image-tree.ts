// Fills a FileTree from a root: a path with every symlink met on the way to it (so the image keeps
// both `libfoo.so.1` and `libfoo.so.1.2.3`), or a whole directory tree copied as it is. Each file
// remembers why it is in the image, for the summary.
import { ElfpackError } from '../errors.js';
import { describeType } from '../root/host-root.js';
import { resolveInRoot, splitPath, type SymlinkStep } from '../root/resolve-path.js';
import type { Root } from '../root/root.js';
import { FileTree } from './file-tree.js';
import { TreeRoot } from './tree-root.js';

export interface ImageFile {
  path: string;
  size: number;
  /** Why it is there: "program", "library", "interpreter", "include", "runtime: iconv"… */
  reason: string;
}

export interface CopyTreeOptions {
  /** Leaves a path out when it returns true (given the path inside the root). */
  exclude?: (path: string) => boolean;
  /** Called for each regular file copied. */
  onFile?: (path: string) => void;
}

export class ImageTreeBuilder {
  readonly tree = new FileTree();
  readonly files = new Map<string, ImageFile>();
  /** Special files (FIFOs, devices, sockets) met inside copied trees and left out. */
  readonly skipped: string[] = [];

  constructor(readonly root: Root) {}

  addSymlinks(links: SymlinkStep[]): void {
    for (const l of links) this.tree.addSymlink(l.path, l.target);
  }

  /** A regular file of the root at `realPath` (no symlink in it), placed at `at` (default the same path). */
  addRootFile(realPath: string, reason: string, at = realPath, extraMode = 0): void {
    const st = this.root.lstat(realPath);
    if (st?.type !== 'file') throw new ElfpackError(st ? 'NOT_REGULAR_FILE' : 'NOT_FOUND', st ? `is ${describeType(st.type)}, not a regular file` : 'no such file', { path: realPath, step: 'image' });
    this.tree.addFile(at, { root: this.root, path: realPath }, st.size, st.mode | extraMode);
    if (!this.files.has(at)) this.files.set(at, { path: at, size: st.size, reason });
  }

  addContent(path: string, content: Buffer, mode: number, reason: string): void {
    this.tree.addFile(path, { content }, content.length, mode);
    this.files.set(path, { path, size: content.length, reason });
  }

  /**
   * `path` of the root, as it is: the links on the way, then the file, or the directory and
   * everything under it (symlinks inside kept as links). Returns the resolved path.
   */
  addRootPath(path: string, reason: string, opts: CopyTreeOptions = {}): string {
    const r = this.resolveSource(this.root, path, 'include');
    this.addSymlinks(r.links);
    this.copy(this.root, r.path, r.path, r.type, reason, opts, 0);
    return r.path;
  }

  /** `src` of another root (the host, for --add) placed at `dest`, links in `src` followed. */
  addPath(root: Root, src: string, dest: string, reason: string): void {
    const r = this.resolveSource(root, src, 'add');
    this.copy(root, r.path, this.placeInTree(dest), r.type, reason, {}, 0);
  }

  private resolveSource(root: Root, path: string, step: string): { path: string; type: 'file' | 'dir'; links: SymlinkStep[] } {
    const r = resolveInRoot(root, path);
    if (r.missing || !r.type) throw new ElfpackError(r.missing === 'ENOTDIR' ? 'NOT_A_DIRECTORY' : 'NOT_FOUND', r.missing === 'ENOTDIR' ? 'not a directory (a component of the path is a file)' : 'no such file or directory', { path, step });
    if (r.type !== 'file' && r.type !== 'dir') throw new ElfpackError('NOT_REGULAR_FILE', `is ${describeType(r.type)}: only files and directories can be copied`, { path, step });
    return { path: r.path, type: r.type, links: r.links };
  }

  private copy(root: Root, src: string, dest: string, type: 'file' | 'dir', reason: string, opts: CopyTreeOptions, depth: number): void {
    if (type === 'file') {
      const st = root.lstat(src)!;
      this.tree.addFile(dest, { root, path: src }, st.size, st.mode);
      if (!this.files.has(dest)) this.files.set(dest, { path: dest, size: st.size, reason });
      opts.onFile?.(src);
      return;
    }
    if (depth > 256) throw new ElfpackError('USAGE', 'directory tree nested too deeply', { path: src, step: reason });
    this.tree.addDir(dest, root.lstat(src)?.mode ?? 0o755);
    for (const name of (root.readdir(src) ?? []).sort()) {
      const p = src === '/' ? `/${name}` : `${src}/${name}`;
      const to = dest === '/' ? `/${name}` : `${dest}/${name}`;
      if (opts.exclude?.(p)) continue;
      const st = root.lstat(p);
      if (!st) continue;
      if (st.type === 'symlink') this.tree.addSymlink(to, root.readlink(p));
      else if (st.type === 'file' || st.type === 'dir') this.copy(root, p, to, st.type, reason, opts, depth + 1);
      else this.skipped.push(p);
    }
  }

  /** Where `path` would be stored in the tree, following the tree's own links for its directory. */
  placeInTree(path: string): string {
    const parts = splitPath(path);
    const name = parts.pop();
    if (!name) return '/';
    const dir = resolveInRoot(new TreeRoot(this.tree), '/' + parts.join('/'));
    return `${dir.path === '/' ? '' : dir.path}/${name}`;
  }
}

/** Glob → matcher over paths inside the root: `*` and `?` stay within a name, `**` spans names. */
export function globMatcher(globs: string[]): (path: string) => boolean {
  const res = globs.map((g) => {
    let re = '';
    const s = g.replace(/^\/+/, '');
    for (let i = 0; i < s.length; i++) {
      const c = s[i];
      if (c === '*' && s[i + 1] === '*') {
        // "**/" matches no directory or several; a trailing "/**" also matches the directory itself.
        if (s[i + 2] === '/') { re += '(?:.*/)?'; i += 2; }
        else { re += '.*'; i += 1; }
      } else if (c === '*') re += '[^/]*';
      else if (c === '?') re += '[^/]';
      else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    re = re.replace(/\/\.\*$/, '(?:/.*)?');
    return new RegExp(`^${re}$`);
  });
  return (path) => {
    const p = path.replace(/^\/+/, '');
    return res.some((r) => r.test(p));
  };
}
