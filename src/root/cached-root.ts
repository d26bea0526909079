// Remembers what a root answered for the length of one command: resolving hundreds of programs
// walks the same directories and links (/usr, /etc/alternatives…) over and over. Where the root
// can list a directory with types, one listing answers every name in it (one getdents, not one
// lstat per name), once a few names in it were asked for: listing /usr/bin and /usr/lib/<triplet>
// to answer `elfpack ldd /bin/true` costs more than its handful of lstats.
import type { ByteSource } from '../elf/byte-source.js';
import type { FileType, Root, RootStat } from './root.js';

/** Names asked for in one directory before it is listed instead. */
const LIST_AFTER = 8;

export class CachedRoot implements Root {
  readonly label: string;
  private stats = new Map<string, RootStat | undefined>();
  private links = new Map<string, string>();
  private listings = new Map<string, Map<string, FileType | undefined> | null>();
  private asked = new Map<string, number>();

  constructor(readonly inner: Root) {
    this.label = inner.label;
  }

  lstat(path: string): RootStat | undefined {
    if (this.stats.has(path)) return this.stats.get(path);
    const st = this.inner.lstat(path);
    this.stats.set(path, st);
    return st;
  }

  kind(path: string): FileType | undefined {
    if (path === '/' || !this.inner.readdirTypes) return this.lstat(path)?.type;
    const cut = path.lastIndexOf('/');
    const dir = cut === 0 ? '/' : path.slice(0, cut);
    let list = this.listings.get(dir);
    if (list === undefined) {
      const asked = (this.asked.get(dir) ?? 0) + 1;
      this.asked.set(dir, asked);
      if (asked < LIST_AFTER) return this.lstat(path)?.type;
      list = this.inner.readdirTypes(dir) ?? null;
      this.listings.set(dir, list);
    }
    // The directory could not be listed (not a directory, no permission): ask about the name itself.
    if (list === null) return this.lstat(path)?.type;
    const name = path.slice(cut + 1);
    if (!list.has(name)) return undefined;
    return list.get(name) ?? this.lstat(path)?.type;
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
