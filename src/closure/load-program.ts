// One program's load, simulated: the interpreter, then DT_NEEDED breadth-first in the order the
// loader maps them (glibc _dl_map_object_deps), each name answered once by an object already
// loaded (by name, SONAME or file identity) or by a search. This order is what ldd prints.
import { ElfpackError } from '../errors.js';
import { isElfMagic, readElf, type ElfFile } from '../elf/read-elf.js';
import { parseShebang, SCRIPT_HEAD_BYTES, type ScriptInfo } from '../elf/script.js';
import { baseName, dirName, type SymlinkStep } from '../root/resolve-path.js';
import type { LoaderProfile, SearchObject, Via } from '../resolve/loader.js';
import { toError, type Resolution, type Resolver, type SkippedPath, type TriedCandidate } from '../resolve/resolver.js';
import { reuseLoad, shareLoad, sharedLoadKey } from './shared-loads.js';

/**
 * An object in the simulated process. Loads of programs that load alike (shared-loads.ts) share
 * their library and interpreter objects: read them, do not change them. A library whose `loader`
 * has role 'program' was loaded by the program of the load at hand (the shared object's `loader`
 * is the first such program's), so read its name from that load's `file`.
 */
export interface LoadedObject extends SearchObject {
  realPath: string;
  fileId?: string;
  /** Names it answered to (DT_NEEDED strings), the first one first. */
  names: string[];
  via: Via | 'program';
  role: 'program' | 'library' | 'interpreter';
  links: SymlinkStep[];
  /** Its DT_NEEDED names and what answered each, in order (for trees). */
  deps: { name: string; target?: LoadedObject; missing?: MissingLibrary }[];
}

export interface MissingLibrary {
  name: string;
  /** Path of the object whose DT_NEEDED named it. */
  neededBy: string;
  tried: TriedCandidate[];
  /** Set when the search stopped on a bad candidate rather than finding nothing. */
  error?: string;
}

/** One line of ldd: a library and where it is, a name not found, or the interpreter. */
export type LoadEntry =
  | { kind: 'library'; name: string; object: LoadedObject }
  | { kind: 'missing'; missing: MissingLibrary }
  | { kind: 'interpreter'; path: string; object?: LoadedObject };

export interface EntryFile {
  /** The path as given (inside the root). */
  path: string;
  realPath: string;
  links: SymlinkStep[];
  elf?: ElfFile;
  script?: ScriptInfo;
}

export interface ProgramLoad {
  file: EntryFile;
  /** Undefined for a static program, a script, or an ELF of an unknown machine. */
  profile?: LoaderProfile;
  main?: LoadedObject;
  interp?: { path: string; object?: LoadedObject; missing?: MissingLibrary };
  order: LoadEntry[];
  objects: LoadedObject[];
  missing: MissingLibrary[];
  /** Directories and files the searches passed over because they could not be used (each once). */
  skipped: SkippedPath[];
}

/**
 * Opens FILE inside the root: an ELF or a "#!" script, else an error. With `versions`, the ELF's
 * symbol version needs and definitions are read too (one more pass over the file).
 */
export function inspectEntry(resolver: Resolver, path: string, opts: { versions?: boolean } = {}): EntryFile {
  const probe = resolver.probe(path);
  if (probe.missing === 'ENOTDIR') throw new ElfpackError('NOT_A_DIRECTORY', 'not a directory (a component of the path is a file)', { path, step: 'inspect' });
  if (probe.missing) throw new ElfpackError('NOT_FOUND', 'no such file', { path, step: 'inspect' });
  // Name the file as the user gave it, not as it was resolved.
  if (probe.error && probe.error.code !== 'NOT_ELF') throw new ElfpackError(probe.error.code, probe.error.message, { path, step: 'inspect', cause: probe.error });
  const entry: EntryFile = { path, realPath: probe.realPath, links: probe.links };
  if (probe.elf && !opts.versions) {
    entry.elf = probe.elf;
    return entry;
  }
  const src = resolver.root.open(probe.realPath);
  try {
    const head = src.read(0, Math.min(src.size, SCRIPT_HEAD_BYTES), 'file head');
    if (isElfMagic(head)) {
      entry.elf = readElf(src);
      return entry;
    }
    entry.script = parseShebang(head);
    if (!entry.script) throw new ElfpackError('NOT_ELF', src.size === 0 ? 'empty file, not an ELF file' : 'not an ELF file', { path, step: 'inspect' });
    return entry;
  } catch (err) {
    const e = toError(err, path);
    throw e.path === path ? e : new ElfpackError(e.code, e.message, { path, step: 'inspect', cause: e });
  } finally {
    src.close();
  }
}

/** Whether the loader would load anything for this file (ldd's "not a dynamic executable" test). */
export function isDynamic(elf: ElfFile): boolean {
  return elf.kind === 'executable' || elf.kind === 'pie-executable' || elf.kind === 'shared-library';
}

/** Per program: what already answers a name (name, path, SONAME) and, under "\0"+id, a file identity. */
type Known = Map<string, LoadedObject>;

function remember(known: Known, musl: boolean, o: LoadedObject, name?: string): void {
  if (name) known.set(name, o);
  known.set(musl ? baseName(o.path) : o.path, o);
  if (!musl && o.elf.soname) known.set(o.elf.soname, o);
  if (o.fileId) known.set(`\0${o.fileId}`, o);
}

function newObject(path: string, realPath: string, fileId: string | undefined, origin: string, elf: ElfFile, via: LoadedObject['via'], role: LoadedObject['role'], links: SymlinkStep[], loader?: LoadedObject): LoadedObject {
  // One shape for every object (contextKey/chainKey are filled in later by the search).
  return { path, realPath, fileId, origin, elf, names: [], via, role, links, deps: [], loader, contextKey: undefined, chainKey: undefined };
}

/**
 * rtld.c puts ld.so's map right after the object before it in the search list, which holds no
 * missing ("faked") entries: so it goes before any not-found names at the end of the order.
 */
function listInterp(load: ProgramLoad, interpObj: LoadedObject | undefined): void {
  let at = load.order.length;
  while (at > 0 && load.order[at - 1].kind === 'missing') at--;
  load.order.splice(at, 0, { kind: 'interpreter', path: load.interp!.path, object: interpObj });
  if (interpObj) load.objects.push(interpObj);
}

function noteSkipped(load: ProgramLoad, skipped: SkippedPath[]): void {
  for (const s of skipped) {
    if (!load.skipped.some((k) => k.path === s.path && k.via === s.via && k.reason === s.reason)) load.skipped.push(s);
  }
}

export function loadProgram(resolver: Resolver, file: EntryFile): ProgramLoad {
  const load: ProgramLoad = { file, order: [], objects: [], missing: [], skipped: [] };
  const elf = file.elf;
  if (!elf || !isDynamic(elf)) return load;
  const profile = resolver.profileFor(elf);
  if (!profile) throw new ElfpackError('ELF_UNSUPPORTED', `unsupported machine (e_machine ${elf.machine})`, { path: file.path });
  load.profile = profile;
  const musl = profile.libc === 'musl';
  const abs = file.path.startsWith('/') ? file.path : `${resolver.cwd === '/' ? '' : resolver.cwd}/${file.path}`;
  // glibc takes the program's $ORIGIN from /proc/self/exe (links resolved); musl from the name it was run by.
  const main = newObject(file.path, file.realPath, undefined, dirName(musl ? abs : file.realPath), elf, 'program', 'program', file.links);
  const mainId = file.realPath ? resolver.probe(file.path).fileId : undefined;
  const key = sharedLoadKey(profile, main, resolver.options.libraryPath);
  const shared = reuseLoad(resolver, profile, key, file, main, mainId);
  if (shared) return shared;
  load.main = main;
  load.objects.push(main);

  const known: Known = new Map();
  if (elf.kind !== 'shared-library' && elf.soname && !musl) known.set(elf.soname, main);
  if (mainId) known.set(`\0${mainId}`, main);

  // The interpreter is in the process before any library: later names can match it.
  const interpPath = elf.interp ?? profile.interp;
  const ip = resolver.probe(interpPath);
  let interpObj: LoadedObject | undefined;
  load.interp = { path: interpPath };
  if (ip.elf && !ip.error) {
    interpObj = newObject(interpPath, ip.realPath, ip.fileId, dirName(interpPath), ip.elf, 'interp', 'interpreter', ip.links);
    load.interp.object = interpObj;
    remember(known, musl, interpObj);
    known.set(baseName(interpPath), interpObj);
  } else {
    const miss: MissingLibrary = {
      name: interpPath, neededBy: file.path, tried: [{ path: interpPath, via: 'interp', outcome: ip.missing ? 'absent' : 'error', detail: ip.error?.message }],
      error: ip.error ? `${interpPath}: ${ip.error.message}` : undefined,
    };
    load.interp.missing = miss;
    load.missing.push(miss);
  }
  let interpListed = musl;
  if (musl) listInterp(load, interpObj); // musl's ldd prints the loader first

  const queue: LoadedObject[] = [main];
  let reportedSelf: Set<string> | undefined;
  // Indexed loops: this runs for every program before the optimizing compiler sees it, and
  // for-of there allocates an iterator result per step.
  for (let qi = 0; qi < queue.length; qi++) {
    const obj = queue[qi];
    const needed = obj.elf.needed;
    for (let ni = 0; ni < needed.length; ni++) {
      const name = needed[ni];
      const hit = known.get(name);
      if (hit) {
        obj.deps.push({ name, target: hit });
        if (hit === interpObj && !interpListed) { interpListed = true; listInterp(load, interpObj); }
        continue;
      }
      const r: Resolution = resolver.find(name, obj, profile);
      if (r.skipped.length) noteSkipped(load, r.skipped);
      if (!r.found) {
        const miss: MissingLibrary = { name, neededBy: obj.path, tried: r.tried, error: r.error };
        load.missing.push(miss);
        load.order.push({ kind: 'missing', missing: miss });
        obj.deps.push({ name, missing: miss });
        continue; // glibc searches again for the next requester of a missing name (a "faked" map)
      }
      if (r.via === 'interp') {
        obj.deps.push({ name, target: interpObj, missing: interpObj ? undefined : load.interp.missing });
        // musl: libc.so, libpthread.so… are the loader itself; ldd lists each name once.
        if (interpObj && !(reportedSelf ??= new Set()).has(name)) {
          reportedSelf.add(name);
          load.order.push({ kind: 'library', name, object: interpObj });
        }
        continue;
      }
      const same = r.fileId ? known.get(`\0${r.fileId}`) : undefined;
      if (same) {
        obj.deps.push({ name, target: same });
        same.names.push(name);
        known.set(name, same);
        if (same === interpObj && !interpListed) { interpListed = true; listInterp(load, interpObj); }
        continue;
      }
      const lib = newObject(r.path!, r.realPath!, r.fileId, dirName(r.path!), r.elf!, r.via!, 'library', r.links, obj);
      lib.names.push(name);
      obj.deps.push({ name, target: lib });
      remember(known, musl, lib, name);
      load.objects.push(lib);
      load.order.push({ kind: 'library', name, object: lib });
      queue.push(lib);
    }
  }
  if (!interpListed) listInterp(load, interpObj);
  shareLoad(resolver, profile, key, load);
  return load;
}
