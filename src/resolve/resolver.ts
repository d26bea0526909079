// Finds one needed library inside a root, following the steps loader.ts yields, and checks each
// candidate as ld.so's open_verify does: absent or another ABI → keep looking; a directory, FIFO,
// non-ELF or broken file → the search stops with that error. A candidate that cannot be opened
// (a symlink loop, no permission, a directory that is not one) goes as loader.ts's
// afterOpenFailure says, and is noted as skipped.
import { ElfpackError } from '../errors.js';
import { DF_1_PIE, ET_DYN } from '../elf/constants.js';
import { abiCompatible, type AbiKey } from '../elf/machines.js';
import { readElf, type ElfFile } from '../elf/read-elf.js';
import { describeType } from '../root/host-root.js';
import { baseName, dirName, resolveInRoot, type ResolvedPath, type SymlinkStep } from '../root/resolve-path.js';
import type { Root } from '../root/root.js';
import { CachedRoot } from '../root/cached-root.js';
import { lookupCache, parseLdSoCache, type LdSoCache } from './ld-so-cache.js';
import { readLdSoConf } from './ld-so-conf.js';
import {
  afterOpenFailure, glibcDefaultDirs, lengthPrefixed, libcOfInterp, muslPathFile, MUSL_DEFAULT_DIRS, nameKey, searchKey, searchSteps,
  type LoaderProfile, type SearchObject, type Via,
} from './loader.js';
import { splitSearchPath } from './expand.js';

export interface ResolverOptions {
  /** LD_LIBRARY_PATH, unsplit. Not taken from the environment: the caller decides. */
  libraryPath?: string;
  /** glibc-hwcaps subdirectories the target CPU supports, best first (e.g. x86-64-v3, x86-64-v2). Default none. */
  hwcaps?: string[];
  /** Working directory inside the root, for relative paths (default "/"). */
  cwd?: string;
  /** Read the root's /etc/ld.so.cache (default true). */
  useLdSoCache?: boolean;
}

export interface TriedCandidate {
  path: string;
  via: Via;
  /** skipped: it could not be opened (or its directory used), and the search went on past it. */
  outcome: 'absent' | 'wrong-abi' | 'error' | 'skipped';
  detail?: string;
}

/** A directory (or file) a search passed over because it could not be used, and why. */
export interface SkippedPath {
  path: string;
  via: Via;
  reason: string;
}

/** A file looked at inside the root: where it really is, and its ELF facts or why it has none. */
export interface FileProbe {
  path: string;
  realPath: string;
  fileId?: string;
  links: SymlinkStep[];
  elf?: ElfFile;
  /** Set when nothing is there: ENOENT, or ENOTDIR when a component of the path is a file. */
  missing?: 'ENOENT' | 'ENOTDIR';
  error?: ElfpackError;
  /**
   * When open(2) would fail (as opposed to opening, then refusing the file): its errno (ENOENT,
   * ENOTDIR, ELOOP, EACCES, EIO…).
   */
  errno?: string;
  /** Why the path's directory cannot be used (a loop, not a directory, no permission), when that is so. */
  unusableDir?: string;
}

export interface Resolution {
  name: string;
  found: boolean;
  via?: Via;
  /** The path as the loader names it (what ldd prints). */
  path?: string;
  realPath?: string;
  fileId?: string;
  elf?: ElfFile;
  links: SymlinkStep[];
  tried: TriedCandidate[];
  /** Why the search stopped without a library (a directory, a non-ELF file…). */
  error?: string;
  /** What the search passed over because it could not be used (also in `tried`, as "skipped"). */
  skipped: SkippedPath[];
}

function abiOf(e: ElfFile): AbiKey {
  return { machine: e.machine, elfClass: e.elfClass === 64 ? 2 : 1, data: e.byteOrder === 'little' ? 1 : 2, flags: e.flags };
}

export class Resolver {
  private dirs = new Map<string, ResolvedPath | Error>();
  /** Answers by profile, then by search key, then by name. */
  private answers = new Map<LoaderProfile, Map<string, Map<string, Resolution>>>();
  private probes = new Map<string, FileProbe>();
  /** Real paths a search has looked at: release() keeps those. */
  private searched = new Set<string>();
  private cache?: LdSoCache | null;
  private confDirs?: string[];
  /** ld.so.conf directories ldconfig would leave out, and why ('' when usable or simply absent). */
  private confDirProblems = new Map<string, string>();
  private muslPaths = new Map<string, string[] | null>();
  private profiles = new Map<string, LoaderProfile>();
  readonly cwd: string;

  readonly root: Root;

  constructor(root: Root, readonly options: ResolverOptions = {}) {
    this.root = root instanceof CachedRoot ? root : new CachedRoot(root);
    this.cwd = options.cwd ?? '/';
  }

  /** The loader that would run `elf`: told by PT_INTERP, or for a library, by what the root holds. */
  profileFor(elf: ElfFile): LoaderProfile | undefined {
    const m = elf.machineInfo;
    if (!m) return undefined;
    // Everything of the file the profile, and the answers and loads kept per profile, depend on:
    // the whole ABI (class, byte order, machine, e_flags), not only the machine's name, and PT_INTERP.
    const key = `${elf.machine}|${elf.elfClass}|${elf.byteOrder}|${elf.flags}|${elf.interp === undefined ? '-' : lengthPrefixed(elf.interp)}`;
    let p = this.profiles.get(key);
    if (p) return p;
    let interp = elf.interp;
    if (!interp) {
      const musl = `/lib/ld-musl-${m.muslArch}.so.1`;
      interp = !this.exists(m.glibcLoader) && this.exists(musl) ? musl : m.glibcLoader;
    }
    const libc = libcOfInterp(interp);
    const multiarch = this.isDir(`/lib/${m.triplet}`) || this.isDir(`/usr/lib/${m.triplet}`);
    p = {
      libc,
      interp,
      machine: m,
      defaultDirs: libc === 'musl' ? MUSL_DEFAULT_DIRS : glibcDefaultDirs(m, multiarch, elf.elfClass === 64),
      lib: multiarch ? `lib/${m.triplet}` : elf.elfClass === 64 ? 'lib64' : 'lib',
      platform: m.platform,
    };
    this.profiles.set(key, p);
    return p;
  }

  /** Searches for `name` needed by `requester`, in a process run by `profile`. The answer is shared: do not modify it. */
  find(name: string, requester: SearchObject, profile: LoaderProfile): Resolution {
    let byKey = this.answers.get(profile);
    if (!byKey) this.answers.set(profile, (byKey = new Map()));
    const key = searchKey(profile, requester, this.options.libraryPath);
    let byName = byKey.get(key);
    if (!byName) byKey.set(key, (byName = new Map()));
    const nk = nameKey(profile, requester, name);
    let r = byName.get(nk);
    if (!r) {
      r = this.search(name, requester, profile);
      byName.set(nk, r);
    }
    return r;
  }

  private search(name: string, requester: SearchObject, profile: LoaderProfile): Resolution {
    const want = abiOf(requester.elf);
    const res: Resolution = { name, found: false, links: [], tried: [], skipped: [] };
    const steps = searchSteps({
      profile,
      name,
      requester,
      libraryPath: this.options.libraryPath,
      cacheLookup: () => this.cacheLookup(name, profile),
      confDirs: () => this.ldSoConfDirs(),
      muslPathDirs: () => this.muslPathDirs(profile),
    });
    const hwcaps = profile.libc === 'glibc' ? this.options.hwcaps ?? [] : [];
    steps: for (const step of steps) {
      if ('dirs' in step) {
        for (const dir of step.dirs) {
          if (step.via === 'ld_so_conf' && this.skipConfDir(res, dir)) continue;
          const at = dir === '' ? '' : dir === '/' ? '/' : `${dir}/`;
          // glibc-hwcaps subdirectories first; none can be there when the directory itself is not.
          if (hwcaps.length && this.isSearchDir(dir)) {
            for (const sub of hwcaps) {
              if (this.tryCandidate(res, `${at}glibc-hwcaps/${sub}/${name}`, step.via, want, profile, true) === 'done') return res;
            }
          }
          const next = this.tryCandidate(res, `${at}${name}`, step.via, want, profile);
          if (next === 'done') return res;
          if (next === 'next-source') continue steps;
        }
      } else if ('file' in step) {
        if (this.tryCandidate(res, step.file, step.via, want, profile) === 'done') return res;
      } else {
        res.found = true;
        res.via = 'interp';
        res.path = profile.interp;
        return res;
      }
    }
    return res;
  }

  /**
   * Looks at one candidate: `done` when the search is over (found, or stopped by an error), else
   * whether to go on with the `next` candidate or the `next-source`.
   */
  private tryCandidate(res: Resolution, path: string, via: Via, want: AbiKey, profile: LoaderProfile, inHwcapsSubdir = false): 'done' | 'next' | 'next-source' {
    const probe = this.probe(path);
    this.searched.add(probe.realPath);
    if (probe.missing && !probe.unusableDir) {
      if (!inHwcapsSubdir) res.tried.push({ path, via, outcome: 'absent' });
      return 'next';
    }
    if (probe.errno !== undefined) return this.afterOpenFailure(res, path, via, probe, profile, inHwcapsSubdir);
    if (probe.error || !probe.elf) {
      // Opened, then refused: ldconfig would not have put it in a cache (see afterOpenFailure).
      const detail = probe.error?.message ?? 'unreadable';
      if (via === 'ld_so_conf') return this.skip(res, path, via, path, `${detail}: not a library ldconfig would list`);
      res.tried.push({ path, via, outcome: 'error', detail });
      res.error = `${path}: ${detail}`;
      return 'done';
    }
    const elf = probe.elf;
    if (!abiCompatible(want, abiOf(elf)) || (elf.osAbi !== 0 && elf.osAbi !== 3)) {
      res.tried.push({ path, via, outcome: 'wrong-abi', detail: `${elf.elfClass}-bit ${elf.machineInfo?.name ?? `machine ${elf.machine}`}` });
      return 'next';
    }
    // glibc ≥ 2.35 refuses ET_EXEC and objects flagged DF_1_PIE; an interpreter alone is fine (libc.so.6 has one).
    if (elf.typeCode !== ET_DYN || (elf.dtFlags1 & DF_1_PIE) !== 0) {
      const detail = elf.typeCode === ET_DYN ? 'cannot dynamically load a position-independent executable' : `is not a shared object (ELF type ${elf.type})`;
      res.tried.push({ path, via, outcome: 'error', detail });
      res.error = `${path}: ${detail}`;
      return 'done';
    }
    res.found = true;
    res.via = via;
    res.path = path;
    res.realPath = probe.realPath;
    res.fileId = probe.fileId;
    res.elf = elf;
    res.links = probe.links;
    return 'done';
  }

  /** A candidate open(2) would refuse, or whose directory is unusable: as the loader goes on (loader.ts). */
  private afterOpenFailure(res: Resolution, path: string, via: Via, probe: FileProbe, profile: LoaderProfile, inHwcapsSubdir: boolean): 'done' | 'next' | 'next-source' {
    const errno = probe.errno!;
    const why = probe.unusableDir ?? describeErrno(errno, probe.error?.message);
    const next = afterOpenFailure(profile.libc, via, errno, probe.unusableDir !== undefined, inHwcapsSubdir);
    if (errno === 'ENOENT' && !probe.unusableDir && next !== 'stop') {
      // Not there after all (a dangling symlink, a file gone between two looks): absent.
      if (!inHwcapsSubdir) res.tried.push({ path, via, outcome: 'absent' });
      return next;
    }
    if (next === 'stop') {
      const detail = `${why}: musl stops searching here`;
      res.tried.push({ path, via, outcome: 'error', detail });
      res.error = `${path}: ${detail}`;
      return 'done';
    }
    if (probe.unusableDir !== undefined) return this.skip(res, path, via, dirName(path), `${why}: passed over, as ${via === 'ld_so_conf' ? 'ldconfig' : 'the loader'} does`);
    if (next === 'next-source' && via !== 'ld_so_cache' && via !== 'direct') {
      return this.skip(res, path, via, path, `${why}: the rest of this ${SEARCH_PATH_NAMES[via] ?? 'search path'} is skipped, as ld.so does`, 'next-source');
    }
    return this.skip(res, path, via, path, `${why}: passed over, as ${via === 'ld_so_conf' ? 'ldconfig' : 'the loader'} does`, next);
  }

  /** Notes the candidate `path` as skipped, and `noted` (it, or its directory) with `reason`; returns how to go on. */
  private skip(res: Resolution, path: string, via: Via, noted: string, reason: string, next: 'next' | 'next-source' = 'next'): 'next' | 'next-source' {
    res.tried.push({ path, via, outcome: 'skipped', detail: noted === path ? reason : `${noted}: ${reason}` });
    if (!res.skipped.some((s) => s.path === noted && s.via === via && s.reason === reason)) res.skipped.push({ path: noted, via, reason });
    return next;
  }

  /**
   * ldconfig leaves out a directory of ld.so.conf it cannot stat or open (elf/ldconfig.c add_dir_1,
   * search_dir): a symlink loop, something not a directory, one it cannot list. Noted once per search.
   */
  private skipConfDir(res: Resolution, dir: string): boolean {
    let why = this.confDirProblems.get(dir);
    if (why === undefined) {
      why = confDirProblem(this.root, dir);
      this.confDirProblems.set(dir, why);
    }
    if (!why) return false;
    this.skip(res, `${dir}/${res.name}`, 'ld_so_conf', dir, `${why}: passed over, as ldconfig does`);
    return true;
  }

  /** Resolves `path` in the root and reads its ELF facts once, however often it is asked for. */
  probe(path: string): FileProbe {
    const abs = this.absolute(path);
    let p = this.probes.get(abs);
    if (p) return p;
    p = this.probeUncached(abs);
    this.probes.set(abs, p);
    return p;
  }

  /**
   * Forgets what probe(path) read, unless a search has looked at that file (it may answer a later
   * search): a caller going through thousands of programs named once keeps memory flat, and the
   * collector does not carry each one.
   */
  release(path: string): void {
    const abs = this.absolute(path);
    const p = this.probes.get(abs);
    if (!p || this.searched.has(p.realPath)) return;
    this.probes.delete(abs);
    this.probes.delete(`\0${p.realPath}`);
  }

  private absolute(path: string): string {
    return path.startsWith('/') ? path : `${this.cwd === '/' ? '' : this.cwd}/${path}`;
  }

  private probeUncached(path: string): FileProbe {
    const dir = this.resolveDir(dirName(path));
    if (dir instanceof Error) {
      const errno = errnoOf(dir) ?? 'EIO';
      return { path, realPath: path, links: [], error: toError(dir, path), errno, unusableDir: describeErrno(errno, dir.message) };
    }
    if (dir.missing || dir.type !== 'dir') {
      // Absent (ENOENT) is simply absent; a directory that is something else cannot be used.
      if (dir.missing === 'ENOENT') return { path, realPath: path, links: dir.links, missing: 'ENOENT', errno: 'ENOENT' };
      const what = dir.type ? `is ${describeType(dir.type)}, not a directory` : 'has a component that is not a directory';
      return { path, realPath: path, links: dir.links, missing: 'ENOTDIR', errno: 'ENOTDIR', unusableDir: `${what} (ENOTDIR)` };
    }
    let r: ResolvedPath;
    try {
      r = this.resolveInDir(dir, path);
    } catch (err) {
      return { path, realPath: path, links: dir.links, error: toError(err, path), errno: errnoOf(err) ?? 'EIO' };
    }
    if (r.missing || !r.type) return { path, realPath: r.path, links: r.links, missing: r.missing ?? 'ENOENT', errno: r.missing ?? 'ENOENT' };
    const base: FileProbe = { path, realPath: r.path, links: r.links };
    if (r.type !== 'file') {
      return { ...base, error: new ElfpackError('NOT_REGULAR_FILE', `is ${describeType(r.type)}, not a regular file`, { path }) };
    }
    // Two names of one real path share one read.
    const same = this.probes.get(`\0${r.path}`);
    if (same) return { ...base, fileId: same.fileId, elf: same.elf, error: same.error, errno: same.errno };
    let src;
    try {
      src = this.root.open(r.path);
      base.fileId = src.id ?? r.path;
      base.elf = readElf(src, { versions: false });
    } catch (err) {
      base.error = toError(err, path);
      if (!src) base.errno = errnoOf(err); // open(2) failed; a read or format error has no errno here
    } finally {
      src?.close();
    }
    this.probes.set(`\0${r.path}`, base);
    return base;
  }

  /** A directory resolved in the root, or why it cannot be; each one resolved once. */
  private resolveDir(dir: string): ResolvedPath | Error {
    let d = this.dirs.get(dir);
    if (!d) {
      try {
        d = resolveInRoot(this.root, dir);
      } catch (err) {
        d = err as Error;
      }
      this.dirs.set(dir, d);
    }
    return d;
  }

  /** `path` resolved, its directory `d` already resolved (like resolveInRoot, without walking `d` again). */
  private resolveInDir(d: ResolvedPath, path: string): ResolvedPath {
    const name = baseName(path);
    if (name === '' || name === '.' || name === '..') return resolveInRoot(this.root, path);
    const inside = d.path === '/' ? `/${name}` : `${d.path}/${name}`;
    const type = this.root.kind(inside);
    if (!type) return { path: inside, missing: 'ENOENT', links: d.links };
    if (type !== 'symlink') return { path: inside, type, links: d.links };
    const rest = resolveInRoot(this.root, inside);
    return { ...rest, links: [...d.links, ...rest.links] };
  }

  /** Whether `dir` (a search directory, '' for the working directory) resolves to a directory. */
  private isSearchDir(dir: string): boolean {
    const d = this.resolveDir(dirName(this.absolute(dir === '' ? 'x' : `${dir}/x`)));
    return !(d instanceof Error) && d.type === 'dir';
  }

  private exists(path: string): boolean {
    try {
      return resolveInRoot(this.root, path).type !== undefined;
    } catch {
      return false;
    }
  }

  private isDir(path: string): boolean {
    try {
      return resolveInRoot(this.root, path).type === 'dir';
    } catch {
      return false;
    }
  }

  /** The cache's answer; null when the root has no readable cache (then ld.so.conf is read instead). */
  private cacheLookup(name: string, p: LoaderProfile): string | undefined | null {
    if (this.options.useLdSoCache === false || p.libc !== 'glibc') return null;
    if (this.cache === undefined) this.cache = this.loadCache();
    if (this.cache === null) return null;
    return lookupCache(this.cache, name, p.machine.cacheFlags, this.options.hwcaps ?? []);
  }

  private loadCache(): LdSoCache | null {
    const probe = this.probeRaw('/etc/ld.so.cache');
    if (!probe) return null;
    try {
      return parseLdSoCache(probe);
    } catch {
      return null; // ld.so ignores a cache it cannot parse
    }
  }

  private ldSoConfDirs(): string[] {
    this.confDirs ??= readLdSoConf(this.root).dirs;
    return this.confDirs;
  }

  private muslPathDirs(p: LoaderProfile): string[] | null {
    const file = muslPathFile(p);
    if (!this.muslPaths.has(file)) {
      const raw = this.probeRaw(file);
      // musl takes the file literally (no $ORIGIN, $LIB…): its answer depends on the file alone.
      this.muslPaths.set(file, raw === undefined ? null : splitSearchPath(raw.toString('utf8'), null, /[:\n]+/).filter(Boolean));
    }
    return this.muslPaths.get(file)!;
  }

  /** A small configuration file's bytes, or undefined when it is absent or not a regular file. */
  private probeRaw(path: string): Buffer | undefined {
    try {
      const r = resolveInRoot(this.root, path);
      if (r.type !== 'file') return undefined;
      const src = this.root.open(r.path);
      try {
        return Buffer.from(src.read(0, Math.min(src.size, 64 << 20), path));
      } finally {
        src.close();
      }
    } catch {
      return undefined;
    }
  }
}

/** Names of the search paths whose rest ld.so skips (open_path returning early). */
const SEARCH_PATH_NAMES: Partial<Record<Via, string>> = { rpath: 'RPATH', runpath: 'RUNPATH', ld_library_path: 'LD_LIBRARY_PATH', default: 'default path', ld_musl_path: 'path file' };

const ERRNO_TEXT: Record<string, string> = {
  ELOOP: 'too many levels of symbolic links', EACCES: 'permission denied', ENOTDIR: 'not a directory', ENOENT: 'no such file',
  ENAMETOOLONG: 'file name too long', EIO: 'input/output error',
};

function describeErrno(errno: string, message?: string): string {
  return `${ERRNO_TEXT[errno] ?? message ?? 'cannot be opened'} (${errno})`;
}

/**
 * The errno open(2) would give for what `err` reports, or undefined when the file was opened and
 * then refused (not ELF, a directory, a FIFO…).
 */
function errnoOf(err: unknown): string | undefined {
  if (err instanceof ElfpackError) {
    if (err.code === 'SYMLINK_LOOP') return 'ELOOP';
    if (err.code === 'NOT_FOUND') return 'ENOENT';
    if (err.code === 'NOT_A_DIRECTORY') return 'ENOTDIR';
    if (err.code !== 'IO' && err.code !== 'ROOT_ESCAPE') return undefined;
  }
  const e = err as { code?: unknown; cause?: { code?: unknown } };
  const code = e?.cause?.code ?? e?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : 'EIO';
}

/** Why ldconfig would leave out ld.so.conf's `dir` ('' when it is usable, or simply absent). */
function confDirProblem(root: Root, dir: string): string {
  let r: ResolvedPath;
  try {
    r = resolveInRoot(root, dir);
  } catch (err) {
    return describeErrno(errnoOf(err) ?? 'EIO', (err as Error).message);
  }
  if (r.missing === 'ENOTDIR') return 'has a component that is not a directory (ENOTDIR)';
  if (!r.type) return '';
  if (r.type !== 'dir') return `is ${describeType(r.type)}, not a directory (ENOTDIR)`;
  return root.readdir(r.path) === undefined ? 'cannot be listed (opendir fails)' : '';
}

export function toError(err: unknown, path: string): ElfpackError {
  if (err instanceof ElfpackError) {
    if (!err.path) (err as { path?: string }).path = path;
    return err;
  }
  return new ElfpackError('IO', (err as Error)?.message ?? String(err), { path, cause: err });
}

