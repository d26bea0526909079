// The rootfs sink: the image's file tree as a new host directory, for `COPY --from=build /out /`.
// Written beside the target and renamed into place: a failed run leaves nothing. Symlinks are
// created as stored and never followed; modes are set after creation (the umask does not apply).
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync, openSync, writeSync, closeSync, renameSync, rmdirSync } from 'node:fs';
import { ElfpackError } from '../errors.js';
import type { FileTree } from '../image/file-tree.js';
import { tempNameFor } from '../temp-files.js';
import type { Sink } from './sink.js';

const CHUNK = 1 << 20;

/** The rootfs sink: the image's one file tree (a multi-platform image has one per platform: refused). */
export function rootfsSink(dir: string): Sink {
  let written: { existed: boolean } | undefined;
  return {
    kind: 'rootfs',
    async check() {
      checkTarget(dir);
    },
    async write(input) {
      if (!input.trees) throw new ElfpackError('USAGE', 'an image read from a tar has no file tree to write: unpack it instead', { path: dir, step: 'rootfs' });
      if (input.trees.length !== 1) throw new ElfpackError('USAGE', '--rootfs takes one platform');
      const existed = existsSync(dir);
      await writeRootfs(input.trees[0], dir);
      written = { existed };
      return { rootfs: dir };
    },
    async discard() {
      // What the sink wrote goes; a directory that was there, empty, before is left empty.
      if (!written) return;
      rmSync(dir, { recursive: true, force: true });
      if (written.existed) mkdirSync(dir);
      written = undefined;
    },
  };
}

/** The target must be new, or an empty directory: nothing of the user's is ever replaced. */
function checkTarget(dir: string): ReturnType<typeof statSync> {
  const st = statSync(dir, { throwIfNoEntry: false });
  if (st && (!st.isDirectory() || readdirSync(dir).length > 0)) {
    throw new ElfpackError('USAGE', st.isDirectory() ? 'exists and is not empty: give a new or empty directory' : 'exists and is not a directory', { path: dir, step: 'rootfs' });
  }
  return st;
}

export async function writeRootfs(tree: FileTree, dir: string): Promise<void> {
  const st = checkTarget(dir);
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
