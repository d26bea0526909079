// The loaders' search rules, written once, in the order each loader applies them:
// glibc elf/dl-load.c (_dl_map_object) and musl ldso/dynlink.c (load_library).
import type { ElfFile } from '../elf/read-elf.js';
import type { MachineInfo } from '../elf/machines.js';
import { dirName } from '../root/resolve-path.js';
import { expandDst, splitSearchPath, type DstValues } from './expand.js';

/** How a library was found; `loaded` means an object already in the process answered the name. */
export type Via =
  | 'rpath' | 'ld_library_path' | 'runpath' | 'ld_so_cache' | 'ld_so_conf' | 'ld_musl_path'
  | 'default' | 'interp' | 'direct' | 'loaded';

export type Libc = 'glibc' | 'musl';

export interface LoaderProfile {
  libc: Libc;
  /** The loader's own path (PT_INTERP, or the ABI's usual one for a library given alone). */
  interp: string;
  machine: MachineInfo;
  /** The directories compiled into the loader, searched last. */
  defaultDirs: string[];
  /** $LIB and $PLATFORM for this root and ABI. */
  lib: string;
  platform: string;
}

/** An object in the simulated process: what the search rules need to know of it. */
export interface SearchObject {
  /** The path it was loaded under (not symlink-resolved, as the loader names it). */
  path: string;
  /** $ORIGIN: the real directory of the main program, the directory it was found in for a library. */
  origin: string;
  elf: ElfFile;
  /** The object that caused this one to be loaded (glibc's l_loader, musl's needed_by). */
  loader?: SearchObject;
  /** searchKey's parts, remembered on the object (a WeakMap costs the collector more per object). */
  contextKey?: string;
  chainKey?: string;
}

/** One place to look: directories to try in order, or one exact file (a cache answer). */
export type SearchStep =
  | { via: Via; dirs: string[]; owner?: string }
  | { via: Via; file: string }
  | { via: 'interp' };

export interface SearchInputs {
  profile: LoaderProfile;
  name: string;
  requester: SearchObject;
  /** LD_LIBRARY_PATH as given, unsplit. */
  libraryPath?: string;
  /** The ld.so.cache answer for `name`, or null when the root has no cache at all. */
  cacheLookup: () => string | undefined | null;
  /** ld.so.conf directories (used only when the root has no cache). */
  confDirs: () => string[];
  /** musl: the directories of /etc/ld-musl-ARCH.path, or null when the file is absent. */
  muslPathDirs: () => string[] | null;
}

function dst(p: LoaderProfile, owner: SearchObject): DstValues {
  return { origin: owner.origin, lib: p.lib, platform: p.platform };
}

/** Walks requester → its loader → … → the main program (the chain whose RPATHs glibc honours). */
function chainOf(o: SearchObject): SearchObject[] {
  const out: SearchObject[] = [];
  for (let c: SearchObject | undefined = o; c && out.length < 1024; c = c.loader) out.push(c);
  return out;
}

export function* glibcSearch(s: SearchInputs): Generator<SearchStep> {
  const { profile: p, name, requester } = s;
  // A name with a slash is a path (relative ones from the working directory), its dynamic string
  // tokens expanded for the requester (expand_dynamic_string_token).
  if (name.includes('/')) {
    yield { via: 'direct', file: name.includes('$') ? expandDst(name, dst(p, requester)) : name };
    return;
  }
  // DT_RPATH, only when the requester has no DT_RUNPATH: its own, then each loader's up to the program.
  // (An object that has DT_RUNPATH has its DT_RPATH ignored: get-dynamic-info.h.)
  if (requester.elf.runpath === undefined) {
    for (const o of chainOf(requester)) {
      if (o.elf.rpath !== undefined && o.elf.runpath === undefined) {
        yield { via: 'rpath', dirs: splitSearchPath(o.elf.rpath, dst(p, o)), owner: o.path };
      }
    }
  }
  // LD_LIBRARY_PATH (";" separates too in glibc; its $ORIGIN is the program's).
  if (s.libraryPath) {
    const chain = chainOf(requester);
    yield { via: 'ld_library_path', dirs: splitSearchPath(s.libraryPath, dst(p, chain[chain.length - 1]), /[:;]/) };
  }
  // DT_RUNPATH of the requester only: never inherited by what it loads.
  if (requester.elf.runpath !== undefined) {
    yield { via: 'runpath', dirs: splitSearchPath(requester.elf.runpath, dst(p, requester)), owner: requester.path };
  }
  // /etc/ld.so.cache; with DF_1_NODEFLIB an answer under a default directory is refused.
  const cached = s.cacheLookup();
  if (cached && !(requester.elf.nodeflib && underAny(cached, p.defaultDirs))) yield { via: 'ld_so_cache', file: cached };
  // Where we differ: with no cache at all, ld.so would skip straight to the defaults. A root where
  // ldconfig never ran (a build directory) still means its ld.so.conf, so we read it, and say so.
  if (cached === null) {
    const dirs = s.confDirs().filter((d) => !(requester.elf.nodeflib && underAny(d + '/', p.defaultDirs)));
    if (dirs.length) yield { via: 'ld_so_conf', dirs };
  }
  // The default directories, unless the requester is linked -z nodefaultlib.
  if (!requester.elf.nodeflib) yield { via: 'default', dirs: p.defaultDirs };
}

const MUSL_RESERVED = ['c.', 'pthread.', 'rt.', 'm.', 'dl.', 'util.', 'xnet.'];

export function* muslSearch(s: SearchInputs): Generator<SearchStep> {
  const { profile: p, name, requester } = s;
  // A name with a slash is a path, taken literally (musl expands $ORIGIN only in RUNPATH/RPATH).
  if (name.includes('/')) {
    yield { via: 'direct', file: name };
    return;
  }
  // libc.*, libpthread.*, libm.*… are musl itself: the loader answers them.
  if (name.startsWith('lib') && MUSL_RESERVED.some((r) => name.startsWith(r, 3))) {
    yield { via: 'interp' };
    return;
  }
  // LD_LIBRARY_PATH first (musl splits on ":" and newlines, and expands no $ORIGIN in it).
  if (s.libraryPath) yield { via: 'ld_library_path', dirs: splitSearchPath(s.libraryPath, null, /[:\n]/) };
  // Then the requester's path, then its loaders': DT_RUNPATH if present, else DT_RPATH, inherited alike.
  for (const o of chainOf(requester)) {
    const r = o.elf.runpath ?? o.elf.rpath;
    if (r !== undefined) yield { via: o.elf.runpath !== undefined ? 'runpath' : 'rpath', dirs: splitSearchPath(r, dst(p, o)), owner: o.path };
  }
  // /etc/ld-musl-ARCH.path (next to the loader's prefix), else the built-in path.
  const fromFile = s.muslPathDirs();
  if (fromFile) yield { via: 'ld_musl_path', dirs: fromFile };
  else yield { via: 'default', dirs: p.defaultDirs };
}

/**
 * Everything the rules above read of the requester and its chain besides the profile and the
 * name, as a string: two searches for one name by one profile with the same key give the same
 * answer, so a resolver may remember it. Most keys are short and shared by every program: a chain
 * without RPATH, RUNPATH or NODEFLIB reads nothing of its objects. Every variable part is
 * length-prefixed (lengthPrefixed), so no two different inputs share a key whatever the strings hold.
 */
export function searchKey(p: LoaderProfile, requester: SearchObject, libraryPath?: string): string {
  const k = contextKey(p.libc, requester);
  // glibc expands $ORIGIN in LD_LIBRARY_PATH as the program's directory (musl does not expand it).
  if (p.libc === 'musl' || !libraryPath?.includes('$')) return k;
  let o = requester;
  while (o.loader) o = o.loader;
  return `${k}|${lengthPrefixed(o.origin)}`;
}

/** A name's part of the key, for a name whose answer depends on the requester: a glibc path with a $ORIGIN-like token. */
export function nameKey(p: LoaderProfile, requester: SearchObject, name: string): string {
  return p.libc === 'glibc' && name.includes('/') && name.includes('$') ? `${name}\0${requester.origin}` : name;
}

/** `s` as `LENGTH:s`: strings joined this way never run into one another. */
export function lengthPrefixed(s: string): string {
  return `${s.length}:${s}`;
}

function contextKey(libc: Libc, o: SearchObject): string {
  let k = o.contextKey;
  if (k !== undefined) return k;
  if (libc === 'musl') {
    k = chainKey(libc, o);
  } else {
    // glibc: with DT_RUNPATH only the object's own RUNPATH, else the RPATHs up the chain; and the
    // requester's DF_1_NODEFLIB. Prefix letters keep the three cases apart.
    k = (o.elf.nodeflib ? 'N' : 'D') + (o.elf.runpath !== undefined ? `R${expanded(o.elf.runpath, o)}` : `P${chainKey(libc, o)}`);
  }
  o.contextKey = k;
  return k;
}

/**
 * The search paths the chain from `o` up to the program passes on, in order: glibc's RPATHs of
 * objects without RUNPATH; musl's RUNPATH (R) or else RPATH (P) of every object, as the answer
 * names which it came through. Built from the top of the chain down, without recursion (a chain
 * is as long as the files make it).
 */
function chainKey(libc: Libc, o: SearchObject): string {
  if (o.chainKey !== undefined) return o.chainKey;
  const pending: SearchObject[] = [];
  let c: SearchObject | undefined = o;
  for (; c && c.chainKey === undefined; c = c.loader) pending.push(c);
  let k = c?.chainKey ?? '';
  for (let i = pending.length - 1; i >= 0; i--) {
    const x = pending[i];
    const runpath = x.elf.runpath, rpath = x.elf.rpath;
    if (libc === 'musl') {
      if (runpath !== undefined) k = `R${expanded(runpath, x)}${k}`;
      else if (rpath !== undefined) k = `P${expanded(rpath, x)}${k}`;
    } else if (runpath === undefined && rpath !== undefined) {
      k = `P${expanded(rpath, x)}${k}`;
    }
    x.chainKey = k;
  }
  return k;
}

/** A search path, with the object's origin when it uses a dynamic string token ($ORIGIN…). */
function expanded(path: string, o: SearchObject): string {
  return path.includes('$') ? `${lengthPrefixed(path)}@${lengthPrefixed(o.origin)}` : `${lengthPrefixed(path)}.`;
}

/**
 * What a search does after a candidate could not be opened: `next` candidate, `next-source` (the
 * rest of this search path is given up and the loader goes on with its next source), or `stop`
 * (the library is not found). `errno` is open(2)'s; `dirUnusable` when the candidate's directory
 * itself cannot be used (a symlink loop, not a directory, no search permission).
 */
export function afterOpenFailure(libc: Libc, via: Via, errno: string, dirUnusable: boolean, inHwcapsSubdir: boolean): 'next' | 'next-source' | 'stop' {
  if (libc === 'musl') {
    // musl ldso/dynlink.c path_open: ENOENT, ENOTDIR, EACCES and ENAMETOOLONG go on to the next
    // directory; any other errno (ELOOP, EIO…) returns -2, which "inhibits further path search".
    return errno === 'ENOENT' || errno === 'ENOTDIR' || errno === 'EACCES' || errno === 'ENAMETOOLONG' ? 'next' : 'stop';
  }
  // ld.so.conf read in place of a cache: ldconfig (elf/ldconfig.c) leaves out a directory it
  // cannot stat (add_dir_1) or open (search_dir), and every entry it cannot stat or read as a
  // library, so a cache it built would name none of them: the search goes on to the next directory.
  if (via === 'ld_so_conf') return 'next';
  // The cache's answer or a path with a slash: open_verify failing means "not here", and
  // _dl_map_new_object goes on with the next source.
  if (via === 'ld_so_cache' || via === 'direct') return 'next-source';
  // glibc elf/dl-load.c open_path (as of 2.39): when open fails, the directory is stat'ed, and one
  // whose stat fails or that is not a directory is marked `nonexisting` and passed over, whatever
  // the errno. In a directory that exists, the errno of its last attempt decides (the directory
  // itself, tried after its glibc-hwcaps subdirectories, so theirs never counts): ENOENT, EACCES
  // and ENOTDIR go on (2.36, as on Debian 12, gives up on ENOTDIR too); any other (ELOOP, EIO…) makes
  // open_path return -1, so the rest of this RPATH, LD_LIBRARY_PATH, RUNPATH or default path is
  // skipped and _dl_map_new_object goes on with its next source.
  if (dirUnusable || inHwcapsSubdir) return 'next';
  return errno === 'ENOENT' || errno === 'EACCES' || errno === 'ENOTDIR' ? 'next' : 'next-source';
}

export function searchSteps(s: SearchInputs): Generator<SearchStep> {
  return s.profile.libc === 'musl' ? muslSearch(s) : glibcSearch(s);
}

/** musl reads /etc/ld-musl-ARCH.path under the loader's prefix: "/lib/ld-musl-x.so.1" → "/etc/…". */
export function muslPathFile(p: LoaderProfile): string {
  const prefix = p.interp.startsWith('/') ? dirName(dirName(p.interp)) : '/';
  return `${prefix === '/' ? '' : prefix}/etc/ld-musl-${p.machine.muslArch}.path`;
}

function underAny(path: string, dirs: string[]): boolean {
  return dirs.some((d) => path.startsWith(d.endsWith('/') ? d : d + '/'));
}

/** The libc a program uses, told by its PT_INTERP. */
export function libcOfInterp(interp: string): Libc {
  return /(^|\/)ld-musl-[^/]*$/.test(interp) ? 'musl' : 'glibc';
}

/** glibc's system directories as Debian builds them (multiarch first), or as upstream does. */
export function glibcDefaultDirs(m: MachineInfo, multiarch: boolean, is64: boolean): string[] {
  if (multiarch) return [`/lib/${m.triplet}`, `/usr/lib/${m.triplet}`, '/lib', '/usr/lib'];
  return is64 ? ['/lib64', '/usr/lib64'] : ['/lib', '/usr/lib'];
}

export const MUSL_DEFAULT_DIRS = ['/lib', '/usr/local/lib', '/usr/lib'];
