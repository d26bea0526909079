// A Root over a FileTree: the image's own filesystem, as the loader inside it will see it. Used
// to check an image before it is written.
import { ElfpackError } from '../errors.js';
import { BufferByteSource, type ByteSource } from '../elf/byte-source.js';
import type { FileTree } from './file-tree.js';
import type { FileType, Root, RootStat } from '../root/root.js';

export class TreeRoot implements Root {
  readonly label = 'the image';

  constructor(private tree: FileTree) {}

  lstat(path: string): RootStat | undefined {
    const e = this.tree.get(path);
    if (!e) return undefined;
    return { type: e.type, size: e.type === 'file' ? e.size : 0, mode: e.type === 'symlink' ? 0o777 : e.mode, id: e.path };
  }

  kind(path: string): FileType | undefined {
    return this.tree.get(path)?.type;
  }

  readlink(path: string): string {
    const e = this.tree.get(path);
    if (e?.type !== 'symlink') throw new ElfpackError('IO', 'not a symbolic link', { path });
    return e.target;
  }

  readdir(path: string): string[] | undefined {
    return this.tree.get(path)?.type === 'dir' ? this.tree.children(path) : undefined;
  }

  open(path: string): ByteSource {
    const e = this.tree.get(path);
    if (!e) throw new ElfpackError('NOT_FOUND', 'no such file', { path });
    if (e.type !== 'file') throw new ElfpackError('NOT_REGULAR_FILE', `is a ${e.type}, not a regular file`, { path });
    return 'content' in e.source ? new BufferByteSource(e.source.content) : e.source.root.open(e.source.path);
  }
}
