// The image's files split into layers that images share (issue 15 §3), lowest first: the base (the
// loader and libc, with the links on their paths), the other shared libraries grouped by owning
// package (else by directory), the largest groups in layers of their own up to a cap, and the top
// (the program, its own files, the extras, the package metadata). Every file and link is in one
// layer; each layer carries the parents of its entries, with the modes the whole tree gives them,
// so that the layers merge (overlayfs, a registry's unpack) into exactly the one-layer tree.
import { ElfpackError } from '../errors.js';
import { dirName, tryResolveInRoot } from '../root/resolve-path.js';
import { FileTree, comparePaths, type TreeEntry } from './file-tree.js';
import { TreeRoot } from './tree-root.js';

/** Docker's limit on an image's layers (and past ~100 lowerdirs, overlayfs mounts slow down). */
export const MAX_WRITTEN_LAYERS = 127;
/**
 * The layers of `--layers auto`, at most: the base, 12 library groups, the other libraries, the
 * top. More layers share more when images share fewer files, but each costs a request per push and
 * pull and an overlay lowerdir per container; past a dozen the groups left are small.
 */
export const DEFAULT_MAX_LAYERS = 15;
/** A library group smaller than this joins the other libraries: its own layer would save little. */
export const MIN_GROUP_BYTES = 128 << 10;

export type LayerKind = 'base' | 'libraries' | 'program' | 'all';

export interface ImageLayer {
  kind: LayerKind;
  /** What it holds: ["base"], package names or directories ("/usr/lib/x86_64-linux-gnu/"), ["program"], ["all"]. */
  holds: string[];
  tree: FileTree;
  /** Regular files and links. */
  files: number;
  /** Bytes of its regular files. */
  bytes: number;
}

export interface LayerFacts {
  /** Image paths of the loader and libc (regular files) and of the links on their paths; none for a static program. */
  base: string[];
  /** Image paths of the other shared libraries (regular files at their own path). */
  libraries: string[];
  /** The package owning an image path, when the root has a package database. */
  ownerOf?: (path: string) => string | undefined;
}

/** `--layers`: "auto" (up to DEFAULT_MAX_LAYERS) or at most N layers, 1 to MAX_WRITTEN_LAYERS. */
export function parseLayers(v: string): number {
  if (v === 'auto') return DEFAULT_MAX_LAYERS;
  const n = /^\d{1,3}$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= MAX_WRITTEN_LAYERS)) throw new ElfpackError('USAGE', `--layers ${v}: want auto, or a number of layers from 1 to ${MAX_WRITTEN_LAYERS}`);
  return n;
}

// Group keys; a library group's is "pkg:NAME" or "dir:/DIR".
const TOP = 'top';
const BASE = 'base';
const REST = 'libraries';

/** Splits the tree into at most `maxLayers` layers (1: the tree itself, as one layer). */
export function splitLayers(tree: FileTree, facts: LayerFacts, maxLayers = DEFAULT_MAX_LAYERS): ImageLayer[] {
  if (!Number.isInteger(maxLayers) || maxLayers < 1 || maxLayers > MAX_WRITTEN_LAYERS) throw new ElfpackError('USAGE', `layers: want 1 to ${MAX_WRITTEN_LAYERS}, not ${maxLayers}`);
  const entries = tree.sorted().filter((e) => e.path !== '/');
  const whole: ImageLayer[] = [{ kind: 'all', holds: ['all'], tree, ...countOf(entries) }];
  if (maxLayers === 1) return whole;
  const group = assignGroups(tree, entries, facts);
  const groups = librarySizes(entries, group);
  const hasBase = [...group.values()].includes(BASE);
  // What the cap leaves for library layers beside the top and the base; the groups too small for
  // a layer of their own, and the smallest of the rest when there are too many, share one.
  const room = maxLayers - 1 - (hasBase ? 1 : 0);
  const big = groups.filter((g) => g.bytes >= MIN_GROUP_BYTES);
  const someSmall = big.length < groups.length;
  const own = room === 0 ? [] : big.length + (someSmall ? 1 : 0) <= room ? big : big.slice(0, room - 1);
  const owning = new Set(own);
  const rest = groups.filter((g) => !owning.has(g));
  const restLayer = rest.length > 0 && room > 0;
  const order = [...(hasBase ? [BASE] : []), ...own.map((g) => g.key), ...(restLayer ? [REST] : []), TOP];
  if (order.length === 1) return whole;

  const merged = new Map(rest.map((g) => [g.key, restLayer ? REST : TOP]));
  const byLayer = new Map<string, TreeEntry[]>(order.map((k) => [k, []]));
  for (const e of entries) {
    if (e.type === 'dir') continue;
    const g = group.get(e.path) ?? TOP;
    byLayer.get(merged.get(g) ?? g)!.push(e);
  }
  const layers = order.map((k) => buildLayer(tree, byLayer.get(k)!));
  // A directory under which no layer has anything (/tmp, a home) goes in the top.
  const covered = new Set(layers.flatMap((l) => l.sorted().map((e) => e.path)));
  const top = layers[layers.length - 1];
  for (const e of entries) if (e.type === 'dir' && !covered.has(e.path)) addWithParents(top, tree, e);
  return order.map((k, i) => ({
    kind: k === BASE ? 'base' : k === TOP ? 'program' : 'libraries',
    holds: k === BASE ? ['base'] : k === TOP ? ['program'] : k === REST ? rest.map((g) => labelOf(g.key)).sort() : [labelOf(k)],
    tree: layers[i],
    ...countOf(byLayer.get(k)!),
  }));
}

/** Each file and link's group: "base", "pkg:NAME" or "dir:/DIR" for a library, else the top (absent). */
function assignGroups(tree: FileTree, entries: TreeEntry[], facts: LayerFacts): Map<string, string> {
  const group = new Map<string, string>();
  for (const p of facts.base) if (tree.get(p) && tree.get(p)!.type !== 'dir') group.set(p, BASE);
  for (const p of facts.libraries) {
    if (group.has(p) || tree.get(p)?.type !== 'file') continue;
    const owner = facts.ownerOf?.(p);
    group.set(p, owner ? `pkg:${owner}` : `dir:${dirName(p)}`);
  }
  // A link goes with the library file it leads to (libfoo.so.1 → libfoo.so.1.2.3), else in the top.
  const inTree = new TreeRoot(tree);
  for (const e of entries) {
    if (e.type !== 'symlink' || group.has(e.path)) continue;
    const to = tryResolveInRoot(inTree, e.path);
    const g = to && !to.missing && to.type === 'file' ? group.get(to.path) : undefined;
    if (g && g !== BASE) group.set(e.path, g);
  }
  return group;
}

/** The library groups with their bytes, largest first (then by name): the order they get layers in. */
function librarySizes(entries: TreeEntry[], group: Map<string, string>): { key: string; bytes: number }[] {
  const bytes = new Map<string, number>();
  for (const e of entries) {
    const g = group.get(e.path);
    if (!g || g === BASE) continue;
    bytes.set(g, (bytes.get(g) ?? 0) + (e.type === 'file' ? e.size : 0));
  }
  return [...bytes].map(([key, n]) => ({ key, bytes: n })).sort((a, b) => b.bytes - a.bytes || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function labelOf(key: string): string {
  return key.startsWith('pkg:') ? key.slice(4) : `${key.slice(4).replace(/\/$/, '')}/`;
}

/** A layer's tree: its entries, and their parent directories as the whole tree has them. */
function buildLayer(tree: FileTree, entries: TreeEntry[]): FileTree {
  const paths = new Set<string>();
  for (const e of entries) {
    for (let p = dirName(e.path); p !== '/' && !paths.has(p); p = dirName(p)) paths.add(p);
    paths.add(e.path);
  }
  const t = new FileTree();
  for (const p of [...paths].sort(comparePaths)) addOne(t, tree.get(p)!); // parents first
  return t;
}

/** An entry of the whole tree into a layer's, after those of its parents the layer lacks. */
function addWithParents(t: FileTree, tree: FileTree, e: TreeEntry): void {
  const parents: string[] = [];
  for (let p = dirName(e.path); p !== '/' && !t.get(p); p = dirName(p)) parents.unshift(p);
  for (const p of parents) addOne(t, tree.get(p)!);
  addOne(t, e);
}

function addOne(t: FileTree, e: TreeEntry): void {
  if (e.type === 'dir') t.addDir(e.path, e.mode, e.uid);
  else if (e.type === 'file') t.addFile(e.path, e.source, e.size, e.mode);
  else t.addSymlink(e.path, e.target);
}

function countOf(entries: TreeEntry[]): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const e of entries) {
    if (e.type === 'dir') continue;
    files++;
    if (e.type === 'file') bytes += e.size;
  }
  return { files, bytes };
}
