// Bounded reads of a package database's files inside a root, and paths as the database spells them
// turned into real paths of the root: a database names /lib/x86_64-linux-gnu/libc.so.6 where a
// merged /usr keeps the file at /usr/lib/…, so ownership is decided on resolved paths.
import { ElfpackError } from '../errors.js';
import { baseName, dirName, tryResolveInRoot } from './resolve-path.js';
import type { Root } from './root.js';
import { readRootFile } from './read-file.js';

/** One file of a database (dpkg's status, a .list, apk's installed), at most. */
export const MAX_DB_FILE_BYTES = 64 << 20;
/** Every file read from one database, added up, at most. */
export const MAX_DB_TOTAL_BYTES = 512 << 20;
/** Packages (paragraphs, status.d entries) in one database, at most. */
export const MAX_DB_PACKAGES = 100_000;

export function dbLimitError(path: string, what: string): ElfpackError {
  return new ElfpackError('PACKAGE_DB', `${what}; --no-package-metadata packs without reading the package database`, { path, step: 'package metadata' });
}

/** Reads a database's files, counting what it read against MAX_DB_TOTAL_BYTES. */
export class DbReader {
  private total = 0;
  private dirs = new Map<string, string | undefined>();

  constructor(readonly root: Root) {}

  /**
   * The text of the regular file at `path` (symlinks on the way followed inside the root), or
   * undefined when there is none. Past `max` bytes, or past the total, a PACKAGE_DB error.
   */
  readText(path: string, max = MAX_DB_FILE_BYTES): string | undefined {
    const buf = this.readBytes(path, max);
    return buf && buf.toString('utf8');
  }

  /**
   * The real path of the regular file at `path` (links on the way followed inside the root), or
   * undefined. The directory is resolved once for all its files (info/ has thousands); a file that
   * is itself a link is resolved whole.
   */
  realFile(path: string): string | undefined {
    const real = this.realPath(path);
    const type = real === undefined ? undefined : this.root.kind(real);
    if (type === 'file') return real;
    if (type !== 'symlink') return undefined;
    const r = tryResolveInRoot(this.root, path);
    return r && !r.missing && r.type === 'file' ? r.path : undefined;
  }

  readBytes(path: string, max = MAX_DB_FILE_BYTES): Buffer | undefined {
    const real = this.realFile(path);
    const st = real === undefined ? undefined : this.root.lstat(real);
    if (!st || st.type !== 'file' || real === undefined) return undefined;
    if (st.size > max) throw dbLimitError(path, `${st.size} bytes, more than the ${max} a package database file may have`);
    this.total += st.size;
    if (this.total > MAX_DB_TOTAL_BYTES) throw dbLimitError(path, `the package database's files add up to more than ${MAX_DB_TOTAL_BYTES} bytes`);
    return readRootFile(this.root, { path: real, size: st.size }, 'package database file');
  }

  /** Reads `path` like readText, or leaves it out when it is larger than `max` (undefined). */
  readTextUpTo(path: string, max: number): string | undefined {
    const real = this.realFile(path);
    const st = real === undefined ? undefined : this.root.lstat(real);
    if (!st || st.size > max) return undefined;
    return this.readText(real!, max);
  }

  /** Entry names of a directory (sorted), or undefined when it is not one. */
  list(path: string, max = MAX_DB_PACKAGES * 2): string[] | undefined {
    const r = tryResolveInRoot(this.root, path);
    if (!r || r.missing || r.type !== 'dir') return undefined;
    const names = this.root.readdir(r.path);
    if (names && names.length > max) throw dbLimitError(path, `${names.length} entries, more than the ${max} a package database directory may have`);
    return names?.sort();
  }

  /**
   * The real path of a file the database names: its directory resolved inside the root (once per
   * directory), its own name kept, since a link named by a package is that package's link, not
   * its target. Undefined when the directory is not there.
   */
  realPath(path: string): string | undefined {
    const dir = dirName(path);
    let real = this.dirs.get(dir);
    if (real === undefined && !this.dirs.has(dir)) {
      const r = tryResolveInRoot(this.root, dir);
      real = r && !r.missing && r.type === 'dir' ? r.path : undefined;
      this.dirs.set(dir, real);
    }
    if (real === undefined) return undefined;
    return real === '/' ? `/${baseName(path)}` : `${real}/${baseName(path)}`;
  }
}
