// Remembers lstat and readlink answers for the length of one command: resolving hundreds of
// programs walks the same directories and links (/usr, /etc/alternatives…) over and over.
import type { ByteSource } from '../elf/byte-source.js';
import type { Root, RootStat } from './root.js';

export class CachedRoot implements Root {
  readonly label: string;
  private stats = new Map<string, RootStat | undefined>();
  private links = new Map<string, string>();

  constructor(readonly inner: Root) {
    this.label = inner.label;
  }

  lstat(path: string): RootStat | undefined {
    if (this.stats.has(path)) return this.stats.get(path);
    const st = this.inner.lstat(path);
    this.stats.set(path, st);
    return st;
  }

  readlink(path: string): string {
    let t = this.links.get(path);
    if (t === undefined) {
      t = this.inner.readlink(path);
      this.links.set(path, t);
    }
    return t;
  }

  readdir(path: string): string[] | undefined {
    return this.inner.readdir(path);
  }

  open(path: string): ByteSource {
    return this.inner.open(path);
  }
}
