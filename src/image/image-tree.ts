// Fills a FileTree from a root: a path with every symlink met on the way to it (so the image keeps
// both `libfoo.so.1` and `libfoo.so.1.2.3`), or a whole directory tree copied as it is, its links
// out of the tree followed to their targets. Each file remembers why it is in the image.
import { ElfpackError } from '../errors.js';
import { describeType } from '../root/host-root.js';
import { dirName, resolveInRoot, splitPath, type SymlinkStep } from '../root/resolve-path.js';
import type { Root } from '../root/root.js';
import { FileTree } from './file-tree.js';
import { TreeRoot } from './tree-root.js';

export interface ImageFile {
  path: string;
  size: number;
  /** Why it is there: "program", "library", "interpreter", "include", "runtime: iconv"… */
  reason: string;
}

/** Targets followed out of one copied tree, at most: past it, the pack stops and says so. */
export const MAX_FOLLOWED_LINKS = 10_000;

/** Links named in one summary line, at most; the rest are counted. */
const LINKS_NAMED = 10;

/** A symlink inside a copied tree whose target is not in it. */
export interface OutsideLink {
  /** The link's path (in the root and in the image). */
  path: string;
  /** Its target as stored. */
  target: string;
  /** Followed: the resolved target that was added. Dangling: why it cannot be. */
  resolved?: string;
  why?: string;
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
  /** Links of copied trees that point out of them: their targets were added too. */
  readonly followedLinks: OutsideLink[] = [];
  /** Links of copied trees whose targets are not in the root (or are left out): packed as they are, and said. */
  readonly danglingLinks: OutsideLink[] = [];
  /** Trees and files copied whole: a link into one of them needs nothing more. */
  private copied = new Set<string>();
  /** Paths the user named (--include, --add): what is under them is the user's choice. */
  private named = new Set<string>();

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
    const links: string[] = [];
    this.copy(this.root, r.path, r.path, r.type, reason, opts, 0, links);
    this.copied.add(r.path);
    if (reason === 'include') this.named.add(r.path);
    this.followLinks(links, r.path, reason, opts);
    return r.path;
  }

  /** Whether `path` is, or is under, a path the user put in the image with --include or --add. */
  isUsersChoice(path: string): boolean {
    for (let p = path; ; p = dirName(p)) {
      if (this.named.has(p)) return true;
      if (p === '/') return false;
    }
  }

  /**
   * Each link of a copied tree whose target lies outside it: the target is added (file or whole
   * directory, with the links on the way, as an --include of the link itself would), and its own
   * links are followed in turn, from a queue. A target that is not in the root, is a special file
   * or is left out by --exclude makes the link dangling: packed as it is, and listed. Resolution
   * stays inside the root (resolveInRoot); a chain of links is bounded by its 40 hops, and each link
   * is looked at once, so a cycle ends.
   */
  private followLinks(queue: string[], top: string, reason: string, opts: CopyTreeOptions): void {
    const seen = new Set<string>();
    let followed = 0;
    for (let i = 0; i < queue.length; i++) {
      const link = queue[i];
      if (seen.has(link)) continue;
      seen.add(link);
      const target = this.root.readlink(link);
      let r;
      try {
        r = resolveInRoot(this.root, link);
      } catch (err) {
        this.danglingLinks.push({ path: link, target, why: (err as Error).message });
        continue;
      }
      // The container runtime mounts these; what the root holds there is not the image's business.
      if (/^\/(proc|sys|dev)(\/|$)/.test(r.path)) continue;
      if (r.missing || !r.type) {
        this.danglingLinks.push({ path: link, target, why: r.missing === 'ENOTDIR' ? 'a component of the target is a file' : 'no such file in the root' });
        continue;
      }
      if (r.type !== 'file' && r.type !== 'dir') {
        this.danglingLinks.push({ path: link, target, why: `the target is ${describeType(r.type)}, which is not packed` });
        continue;
      }
      if (this.isExcluded(r.path, top, opts)) {
        this.danglingLinks.push({ path: link, target, why: `${r.path} is left out by --exclude` });
        continue;
      }
      this.addSymlinks(r.links);
      // Inside a tree already copied (this one included), or a directory above it (a link to ".."
      // or "/"): the target is there, and copying an ancestor would take the whole root.
      if (this.isCopied(r.path) || top === r.path || top.startsWith(r.path === '/' ? '/' : `${r.path}/`)) continue;
      if (++followed > MAX_FOLLOWED_LINKS) {
        throw new ElfpackError('IMAGE_LIMIT', `more than ${MAX_FOLLOWED_LINKS} links point out of this tree; --include their targets or --exclude the links`, { path: top, step: reason });
      }
      this.copy(this.root, r.path, r.path, r.type, reason, opts, 0, queue);
      this.copied.add(r.path);
      this.followedLinks.push({ path: link, target, resolved: r.path });
    }
  }

  /** Whether `path` or a directory above it was copied whole. */
  private isCopied(path: string): boolean {
    for (let p = path; ; p = dirName(p)) {
      if (this.copied.has(p)) return true;
      if (p === '/') return false;
    }
  }

  /** `path` matches --exclude, or (inside the tree at `top`) a directory above it does, which the walk skipped. */
  private isExcluded(path: string, top: string, opts: CopyTreeOptions): boolean {
    if (!opts.exclude) return false;
    if (opts.exclude(path)) return true;
    if (!path.startsWith(`${top}/`)) return false;
    for (let p = dirName(path); p.length > top.length; p = dirName(p)) if (opts.exclude(p)) return true;
    return false;
  }

  /** Summary lines: the links followed out of copied trees (counted past a few). */
  followedLinkNotes(): string[] {
    const l = this.followedLinks;
    if (!l.length) return [];
    const named = l.slice(0, LINKS_NAMED).map((x) => `${x.path} → ${x.resolved}`).join(', ');
    return [`${l.length} target(s) of links pointing out of included trees: ${named}${l.length > LINKS_NAMED ? `, and ${l.length - LINKS_NAMED} more` : ''}`];
  }

  /** Warnings, one per dangling link (counted past a few): each names the link, its target and why. */
  danglingLinkWarnings(): string[] {
    const l = this.danglingLinks;
    const lines = l.slice(0, LINKS_NAMED).map((x) => `dangling link ${x.path} → ${x.target} (${x.why}): packed as it is, it will not resolve in the image`);
    if (l.length > LINKS_NAMED) lines.push(`and ${l.length - LINKS_NAMED} more dangling links in included trees`);
    return lines;
  }

  /** `src` of another root (the host, for --add) placed at `dest`, links in `src` followed. */
  addPath(root: Root, src: string, dest: string, reason: string): void {
    const r = this.resolveSource(root, src, 'add');
    const at = this.placeInTree(dest);
    this.copy(root, r.path, at, r.type, reason, {}, 0);
    this.named.add(at);
  }

  private resolveSource(root: Root, path: string, step: string): { path: string; type: 'file' | 'dir'; links: SymlinkStep[] } {
    const r = resolveInRoot(root, path);
    if (r.missing || !r.type) throw new ElfpackError(r.missing === 'ENOTDIR' ? 'NOT_A_DIRECTORY' : 'NOT_FOUND', r.missing === 'ENOTDIR' ? 'not a directory (a component of the path is a file)' : 'no such file or directory', { path, step });
    if (r.type !== 'file' && r.type !== 'dir') throw new ElfpackError('NOT_REGULAR_FILE', `is ${describeType(r.type)}: only files and directories can be copied`, { path, step });
    return { path: r.path, type: r.type, links: r.links };
  }

  /** `links`, when given, collects the symlinks met (their paths), for followLinks. */
  private copy(root: Root, src: string, dest: string, type: 'file' | 'dir', reason: string, opts: CopyTreeOptions, depth: number, links?: string[]): void {
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
      if (st.type === 'symlink') {
        this.tree.addSymlink(to, root.readlink(p));
        links?.push(p);
      } else if (st.type === 'file' || st.type === 'dir') this.copy(root, p, to, st.type, reason, opts, depth + 1, links);
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
