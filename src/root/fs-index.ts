// A filesystem held as an index (path → type, mode, link target, where the bytes are), built from
// layer tars read with tar-stream and applied in order with OCI whiteouts (image-spec layer.md):
// ".wh.NAME" deletes NAME from lower layers, ".wh..wh..opq" empties a directory of what lower
// layers put there. Nothing is ever written to the host: a hostile stream can only be refused.
// Entries are bounded in number; names with "..", links through which a later entry would be
// placed, and hard links to what the archive does not hold are dropped and counted.
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar-stream';
import { ElfpackError } from '../errors.js';
import type { FileType } from './root.js';
import { joinPath, splitPath } from './resolve-path.js';

const DEFAULT_MAX_ENTRIES = 1_000_000;

export interface IndexEntry {
  type: FileType;
  mode: number;
  size: number;
  target?: string;
  /** For a regular file: the host file and offset its bytes start at. */
  data?: { file: string; offset: number };
}

export interface IndexLimits {
  /** Entries kept at most (default 1,000,000): a stream claiming more is refused. */
  maxEntries?: number;
}

/** What applying a layer left out, for messages and tests. */
export interface Rejected {
  name: string;
  why: string;
}

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

export class FsIndex {
  readonly entries = new Map<string, IndexEntry>([['/', { type: 'dir', mode: 0o755, size: 0 }]]);
  readonly children = new Map<string, Set<string>>([['/', new Set()]]);
  readonly rejected: Rejected[] = [];

  constructor(private limits: IndexLimits = {}) {}

  /** Reads one uncompressed layer tar stored in `file` from `offset` on, and applies it. */
  async applyLayer(file: string, offset = 0, length?: number): Promise<void> {
    const ex = extract();
    const thisLayer = new Set<string>();
    ex.on('entry', (h, stream, next) => {
      stream.on('end', () => next());
      stream.on('error', () => undefined); // the extractor reports the same error
      stream.resume(); // the bytes stay where they are: only their offset is kept
      try {
        this.applyEntry(h, file, offset + (h as { byteOffset?: number }).byteOffset!, thisLayer);
      } catch (err) {
        ex.destroy(err as Error);
      }
    });
    const end = length === undefined ? undefined : offset + length - 1;
    try {
      await pipeline(createReadStream(file, { start: offset, end, highWaterMark: 1 << 20 }), ex);
    } catch (err) {
      if (err instanceof ElfpackError) throw err;
      const msg = (err as Error).message;
      throw new ElfpackError('ELF_MALFORMED', `not a readable layer: ${/premature|Unexpected end|end of data/i.test(msg) ? 'the tar stream is truncated' : msg}`, { path: file, step: 'layer', cause: err });
    }
  }

  private applyEntry(h: { name: string; type?: string | null; mode?: number; size?: number; linkname?: string | null }, file: string, dataAt: number, thisLayer: Set<string>): void {
    const parts = splitPath(h.name);
    if (parts.includes('..')) return this.reject(h.name, 'a name with ".."');
    if (!parts.length) return; // the root itself
    const base = parts[parts.length - 1];
    const dir = '/' + parts.slice(0, -1).join('/');
    const parent = dir === '/' ? '' : dir;
    if (base === OPAQUE) {
      for (const c of [...(this.children.get(dir) ?? [])]) if (!thisLayer.has(`${parent}/${c}`)) this.remove(`${parent}/${c}`);
      return;
    }
    if (base.startsWith(WHITEOUT)) {
      this.remove(`${parent}/${base.slice(WHITEOUT.length)}`);
      return;
    }
    const path = `${parent}/${base}`;
    if (!this.makeParents(parts)) return this.reject(h.name, 'placed through a symlink or a file');
    const mode = (h.mode ?? 0o644) & 0o7777;
    let e: IndexEntry;
    switch (h.type) {
      case 'directory': e = { type: 'dir', mode, size: 0 }; break;
      case 'symlink': e = { type: 'symlink', mode: 0o777, size: 0, target: h.linkname ?? '' }; break;
      case 'link': {
        const t = this.entries.get(joinPath(splitPath(h.linkname ?? '')));
        if (!h.linkname || h.linkname.split('/').includes('..') || t?.type !== 'file') return this.reject(h.name, `a hard link to ${h.linkname} which the archive does not hold`);
        e = { ...t };
        break;
      }
      case 'character-device': e = { type: 'char', mode, size: 0 }; break;
      case 'block-device': e = { type: 'block', mode, size: 0 }; break;
      case 'fifo': e = { type: 'fifo', mode, size: 0 }; break;
      case 'file': case 'contiguous-file': case null: case undefined:
        e = { type: 'file', mode, size: h.size ?? 0, data: { file, offset: dataAt } };
        break;
      default: return this.reject(h.name, `an entry of type ${h.type}`);
    }
    const had = this.entries.get(path);
    if (had && !(had.type === 'dir' && e.type === 'dir')) this.remove(path);
    this.put(path, e);
    thisLayer.add(path);
  }

  private makeParents(parts: string[]): boolean {
    let cur = '';
    for (let i = 0; i < parts.length - 1; i++) {
      const next = `${cur}/${parts[i]}`;
      const had = this.entries.get(next);
      if (!had) this.put(next, { type: 'dir', mode: 0o755, size: 0 });
      else if (had.type !== 'dir') return false;
      cur = next;
    }
    return true;
  }

  private put(path: string, e: IndexEntry): void {
    if (!this.entries.has(path)) {
      const max = this.limits.maxEntries ?? DEFAULT_MAX_ENTRIES;
      if (this.entries.size >= max) {
        throw new ElfpackError('USAGE', `the image holds more than ${max} entries: refused`, { step: 'layer' });
      }
      const cut = path.lastIndexOf('/');
      this.children.get(cut === 0 ? '/' : path.slice(0, cut))?.add(path.slice(cut + 1));
    }
    if (e.type === 'dir' && !this.children.has(path)) this.children.set(path, new Set());
    this.entries.set(path, e);
  }

  private remove(path: string): void {
    const e = this.entries.get(path);
    if (!e) return;
    for (const c of [...(this.children.get(path) ?? [])]) this.remove(`${path}/${c}`);
    this.children.delete(path);
    this.entries.delete(path);
    const cut = path.lastIndexOf('/');
    this.children.get(cut === 0 ? '/' : path.slice(0, cut))?.delete(path.slice(cut + 1));
  }

  private reject(name: string, why: string): void {
    if (this.rejected.length < 100) this.rejected.push({ name, why });
  }
}
