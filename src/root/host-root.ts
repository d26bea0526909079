// A Root over a directory of the host, through node:fs: the only place the core touches the disk.
import { constants, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, closeSync, type Dirent, type Stats } from 'node:fs';
import { FileByteSource, type ByteSource } from '../elf/byte-source.js';
import { RootPathError } from '../errors.js';
import type { FileType, Root, RootStat } from './root.js';

// O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOFOLLOW: the caller has resolved
// every link inside the root already, so a final link here is a race or a bug, never followed.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

function typeOf(st: Stats): FileType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return 'other';
}

export function describeType(t: FileType): string {
  return ({ file: 'a regular file', dir: 'a directory', symlink: 'a symbolic link', fifo: 'a FIFO', socket: 'a socket', char: 'a character device', block: 'a block device', other: 'not a regular file' } as const)[t];
}

export class HostRoot implements Root {
  readonly label: string;
  /** The host directory behind the root ("/" for the host). */
  readonly dir: string;
  private prefix: string;

  /** `dir` is a host directory; "/" is the host itself. */
  constructor(dir: string) {
    this.prefix = dir === '/' ? '' : dir.replace(/\/+$/, '');
    this.label = dir;
    this.dir = this.prefix || '/';
  }

  /** The host path behind a path inside the root. Paths reaching here are absolute and resolved. */
  hostPath(path: string): string {
    return this.prefix + path;
  }

  lstat(path: string): RootStat | undefined {
    let st: Stats | undefined;
    try {
      st = lstatSync(this.hostPath(path), { throwIfNoEntry: false });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR' || code === 'ENAMETOOLONG') return undefined;
      throw new RootPathError('IO', `cannot stat: ${(err as Error).message}`, path, err);
    }
    if (!st) return undefined;
    return { type: typeOf(st), size: st.size, mode: st.mode & 0o7777, id: `${st.dev}:${st.ino}` };
  }

  kind(path: string): FileType | undefined {
    return this.lstat(path)?.type;
  }

  readdirTypes(path: string): Map<string, FileType | undefined> | undefined {
    let entries: Dirent[];
    try {
      entries = readdirSync(this.hostPath(path), { withFileTypes: true });
    } catch {
      return undefined;
    }
    const out = new Map<string, FileType | undefined>();
    // Some filesystems do not fill d_type: those entries say nothing, and callers lstat them.
    for (const e of entries) out.set(e.name, e.isFile() ? 'file' : e.isSymbolicLink() ? 'symlink' : e.isDirectory() ? 'dir' : e.isFIFO() ? 'fifo' : e.isSocket() ? 'socket' : e.isCharacterDevice() ? 'char' : e.isBlockDevice() ? 'block' : undefined);
    return out;
  }

  readlink(path: string): string {
    return readlinkSync(this.hostPath(path));
  }

  readdir(path: string): string[] | undefined {
    try {
      return readdirSync(this.hostPath(path));
    } catch {
      return undefined;
    }
  }

  open(path: string): ByteSource {
    let fd: number;
    try {
      fd = openSync(this.hostPath(path), OPEN_FLAGS);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new RootPathError('NOT_FOUND', 'no such file', path, err);
      if (code === 'ELOOP') throw new RootPathError('SYMLINK_LOOP', 'is a symbolic link', path, err);
      throw new RootPathError('IO', `cannot open: ${code ?? (err as Error).message}`, path, err);
    }
    const st = fstatSync(fd);
    if (!st.isFile()) {
      closeSync(fd);
      throw new RootPathError('NOT_REGULAR_FILE', `is ${describeType(typeOf(st))}, not a regular file`, path);
    }
    return new FileByteSource(fd, st.size, `${st.dev}:${st.ino}`);
  }
}
