// Libraries a program loads by path before the libraries that need them: every JNI library of a
// JDK names libjvm.so in DT_NEEDED, which no search finds (it sits in lib/server), but the java
// launcher has dlopen'd it by its path first, and glibc's _dl_map_object then answers the name
// with the object already loaded, by its SONAME. For an included library (not a program: nothing
// is loaded before a program's own needs) whose missing name a file of the image carries as SONAME
// or file name, that is an assumption to state, not an error. With --trace, the trace decides: a
// file the traced run saw loaded needs no warning.
import { ElfpackError } from '../errors.js';
import type { MissingLibrary, ProgramLoad } from '../closure/load-program.js';
import { baseName, tryResolveInRoot } from '../root/resolve-path.js';
import type { Root } from '../root/root.js';
import type { Resolver } from '../resolve/resolver.js';

export interface LoadedByPathOptions {
  /**
   * Image paths a traced run saw loaded: when the file that answers a missing name is one of them,
   * the assumption is proven and no warning is given.
   */
  loadedByPath?: Set<string>;
}

/** The shared libraries among some files, by SONAME and by file name → their paths. */
export type LibraryIndex = Map<string, string[]>;

/** A name an included library needs, found by no search, that `providers` carry. */
export interface AssumedLoad {
  name: string;
  neededBy: string;
  providers: string[];
}

/** Files named in one message, at most; the rest are counted. */
const FILES_NAMED = 5;

/** Indexes the shared libraries among `paths` (as the resolver sees them: the root, or the image). */
export function indexLibraries(resolver: Resolver, paths: Iterable<string>): LibraryIndex {
  const index: LibraryIndex = new Map();
  const add = (name: string, path: string) => {
    const had = index.get(name);
    if (!had) index.set(name, [path]);
    else if (!had.includes(path)) had.push(path);
  };
  for (const p of paths) {
    const elf = resolver.probe(p).elf;
    if (elf?.kind !== 'shared-library') continue;
    add(baseName(p), p);
    if (elf.soname) add(elf.soname, p);
  }
  return index;
}

/**
 * A load's missing names, split: those an included library needs and the index holds (assumed
 * loaded by path before it), and the rest, which are errors as ever. A missing interpreter or a
 * name with a slash is never assumed.
 */
export function splitLoadedByPath(load: ProgramLoad, index: LibraryIndex): { missing: MissingLibrary[]; assumed: AssumedLoad[] } {
  if (load.file.elf?.kind !== 'shared-library') return { missing: load.missing, assumed: [] };
  const missing: MissingLibrary[] = [];
  const assumed: AssumedLoad[] = [];
  for (const m of load.missing) {
    const providers = m.name.includes('/') || m === load.interp?.missing ? undefined : index.get(m.name);
    if (providers?.length) assumed.push({ name: m.name, neededBy: m.neededBy, providers });
    else missing.push(m);
  }
  return { missing, assumed };
}

/**
 * The files a traced run opened or ran, by their real paths in the root: what `loadedByPath`
 * takes. A library is opened before it is mapped, whether by a search or by its path.
 */
export function openedByRun(root: Root, used: { path: string; use: string }[]): Set<string> {
  const opened = new Set<string>();
  for (const u of used) {
    if (u.use !== 'read' && u.use !== 'exec') continue;
    const r = tryResolveInRoot(root, u.path);
    if (r && !r.missing && r.type === 'file') opened.add(r.path);
  }
  return opened;
}

/** "a, b, c, d, e, and 37 more". */
export function nameSome(items: string[], max = FILES_NAMED): string {
  const named = items.slice(0, max).join(', ');
  return items.length > max ? `${named}, and ${items.length - max} more` : named;
}

/**
 * One warning per name assumed loaded by path, naming every library that needs it (counted past
 * a few) and the file that answers it; none for a name whose file the traced run saw loaded.
 */
export function loadedByPathWarnings(assumed: AssumedLoad[], opts: LoadedByPathOptions = {}): string[] {
  const byName = new Map<string, { neededBy: string[]; providers: string[] }>();
  for (const a of assumed) {
    if (opts.loadedByPath && a.providers.some((p) => opts.loadedByPath!.has(p))) continue;
    const g = byName.get(a.name) ?? { neededBy: [], providers: a.providers };
    if (!g.neededBy.includes(a.neededBy)) g.neededBy.push(a.neededBy);
    byName.set(a.name, g);
  }
  return [...byName].map(([name, g]) => {
    const who = g.neededBy.length === 1 ? `the library ${g.neededBy[0]}` : `${g.neededBy.length} libraries (${nameSome(g.neededBy)})`;
    return `${name}, needed by ${who}, is found by no library search in the image; packed on the assumption that the program loads ${nameSome(g.providers)} by its path (dlopen) before ${g.neededBy.length === 1 ? 'it' : 'them'}`;
  });
}

/**
 * The error for included files whose needs the root does not have: one line, each missing name
 * with every file that needs it (counted past a few). A library is called a library.
 */
export function missingIncludedError(loads: { load: ProgramLoad; missing: MissingLibrary[] }[]): ElfpackError {
  const byName = new Map<string, { neededBy: string[]; error?: string }>();
  for (const { missing } of loads) {
    for (const m of missing) {
      const key = `${m.name}\0${m.error ?? ''}`;
      const g = byName.get(key) ?? { neededBy: [], error: m.error };
      if (!g.neededBy.includes(m.neededBy)) g.neededBy.push(m.neededBy);
      byName.set(key, g);
    }
  }
  const kinds = new Set(loads.map(({ load }) => (load.file.elf?.kind === 'shared-library' ? 'library' : 'program')));
  const what = loads.length === 1 ? `included ${[...kinds][0]} needs` : `${loads.length} included ${kinds.size === 2 ? 'files' : kinds.has('library') ? 'libraries' : 'programs'} need`;
  const names = [...byName].map(([key, g]) => `${key.slice(0, key.indexOf('\0'))} (needed by ${nameSome(g.neededBy)}): ${g.error ?? 'not found'}`);
  return new ElfpackError('MISSING_LIBRARY', `${what} what the root does not have, so no image was written: ${names.join('; ')}`, { path: loads[0].load.file.path, step: 'closure' });
}
