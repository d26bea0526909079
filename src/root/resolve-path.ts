// realpath inside a root, one component at a time, as the kernel does under chroot: an absolute
// link restarts from the root, ".." applies to the resolved prefix and stops at the root, and a
// chain longer than MAXSYMLINKS (40) is ELOOP. Nothing is ever looked up outside the root.
import { RootPathError } from '../errors.js';
import type { FileType, Root } from './root.js';

export const MAX_SYMLINK_HOPS = 40;

export interface SymlinkStep {
  /** The link's own path, resolved (inside the root). */
  path: string;
  /** Its target, as stored. */
  target: string;
}

export interface ResolvedPath {
  /** The resolved path: absolute, no "." or "..", no symlink in it (unless `followFinal` is false). */
  path: string;
  /** The final component's type; undefined when something along the way is missing. */
  type?: FileType;
  /** Why the path does not resolve: ENOENT, or ENOTDIR when a component is not a directory. */
  missing?: 'ENOENT' | 'ENOTDIR';
  /** Every symlink met, in order: what a copy of this path must keep to behave the same. */
  links: SymlinkStep[];
}

export interface ResolvePathOptions {
  /** Directory that a relative `path` starts from (default "/"). */
  cwd?: string;
  /** Follow a symlink in the last component (default true). */
  followFinal?: boolean;
}

export function splitPath(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

export function joinPath(parts: string[]): string {
  return '/' + parts.join('/');
}

export function resolveInRoot(root: Root, path: string, opts: ResolvePathOptions = {}): ResolvedPath {
  const followFinal = opts.followFinal !== false;
  // The resolved prefix as one string ("" for the root) and where each component of it starts,
  // so that a step and a ".." cost the length of a name, not of the whole path.
  let cur = '';
  const starts: number[] = [];
  const push = (c: string) => { starts.push(cur.length); cur += `/${c}`; };
  if (!path.startsWith('/')) for (const c of splitPath(opts.cwd ?? '/')) push(c);
  // Components still to walk, last one first, so a link's target can be pushed on top.
  const todo = splitPath(path).reverse();
  const rest = (c: string) => cur + '/' + [c, ...todo.reverse()].join('/');
  const links: SymlinkStep[] = [];
  let hops = 0;
  let type: FileType | undefined = 'dir';
  while (todo.length > 0) {
    const c = todo.pop()!;
    if (c === '..') {
      if (starts.length) cur = cur.slice(0, starts.pop()); // at the root, ".." is the root
      type = 'dir';
      continue;
    }
    const here = `${cur}/${c}`;
    type = root.kind(here);
    if (!type) return { path: rest(c), missing: 'ENOENT', links };
    if (type === 'symlink' && (todo.length > 0 || followFinal)) {
      if (++hops > MAX_SYMLINK_HOPS) {
        throw new RootPathError('SYMLINK_LOOP', `too many levels of symbolic links (more than ${MAX_SYMLINK_HOPS})`, path);
      }
      const target = root.readlink(here);
      links.push({ path: here, target });
      if (target.startsWith('/')) { cur = ''; starts.length = 0; } // absolute: restart at the root, never the host's /
      for (const t of splitPath(target).reverse()) todo.push(t);
      type = starts.length === 0 ? 'dir' : undefined;
      continue;
    }
    if (todo.length > 0 && type !== 'dir') {
      return { path: rest(c), missing: 'ENOTDIR', links };
    }
    push(c);
  }
  const final = cur || '/';
  if (!type) type = root.kind(final);
  if (!type) return { path: final, missing: 'ENOENT', links };
  return { path: final, type, links };
}

/** resolveInRoot for questions of existence: a loop or an escape counts as "nothing there" (undefined). */
export function tryResolveInRoot(root: Root, path: string, opts: ResolvePathOptions = {}): ResolvedPath | undefined {
  try {
    return resolveInRoot(root, path, opts);
  } catch {
    return undefined;
  }
}

/** Lexical dirname of an absolute path. */
export function dirName(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

export function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}
