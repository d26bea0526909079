// A Root that records every host path it touches, to prove nothing outside the root is read.
import { realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { HostRoot } from '../../src/root/host-root.js';
import type { ByteSource } from '../../src/elf/byte-source.js';
import type { FileType, Root, RootStat } from '../../src/root/root.js';

export class RecordingRoot implements Root {
  readonly label: string;
  readonly touched: string[] = [];
  private inner: HostRoot;

  constructor(readonly dir: string) {
    this.inner = new HostRoot(dir);
    this.label = dir;
  }

  private note(p: string): void {
    this.touched.push(this.inner.hostPath(p));
  }

  lstat(p: string): RootStat | undefined { this.note(p); return this.inner.lstat(p); }
  kind(p: string): FileType | undefined { this.note(p); return this.inner.kind(p); }
  readlink(p: string): string { this.note(p); return this.inner.readlink(p); }
  readdir(p: string): string[] | undefined { this.note(p); return this.inner.readdir(p); }
  open(p: string): ByteSource { this.note(p); return this.inner.open(p); }

  /** Host paths whose parent directory, with links resolved by the OS, is outside the root. */
  escapes(): string[] {
    const root = realpathSync(this.dir);
    return this.touched.filter((t) => {
      t = t.replace(/\/+$/, '');
      if (t === this.dir.replace(/\/+$/, '')) return false; // the root itself
      let parent: string;
      try {
        parent = realpathSync(dirname(t));
      } catch {
        return false; // a parent that does not exist was not read through
      }
      return parent !== root && !parent.startsWith(root + '/');
    });
  }
}
