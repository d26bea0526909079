// The Root interface: a filesystem seen from inside, so that the resolver never touches the host
// directly. Behind it: a host directory (host-root.ts), an image's file index (image-root.ts), a
// builder image of the engine (container-root.ts), and an image's planned tree (image/tree-root.ts).
import type { ByteSource } from '../elf/byte-source.js';

export type FileType = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'char' | 'block' | 'other';

export interface RootStat {
  type: FileType;
  size: number;
  mode: number;
  /** Identifies the file inside this root (device:inode on a host), for "same file" checks. */
  id: string;
}

export interface Root {
  /** A label for messages: the host directory, an image name… */
  readonly label: string;
  /** Stat without following a final symlink; undefined when nothing is there (ENOENT/ENOTDIR). */
  lstat(path: string): RootStat | undefined;
  /** Only the type of what is at `path` (a final symlink not followed); undefined when nothing is there. */
  kind(path: string): FileType | undefined;
  /**
   * Optional: every entry of a directory with its type (undefined where the listing cannot tell),
   * so that a caller resolving many names in one directory can ask once.
   */
  readdirTypes?(path: string): Map<string, FileType | undefined> | undefined;
  /** The target of a symlink, as stored. */
  readlink(path: string): string;
  /** Entry names of a directory (unsorted); undefined when it is not a readable directory. */
  readdir(path: string): string[] | undefined;
  /**
   * Opens a regular file for positioned reads. `path` must already be resolved (no symlink in it):
   * a final symlink, directory, FIFO or device is refused without blocking.
   */
  open(path: string): ByteSource;
}
