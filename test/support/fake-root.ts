// A root made of a few files for a test: a temporary directory behind a HostRoot.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { HostRoot } from '../../src/root/host-root.js';

/** A path's content (a string or bytes), a link, or a directory. */
export type FakeEntry = string | Buffer | { link: string } | { dir: true };

export interface FakeRoot {
  dir: string;
  root: HostRoot;
  /** Adds more entries. */
  add(entries: Record<string, FakeEntry>): void;
  cleanup(): void;
}

export function makeRoot(entries: Record<string, FakeEntry>): FakeRoot {
  const dir = mkdtempSync(join(tmpdir(), 'elfpack-fake-root-'));
  const add = (more: Record<string, FakeEntry>) => {
    for (const [p, e] of Object.entries(more)) {
      const at = join(dir, p);
      mkdirSync(dirname(at), { recursive: true });
      if (typeof e === 'string' || Buffer.isBuffer(e)) writeFileSync(at, e);
      else if ('link' in e) symlinkSync(e.link, at);
      else mkdirSync(at, { recursive: true });
    }
  };
  add(entries);
  return { dir, root: new HostRoot(dir), add, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
