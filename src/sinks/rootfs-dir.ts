// The image's file tree as a host directory, for `COPY --from=build /out /` in a Dockerfile.
// Written beside the target and renamed into place: a failed run leaves nothing. Symlinks are
// created as stored and never followed; modes are set after creation (the umask does not apply).
import { chmodSync, chownSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync, openSync, writeSync, closeSync, renameSync, rmdirSync } from 'node:fs';
import { ElfpackError } from '../errors.js';
import type { FileTree } from '../image/file-tree.js';
import { tempNameFor } from '../temp-files.js';

const CHUNK = 1 << 20;

export async function writeRootfs(tree: FileTree, dir: string): Promise<void> {
  const st = statSync(dir, { throwIfNoEntry: false });
  if (st && (!st.isDirectory() || readdirSync(dir).length > 0)) {
    throw new ElfpackError('USAGE', st.isDirectory() ? 'exists and is not empty: give a new or empty directory' : 'exists and is not a directory', { path: dir, step: 'rootfs' });
  }
  const tmp = tempNameFor(dir);
  const asRoot = process.getuid?.() === 0;
  try {
    mkdirSync(tmp, { mode: 0o755 });
    const dirs: [string, number][] = [];
    for (const e of tree.sorted()) {
      const p = e.path === '/' ? tmp : tmp + e.path;
      if (e.type === 'dir') {
        if (e.path !== '/') mkdirSync(p);
        dirs.push([p, e.mode]);
        if (asRoot && e.uid) chownSync(p, e.uid, e.uid);
      } else if (e.type === 'symlink') symlinkSync(e.target, p);
      else {
        if ('content' in e.source) writeFileSync(p, e.source.content, { mode: 0o600 });
        else copyFromRoot(e.source.root, e.source.path, e.size, p);
        chmodSync(p, e.mode);
      }
    }
    // Directory modes last: a read-only directory would refuse its own children.
    for (const [p, mode] of dirs.reverse()) chmodSync(p, mode);
    if (st) rmdirSync(dir);
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

function copyFromRoot(root: import('../root/root.js').Root, path: string, size: number, to: string): void {
  const src = root.open(path);
  const fd = openSync(to, 'wx', 0o600);
  try {
    for (let off = 0; off < size; off += CHUNK) writeSync(fd, src.read(off, Math.min(CHUNK, size - off), 'file content'));
  } finally {
    closeSync(fd);
    src.close();
  }
}
