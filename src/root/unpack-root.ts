// Writes a Root's files into a host directory, for a sandbox to run in: an image's filesystem,
// which otherwise lives only as an index over its layers. Walks without recursion; set-id bits
// and special files are left out (nothing in a traced run needs them).
import { chmodSync, closeSync, mkdirSync, openSync, symlinkSync, writeSync } from 'node:fs';
import { ElfpackError } from '../errors.js';
import type { Root } from './root.js';

const CHUNK = 1 << 20;

/** Copies every directory, regular file and symlink of `root` under the host directory `dir` (which exists and is empty). */
export function unpackRoot(root: Root, dir: string): void {
  const dirs: { path: string; mode: number }[] = [];
  const todo = ['/'];
  while (todo.length) {
    const path = todo.pop()!;
    const names = root.readdir(path) ?? [];
    for (const name of names) {
      const p = path === '/' ? `/${name}` : `${path}/${name}`;
      const st = root.lstat(p);
      if (!st) continue;
      const host = dir + p;
      if (st.type === 'dir') {
        mkdirSync(host, { mode: 0o755 });
        dirs.push({ path: host, mode: st.mode & 0o777 });
        todo.push(p);
      } else if (st.type === 'symlink') symlinkSync(root.readlink(p), host);
      else if (st.type === 'file') copyFile(root, p, host, st.size, st.mode & 0o777);
    }
  }
  // Modes last, deepest first: a read-only directory is filled before it is closed.
  for (const d of dirs.reverse()) chmodSync(d.path, d.mode);
}

function copyFile(root: Root, path: string, host: string, size: number, mode: number): void {
  const src = root.open(path);
  const fd = openSync(host, 'wx', mode);
  try {
    for (let at = 0; at < size;) {
      const b = src.read(at, Math.min(CHUNK, size - at), 'file');
      if (!b.length) throw new ElfpackError('IO', 'file ended early while unpacking it for the sandbox', { path, step: 'trace' });
      writeSync(fd, b);
      at += b.length;
    }
  } finally {
    closeSync(fd);
    src.close();
  }
  chmodSync(host, mode);
}
