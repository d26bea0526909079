// Puts what a traced run used into the image: each file with the links on its way, each listed
// or stat'ed directory (empty unless its files were used), each symlink read. Only what exists in
// the root; the loader's cache is elfpack's to write (loader-config.ts), not the root's to copy.
import type { TracedPath } from '../closure/strace-log.js';
import { dirName, tryResolveInRoot } from '../root/resolve-path.js';
import type { ImageTreeBuilder } from './image-tree.js';

export interface TracedAddition {
  /** A directory of the image and the files the trace put there that nothing else did. */
  dir: string;
  files: number;
  bytes: number;
}

const NOT_COPIED = new Set(['/etc/ld.so.cache', '/etc/ld.so.preload']);
const PRIVATE = ['/proc', '/sys', '/dev', '/tmp', '/run'];

export interface TracedFiles {
  /** Real paths (no symlink in them) of every file and directory of the root the run used. */
  realPaths: Set<string>;
  /** Files the trace alone brought, grouped by directory, largest first. */
  added: TracedAddition[];
}

/**
 * Adds the trace's paths to the builder; `onFile` sees each regular file (for the ELF closures).
 * `scratchDirs` (the run's private /tmp, /run, home, where it worked) go in as empty directories.
 */
export function addTracedFiles(b: ImageTreeBuilder, used: TracedPath[], onFile: (realPath: string) => void, scratchDirs: string[] = []): TracedFiles {
  for (const d of scratchDirs) {
    const r = tryResolveInRoot(b.root, d);
    if (r?.type === 'dir' || !r || r.missing) {
      if (r?.links.length) b.addSymlinks(r.links);
      b.tree.addDir(r?.type === 'dir' ? r.path : d, d === '/tmp' ? 0o1777 : (r?.type === 'dir' ? b.root.lstat(r.path)?.mode ?? 0o755 : 0o755) & 0o7777);
    }
  }
  const realPaths = new Set<string>();
  const groups = new Map<string, TracedAddition>();
  for (const u of used) {
    const r = tryResolveInRoot(b.root, u.path, { followFinal: u.use !== 'lstat' });
    if (!r || r.missing || !r.type) continue;
    if (NOT_COPIED.has(r.path) || PRIVATE.some((p) => r.path === p || r.path.startsWith(`${p}/`))) continue;
    b.addSymlinks(r.links);
    realPaths.add(r.path);
    if (r.type === 'file') {
      if (!b.files.has(r.path)) {
        b.addRootFile(r.path, 'trace');
        const size = b.files.get(r.path)!.size;
        const dir = dirName(r.path);
        const g = groups.get(dir) ?? { dir, files: 0, bytes: 0 };
        g.files++;
        g.bytes += size;
        groups.set(dir, g);
      }
      onFile(r.path);
    } else if (r.type === 'dir') {
      const st = b.root.lstat(r.path);
      b.tree.addDir(r.path, (st?.mode ?? 0o755) & 0o7777);
    } else if (r.type === 'symlink') b.tree.addSymlink(r.path, b.root.readlink(r.path));
  }
  const added = [...groups.values()].sort((x, y) => y.bytes - x.bytes || (x.dir < y.dir ? -1 : 1));
  return { realPaths, added };
}
