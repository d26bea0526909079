// The roots buildDebRoot made, kept in the cache (CACHE/deb-root/roots/KEY.index) as their whole
// index, generated layers included, with the packages and warnings: a second run with the same
// .debs reads one file instead of reading every data.tar again. The key is the .debs' SHA256s in
// order (and the index record each was checked against, if any), the architecture, the bounds, and
// DEB_ROOT_CACHE_VERSION. What the index points at (the plain data tars in deb-data/, the
// generated tars) must still be the files indexed: root/index-file.ts checks their size and mtime.
// The cache is the user's own directory, trusted as deb-data/ already is (its tars are not hashed
// again on use); a damaged entry is ignored and the root built again.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FsIndex, IndexLimits } from '../root/fs-index.js';
import { readIndexFile, writeIndexFile } from '../root/index-file.js';
import type { Deb822Paragraph } from '../root/deb822.js';
import { ELFPACK_VERSION } from '../version.js';

/**
 * Bumped whenever what buildDebRoot puts in a root changes (how data.tar is applied, the generated
 * layers: dpkg's database, alternatives, ld.so.cache, or any layer added later): older saved roots
 * are then not used.
 */
export const DEB_ROOT_CACHE_VERSION = 3; // 2: what maintainer scripts would write (package-effects.ts), base-files' distribution files; 3: ca-certificates-java's keystore
/** Warnings kept with a saved root, at most (deb.ts prints 20). */
const MAX_SAVED_WARNINGS = 1000;
const MAX_FIELD = 4096;

export interface SavedDebRootPackage {
  name: string;
  version: string;
  arch: string;
  path: string;
}

export interface SavedDebRoot {
  index: FsIndex;
  packages: SavedDebRootPackage[];
  warnings: string[];
}

export interface DebRootKeyInput {
  /** The .deb's SHA256 (hex). */
  sha256: string;
  control?: Deb822Paragraph;
}

export interface DebRootKeyOptions extends IndexLimits {
  arch: string;
  /** base-files' .deb, whose distribution files the root takes (deb/distro-files.ts). */
  distroFiles?: DebRootKeyInput;
  maxDataBytes?: number;
}

/** The cache key of the root these .debs make, in this order. */
export function debRootKey(debs: DebRootKeyInput[], opts: DebRootKeyOptions): string {
  const parts = debs.map((d) => [d.sha256.toLowerCase(), d.control ? d.control.fields.map((f) => [f.name, f.value]) : null]);
  return createHash('sha256').update(JSON.stringify({ v: DEB_ROOT_CACHE_VERSION, elfpack: ELFPACK_VERSION, arch: opts.arch, distro: opts.distroFiles?.sha256.toLowerCase() ?? null, maxDataBytes: opts.maxDataBytes ?? null, maxEntries: opts.maxEntries ?? null, debs: parts })).digest('hex');
}

function entryPath(cacheDir: string, key: string): string {
  return join(cacheDir, 'deb-root', 'roots', `${key}.index`);
}

/** The saved root for `key`, or undefined (none, damaged, for other files, or beyond the bounds). */
export function readSavedDebRoot(cacheDir: string, key: string, count: number, limits: IndexLimits): SavedDebRoot | undefined {
  const saved = readIndexFile(entryPath(cacheDir, key), limits);
  const meta = saved?.meta as { key?: unknown; packages?: unknown; warnings?: unknown } | undefined;
  if (!saved || meta?.key !== key) return undefined;
  const { packages, warnings } = meta;
  const str = (s: unknown) => typeof s === 'string' && s.length <= MAX_FIELD;
  if (!Array.isArray(packages) || packages.length !== count || !packages.every((p: Partial<SavedDebRootPackage>) => str(p?.name) && str(p.version) && str(p.arch) && str(p.path))) return undefined;
  if (!Array.isArray(warnings) || warnings.length > MAX_SAVED_WARNINGS || !warnings.every(str)) return undefined;
  return { index: saved.index, packages: packages as SavedDebRootPackage[], warnings: warnings as string[] };
}

/**
 * Saves a built root under `key` (atomically: a reader sees the whole file or none). A root whose
 * warnings or names pass the bounds a reader checks is not saved: it would be refused anyway.
 */
export async function saveDebRoot(cacheDir: string, key: string, root: SavedDebRoot): Promise<void> {
  const packages = root.packages.map(({ name, version, arch, path }) => ({ name, version, arch, path }));
  const long = (s: string) => s.length > MAX_FIELD;
  if (root.warnings.length > MAX_SAVED_WARNINGS || root.warnings.some(long) || packages.some((p) => [p.name, p.version, p.arch, p.path].some(long))) return;
  mkdirSync(join(cacheDir, 'deb-root', 'roots'), { recursive: true });
  await writeIndexFile(entryPath(cacheDir, key), root.index, { key, packages, warnings: root.warnings });
}
