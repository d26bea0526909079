// Programs that would load alike share one simulation. A load depends on the program only through
// its loader profile (ABI and PT_INTERP), its search context (RPATH, RUNPATH, NODEFLIB, $ORIGIN
// where a path uses it), its SONAME, its DT_NEEDED list and its file identity: the thousand
// programs under /usr that need only libc.so.6 are simulated once. Each program gets a load of its
// own (its file, its program object, its missing names) around the shared, read-only objects of
// the libraries and interpreter.
import { lengthPrefixed, searchKey } from '../resolve/loader.js';
import type { LoaderProfile } from '../resolve/loader.js';
import type { Resolver } from '../resolve/resolver.js';
import type { EntryFile, LoadedObject, MissingLibrary, ProgramLoad } from './load-program.js';

interface SharedLoad {
  load: ProgramLoad;
  /** File identities of its libraries and interpreter: a program that is one of them loads differently. */
  ids: Set<string>;
}

// Per resolver: its answers, and so the loads made of them, hold for one root and one set of options.
const byResolver = new WeakMap<Resolver, Map<LoaderProfile, Map<string, SharedLoad>>>();

/**
 * Everything of the program that its load depends on, besides its identity (the profile, the map
 * it is kept in, holds its ABI and PT_INTERP). Each part is length-prefixed: no DT_NEEDED list is
 * taken for another ([] and [""] differ), nor an empty SONAME for none.
 */
export function sharedLoadKey(profile: LoaderProfile, main: LoadedObject, libraryPath: string | undefined): string {
  const elf = main.elf;
  // glibc matches a later DT_NEEDED against the program's own SONAME (musl does not).
  const soname = profile.libc === 'glibc' && elf.kind !== 'shared-library' && elf.soname ? lengthPrefixed(elf.soname) : '-';
  let needed = `${elf.needed.length}`;
  let dependsOnOrigin = false;
  for (let i = 0; i < elf.needed.length; i++) {
    const n = elf.needed[i];
    needed += lengthPrefixed(n);
    dependsOnOrigin ||= n.includes('$') && n.includes('/');
  }
  // A glibc DT_NEEDED path with $ORIGIN is opened from the program's own directory.
  const origin = dependsOnOrigin && profile.libc === 'glibc' ? lengthPrefixed(main.origin) : '-';
  return `${searchKey(profile, main, libraryPath)}\0${soname}\0${needed}\0${origin}`;
}

/** The load of a program that loads like one simulated before, or undefined. */
export function reuseLoad(resolver: Resolver, profile: LoaderProfile, key: string, file: EntryFile, main: LoadedObject, mainId: string | undefined): ProgramLoad | undefined {
  const shared = byResolver.get(resolver)?.get(profile)?.get(key);
  if (!shared || (mainId !== undefined && shared.ids.has(mainId))) return undefined;
  const src = shared.load;
  main.deps = src.main!.deps;
  const objects = src.objects.slice();
  objects[0] = main;
  const missing = src.missing.length ? src.missing.map((m) => forProgram(m, src, file)) : src.missing;
  const order = src.missing.length
    ? src.order.map((e) => (e.kind === 'missing' ? { kind: 'missing' as const, missing: missing[src.missing.indexOf(e.missing)] } : e))
    : src.order;
  const interp = src.interp!.missing ? { ...src.interp!, missing: missing[src.missing.indexOf(src.interp!.missing)] } : src.interp;
  return { file, profile, main, interp, order, objects, missing, skipped: src.skipped };
}

/** A missing name needed by the first program is needed by this one. */
function forProgram(m: MissingLibrary, src: ProgramLoad, file: EntryFile): MissingLibrary {
  return m.neededBy === src.file.path ? { ...m, neededBy: file.path } : m;
}

/**
 * Offers a finished load to programs that load alike. Not one where a library was answered by the
 * program itself (its SONAME or its file): the program is part of such a load.
 */
export function shareLoad(resolver: Resolver, profile: LoaderProfile, key: string, load: ProgramLoad): void {
  const ids = new Set<string>();
  for (let i = 0; i < load.objects.length; i++) {
    const o = load.objects[i];
    for (let d = 0; d < o.deps.length; d++) if (o.deps[d].target === load.main) return;
    if (o !== load.main && o.fileId !== undefined) ids.add(o.fileId);
  }
  let byProfile = byResolver.get(resolver);
  if (!byProfile) byResolver.set(resolver, (byProfile = new Map()));
  let byKey = byProfile.get(profile);
  if (!byKey) byProfile.set(profile, (byKey = new Map()));
  byKey.set(key, { load, ids });
}
