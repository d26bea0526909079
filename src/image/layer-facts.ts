// What the layer split (layers.ts) needs to know of a planned image: which of its files are the
// loader and libc, which are the other shared libraries, and which package owns each file.
import type { LoadedObject, ProgramLoad } from '../closure/load-program.js';
import type { FileTree } from './file-tree.js';
import type { LayerFacts } from './layers.js';
import type { ImagePackages } from './package-metadata.js';

/** glibc's libc by its soname (libc.so.6.1 on alpha and ia64); musl's libc is its loader. */
const LIBC = /^libc\.so\.6(\.1)?$/;

/**
 * `loads[0]` is the program's: its loader and libc make the base. Libraries are every loaded
 * non-program object of every load, and `moreLibraries` (what glibc loads unasked, dlopen'd ones);
 * only those placed at their own path count (one moved with --as follows the program, in the top).
 */
export function layerFactsOf(tree: FileTree, loads: ProgramLoad[], moreLibraries: string[], packages?: ImagePackages): LayerFacts {
  const main = loads[0];
  const interp = main?.interp?.object;
  const libc = main?.objects.find((o) => o.role === 'library' && LIBC.test(o.elf.soname ?? ''));
  const base = [interp, libc].flatMap((o) => (o && atOwnPath(tree, o.realPath) ? [o.realPath, ...linksOf(tree, o)] : []));
  const libraries = [...loads.flatMap((l) => l.objects.filter((o) => o.role !== 'program').map((o) => o.realPath)), ...moreLibraries].filter((p) => atOwnPath(tree, p));
  return { base, libraries: [...new Set(libraries)], ownerOf: packages?.db ? ownerIndex(packages) : undefined };
}

/** Whether the tree has the root's file `path` at that same path. */
function atOwnPath(tree: FileTree, path: string): boolean {
  const e = tree.get(path);
  return e?.type === 'file' && 'path' in e.source && e.source.path === path;
}

/** The links on an object's path that the tree holds as they are. */
function linksOf(tree: FileTree, o: LoadedObject): string[] {
  return o.links.filter((l) => {
    const e = tree.get(l.path);
    return e?.type === 'symlink' && e.target === l.target;
  }).map((l) => l.path);
}

/** Path → owning package (the first by name when several own it: packages come sorted). */
function ownerIndex(packages: ImagePackages): (path: string) => string | undefined {
  const owner = new Map<string, string>();
  const names = new Map<string, number>();
  for (const p of packages.packages) names.set(p.name, (names.get(p.name) ?? 0) + 1);
  for (const p of packages.packages) {
    // Two architectures of one name are two packages (two layers), named as dpkg names them.
    const name = names.get(p.name)! > 1 ? `${p.name}:${p.arch}` : p.name;
    for (const f of p.files) if (!owner.has(f)) owner.set(f, name);
  }
  return (path) => owner.get(path);
}
