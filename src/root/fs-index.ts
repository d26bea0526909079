// A filesystem held as an index (path → type, mode, link target, where the bytes are), built from
// layer tars read with tar-stream and applied in order with OCI whiteouts (image-spec layer.md):
// ".wh.NAME" deletes NAME from lower layers, ".wh..wh..opq" empties a directory of what lower
// layers put there. Nothing is ever written to the host: a hostile stream can only be refused.
// The index is a tree of nodes, each holding only its own name, so its memory is linear in the
// bytes of the names (a path of 500,000 levels is not 500,000 copies of its prefixes); nothing in
// it recurses. Bounds: entries, path bytes and components, link target bytes (see LIMITS).
// Names with "..", entries placed through a link, and hard links to what the archive does not
// hold are dropped and counted.
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { loadTarStream } from '../tar-stream-lazy.js';
import { ElfpackError } from '../errors.js';
import { describeTarError, skipEntry } from '../oci/blob-source.js';
import { escapeName } from '../escape.js';
import type { FileType } from './root.js';

/** Linux's PATH_MAX is 4096 bytes with its NUL; a symlink's target is at most 4095. */
export const MAX_PATH_BYTES = 4096;
/** Components of one path: 4096 bytes hold at most 2048 ("a/a/…"); said on its own for clarity. */
export const MAX_PATH_COMPONENTS = 2048;
export const DEFAULT_MAX_ENTRIES = 1_000_000;

export interface IndexEntry {
  type: FileType;
  mode: number;
  size: number;
  target?: string;
  /** For a regular file: the host file and offset its bytes start at. */
  data?: { file: string; offset: number };
}

interface Node extends IndexEntry {
  /** Directories only: name → node. */
  children?: Map<string, Node>;
  /** The layer that last put or touched this node (for opaque whiteouts). */
  layer: number;
}

export interface IndexLimits {
  /** Entries kept at most (default 1,000,000): a stream claiming more is refused. */
  maxEntries?: number;
}

/** One entry of a saved index (FsIndex.snapshot): its parent's position in the list (-1: the root), its name. */
export interface IndexRecord {
  parent: number;
  name: string;
  entry: IndexEntry;
}

/** What applying a layer left out, for messages and tests. */
export interface Rejected {
  name: string;
  why: string;
}

export interface ApplyLayerOptions {
  /** Bytes of the layer tar to read from `offset` (default: to the end of the file). */
  length?: number;
  /** The image, for messages (default the file). */
  label?: string;
  /** The layer's name in the image, for messages. */
  layerName?: string;
  /** Sees every byte of the layer as it is read (to check its digest). */
  onChunk?: (chunk: Buffer) => void;
  /**
   * Unpack as dpkg does, not as a layer: a symbolic link to a directory on an entry's way is
   * followed (inside the index), and a directory entry where such a link is keeps the link. This
   * is how a package's /lib/… lands in /usr/lib when /lib is a link (merged /usr). Default false.
   */
  followDirLinks?: boolean;
}

/** Links followed while placing one entry with followDirLinks (Linux's ELOOP bound). */
const MAX_LINK_HOPS = 40;

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

export class FsIndex {
  private root: Node = { type: 'dir', mode: 0o755, size: 0, children: new Map(), layer: 0 };
  private count = 1;
  // The last lookup and its directory (see node()); forgotten whenever a node is added or removed.
  private lastDirPath?: string;
  private lastDir?: Node;
  private lastPath?: string;
  private lastNode?: Node;
  private layers = 0;
  readonly rejected: Rejected[] = [];

  constructor(private limits: IndexLimits = {}) {}

  /** Entries in the index, the root included. */
  get size(): number {
    return this.count;
  }

  /** The entry at an absolute, normalized path ("/", "/usr/lib"), if any. */
  get(path: string): IndexEntry | undefined {
    return this.node(path);
  }

  /** Names in a directory (unsorted); undefined when `path` is not a directory. */
  children(path: string): Map<string, IndexEntry> | undefined {
    return this.node(path)?.children;
  }

  /** Every path in the index, depth first (for tests and tools; iterative). */
  paths(): string[] {
    const out: string[] = [];
    const stack: [string, Node][] = [['/', this.root]];
    while (stack.length) {
      const [p, n] = stack.pop()!;
      out.push(p);
      for (const [name, c] of n.children ?? []) stack.push([p === '/' ? `/${name}` : `${p}/${name}`, c]);
    }
    return out;
  }

  /**
   * Every entry but the root, breadth first (a parent before its children, each directory's names
   * in the order they were added), for saving the index (root/index-file.ts). Iterative.
   */
  snapshot(): IndexRecord[] {
    const out: IndexRecord[] = [];
    const queue: [number, Node][] = [[-1, this.root]];
    for (let q = 0; q < queue.length; q++) {
      const [self, n] = queue[q];
      for (const [name, c] of n.children ?? []) {
        const { children: _c, layer: _l, ...e } = c;
        out.push({ parent: self, name, entry: e });
        if (c.children) queue.push([out.length - 1, c]);
      }
    }
    return out;
  }

  /**
   * An index holding `records` as snapshot() gave them. Checked as they are added (bounds, names,
   * parents before children and directories): a damaged record throws IMAGE_MALFORMED.
   */
  static restore(records: IndexRecord[], limits: IndexLimits = {}): FsIndex {
    const index = new FsIndex(limits);
    const nodes: Node[] = [];
    const pathBytes: number[] = []; // of each record's path, within MAX_PATH_BYTES as applyLayer keeps them
    for (const r of records) {
      const parent = r.parent === -1 ? index.root : nodes[r.parent];
      const bytes = (r.parent === -1 ? 0 : pathBytes[r.parent]) + 1 + Buffer.byteLength(r.name);
      if (!parent?.children || !validName(r.name) || bytes >= MAX_PATH_BYTES || parent.children.has(r.name)) throw new ElfpackError('IMAGE_MALFORMED', `a saved index's record ${nodes.length} is not a new name in a directory`, { step: 'layer' });
      pathBytes.push(bytes);
      const node: Node = { ...r.entry, layer: 0, ...(r.entry.type === 'dir' ? { children: new Map() } : {}) };
      index.add(parent, r.name, node, undefined);
      nodes.push(node);
    }
    return index;
  }

  /**
   * The node at `path`. The last directory looked up is remembered: resolving a path walks it one
   * name at a time, and each step then costs one name, not the whole depth again.
   */
  private node(path: string): Node | undefined {
    const cut = path.lastIndexOf('/');
    if (cut <= 0) return path.length > 1 ? this.root.children!.get(path.slice(1)) : this.root;
    const dirPath = path.slice(0, cut);
    let dir: Node | undefined;
    if (dirPath === this.lastDirPath) dir = this.lastDir;
    else if (dirPath === this.lastPath) dir = this.lastNode;
    else dir = this.walkPath(dirPath);
    const found = cut + 1 < path.length ? dir?.children?.get(path.slice(cut + 1)) : dir;
    this.lastDirPath = dirPath;
    this.lastDir = dir;
    this.lastPath = path;
    this.lastNode = found;
    return found;
  }

  private walkPath(path: string): Node | undefined {
    let n: Node | undefined = this.root;
    let at = 1;
    while (n && at < path.length) {
      let end = path.indexOf('/', at);
      if (end < 0) end = path.length;
      if (end > at) n = n.children?.get(path.slice(at, end));
      at = end + 1;
    }
    return n;
  }

  /** Reads one uncompressed layer tar stored in `file` from `offset` on, and applies it. */
  async applyLayer(file: string, offset = 0, opts: ApplyLayerOptions = {}): Promise<void> {
    const label = opts.label ?? file;
    const layer = ++this.layers;
    const { extract } = await loadTarStream();
    const ex = extract();
    ex.on('entry', (h, stream, next) => {
      skipEntry(h, stream, next); // the bytes stay where they are: only their offset is kept
      try {
        this.applyEntry(h, file, offset + (h as { byteOffset?: number }).byteOffset!, layer, label, opts.followDirLinks ?? false);
      } catch (err) {
        ex.destroy(err as Error);
      }
    });
    const end = opts.length === undefined ? undefined : offset + opts.length - 1;
    const input = createReadStream(file, { start: offset, end, highWaterMark: 1 << 20 });
    if (opts.onChunk) input.on('data', opts.onChunk as (c: string | Buffer) => void);
    try {
      await pipeline(input, ex);
    } catch (err) {
      if (err instanceof ElfpackError) throw err;
      const layerName = opts.layerName ? `layer ${escapeName(opts.layerName)}` : 'a layer';
      throw new ElfpackError('IMAGE_MALFORMED', `${layerName} is not a readable tar: ${describeTarError(err)}`, { path: label, step: 'layer', cause: err });
    }
  }

  private applyEntry(h: { name: string; type?: string | null; mode?: number; size?: number; linkname?: string | null }, file: string, dataAt: number, layer: number, label: string, follow: boolean): void {
    const parts = checkedPath(h.name, label);
    if (parts.includes('..')) return this.reject(h.name, 'a name with ".."');
    if (!parts.length) return; // the root itself
    const base = parts[parts.length - 1];
    if (base === OPAQUE) {
      const dir = this.walk(parts.slice(0, -1));
      if (dir?.children) this.hideLower(dir, layer);
      return;
    }
    if (base.startsWith(WHITEOUT)) {
      const dir = this.walk(parts.slice(0, -1));
      const gone = dir?.children?.get(base.slice(WHITEOUT.length));
      if (gone) this.detach(dir!, base.slice(WHITEOUT.length), gone);
      return;
    }
    const parent = follow ? this.followParents(parts, layer) : this.makeParents(parts, layer);
    if (!parent) return this.reject(h.name, 'placed through a symlink or a file');
    const mode = (h.mode ?? 0o644) & 0o7777;
    let e: IndexEntry;
    switch (h.type) {
      case 'directory': e = { type: 'dir', mode, size: 0 }; break;
      case 'symlink': {
        const target = h.linkname ?? '';
        if (Buffer.byteLength(target) >= MAX_PATH_BYTES) throw limitError(label, `a symbolic link's target is longer than ${MAX_PATH_BYTES - 1} bytes`, h.name);
        e = { type: 'symlink', mode: 0o777, size: 0, target };
        break;
      }
      case 'link': {
        const linkParts = h.linkname ? checkedPath(h.linkname, label) : [];
        const t = linkParts.includes('..') ? undefined : this.walk(linkParts);
        if (!h.linkname || t?.type !== 'file') return this.reject(h.name, `a hard link to ${escapeName(h.linkname ?? '')} which the archive does not hold`);
        e = { type: 'file', mode: t.mode, size: t.size, data: t.data };
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
    const had = parent.children!.get(base);
    if (follow && had?.type === 'symlink' && e.type === 'dir' && this.followParents([...parts, '.'], layer, false)) return; // dpkg keeps a link to a directory
    if (had?.type === 'dir' && e.type === 'dir') {
      had.mode = e.mode; // a directory met again keeps what is in it
      had.layer = layer;
      return;
    }
    if (had) this.detach(parent, base, had);
    this.add(parent, base, { ...e, layer, ...(e.type === 'dir' ? { children: new Map() } : {}) }, label);
  }

  /** The node at these components, following nothing (links are not directories here). */
  private walk(parts: string[]): Node | undefined {
    let n: Node | undefined = this.root;
    for (const p of parts) n = n?.children?.get(p);
    return n;
  }

  /** The parent directory of the last component, made as needed; undefined when a link or file is in the way. */
  private makeParents(parts: string[], layer: number): Node | undefined {
    let n = this.root;
    for (let i = 0; i < parts.length - 1; i++) {
      let next = n.children!.get(parts[i]);
      if (!next) {
        next = { type: 'dir', mode: 0o755, size: 0, children: new Map(), layer };
        this.add(n, parts[i], next, undefined);
      } else if (next.type !== 'dir') return undefined;
      next.layer = layer; // touched by this layer: an opaque whiteout above keeps it
      n = next;
    }
    return n;
  }

  private add(parent: Node, name: string, node: Node, label: string | undefined): void {
    const max = this.limits.maxEntries ?? DEFAULT_MAX_ENTRIES;
    if (this.count >= max) throw new ElfpackError('IMAGE_LIMIT', `the image holds more than ${max} entries: refused`, { path: label, step: 'layer' });
    parent.children!.set(name, node);
    this.count++;
    this.lastDirPath = this.lastPath = undefined; // a remembered miss may now be there
  }

  /**
   * The parent directory of the last component with links to directories followed inside the
   * index, as dpkg's unpacking into a filesystem follows them: made as needed when `create`,
   * undefined when a file is in the way, a link dangles (without `create`) or links loop.
   * Iterative: a link's target is pushed as components to walk, at most MAX_LINK_HOPS times.
   */
  private followParents(parts: string[], layer: number, create = true): Node | undefined {
    let path: Node[] = [this.root]; // the directories walked, for ".."
    const todo = parts.slice(0, -1).reverse();
    let hops = 0;
    while (todo.length) {
      const name = todo.pop()!;
      if (name === '' || name === '.') continue;
      if (name === '..') {
        if (path.length > 1) path.pop();
        continue;
      }
      const dir = path[path.length - 1];
      let next = dir.children!.get(name);
      if (!next) {
        if (!create) return undefined;
        next = { type: 'dir', mode: 0o755, size: 0, children: new Map(), layer };
        this.add(dir, name, next, undefined);
      }
      if (next.type === 'symlink') {
        if (++hops > MAX_LINK_HOPS) return undefined;
        if (next.target!.startsWith('/')) path = [this.root];
        const t = next.target!.split('/');
        for (let i = t.length - 1; i >= 0; i--) todo.push(t[i]);
        continue;
      }
      if (next.type !== 'dir') return undefined;
      if (create) next.layer = layer;
      path.push(next);
    }
    return path[path.length - 1];
  }

  /** Removes a node and everything under it (counted with a stack, not by recursion). */
  private detach(parent: Node, name: string, node: Node): void {
    parent.children!.delete(name);
    this.lastDirPath = this.lastPath = undefined; // the remembered nodes may be gone
    const stack = [node];
    while (stack.length) {
      const n = stack.pop()!;
      this.count--;
      if (n.children) for (const c of n.children.values()) stack.push(c);
    }
  }

  /** An opaque directory: everything lower layers put under it goes; what this layer put stays. */
  private hideLower(dir: Node, layer: number): void {
    const stack = [dir];
    while (stack.length) {
      const d = stack.pop()!;
      for (const [name, c] of [...d.children!]) {
        if (c.layer < layer) this.detach(d, name, c);
        else if (c.children) stack.push(c);
      }
    }
  }

  private reject(name: string, why: string): void {
    if (this.rejected.length < 100) this.rejected.push({ name: escapeName(name.slice(0, 200)), why });
  }
}

/** A name one directory can hold: not empty, not "." or "..", no "/" or NUL, under the path bound. */
function validName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\0]/.test(name) && Buffer.byteLength(name) < MAX_PATH_BYTES;
}

/** The components of an entry's name, refused past the path bounds. */
function checkedPath(name: string, label: string): string[] {
  if (Buffer.byteLength(name) >= MAX_PATH_BYTES) throw limitError(label, `a path is longer than ${MAX_PATH_BYTES - 1} bytes`, name);
  const parts = name.split('/').filter((c) => c !== '' && c !== '.');
  if (parts.length > MAX_PATH_COMPONENTS) throw limitError(label, `a path has more than ${MAX_PATH_COMPONENTS} components`, name);
  return parts;
}

function limitError(label: string, what: string, name: string): ElfpackError {
  return new ElfpackError('IMAGE_LIMIT', `${what} ("${escapeName(name.slice(0, 60))}…"): refused`, { path: label, step: 'layer' });
}
