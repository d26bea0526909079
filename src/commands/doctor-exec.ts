// What execve does with a path inside an image, step by step, and every way it fails: the file
// (absent, not executable, not a program), the kernel's checks ("#!" line, PT_INTERP, the
// machine) and then the loader's (DT_NEEDED, symbol versions). Each failure is a Finding with a fix.
import { ElfpackError } from '../errors.js';
import { isElfMagic, readElf, type ElfFile } from '../elf/read-elf.js';
import { isGoProgram } from '../elf/notes.js';
import { MAX_SCRIPTS_IN_A_ROW, parseShebang, SCRIPT_HEAD_BYTES } from '../elf/script.js';
import { EM_386, EM_ARM } from '../elf/constants.js';
import { isDynamic, loadProgram, type LoadedObject, type ProgramLoad } from '../closure/load-program.js';
import type { Resolver } from '../resolve/resolver.js';
import { baseName, resolveInRoot, tryResolveInRoot, type ResolvedPath } from '../root/resolve-path.js';
import type { Root } from '../root/root.js';
import { platformName, platformOf, type Platform } from '../oci/platform.js';

export type FindingCode =
  | 'NO_COMMAND' | 'SHELL_MISSING' | 'NOT_IN_PATH' | 'ENTRYPOINT_MISSING' | 'NOT_EXECUTABLE' | 'EXEC_FORMAT'
  | 'ARCH_MISMATCH' | 'LOADER_MISSING' | 'LIBRARIES_MISSING' | 'VERSIONS_MISSING'
  | 'SCRIPT_INTERPRETER_MISSING' | 'SCRIPT_CRLF' | 'USER_UNKNOWN' | 'UNREADABLE';

export interface Finding {
  code: FindingCode;
  /** error: the container does not start; warning: it may, depending on the host. */
  severity: 'error' | 'warning';
  /** The file the finding is about (inside the image). */
  path: string;
  message: string;
  fix: string;
  details: string[];
}

export interface ExecContext {
  root: Root;
  resolver: Resolver;
  platform?: Platform;
  /** PATH of the image's environment. */
  pathVar: string;
  workdir: string;
  /** How to name the image in a suggested command ("elfpack BIN --from-image …"). */
  target: string;
  findings: Finding[];
  /** One line per step of what would run, for the report. */
  chain: string[];
}

export type ExecRole = 'entrypoint' | 'command' | 'interpreter';

function add(ctx: ExecContext, f: Omit<Finding, 'severity' | 'details'> & Partial<Pick<Finding, 'severity' | 'details'>>): void {
  ctx.findings.push({ severity: 'error', details: [], ...f });
}

function mode(m: number): string {
  return (m & 0o7777).toString(8).padStart(4, '0');
}

/** PATH lookup as runc does it (Go's exec.LookPath): the first executable regular file. */
export function lookPath(ctx: ExecContext, name: string): string | undefined {
  for (const dir of ctx.pathVar.split(':')) {
    const p = `${dir || '.'}/${name}`;
    // A loop or an unreadable directory on PATH is passed over, as Go's lookup does.
    const r = tryResolveInRoot(ctx.root, p, { cwd: ctx.workdir });
    const st = r?.type === 'file' ? ctx.root.lstat(r.path) : undefined;
    if (st && (st.mode & 0o111) !== 0) return p;
  }
  return undefined;
}

/**
 * Examines what exec of `path` would do; `from` names what led there ("#!" of a script), and
 * `scripts` the real paths of the scripts on the way.
 */
export function examineExec(ctx: ExecContext, path: string, role: ExecRole, from?: string, depth = 0, scripts: string[] = []): void {
  let r: ResolvedPath;
  try {
    r = resolveInRoot(ctx.root, path, { cwd: ctx.workdir });
  } catch (err) {
    add(ctx, { code: 'UNREADABLE', path, message: `cannot be resolved: ${(err as Error).message}`, fix: 'point it at a real file of the image' });
    return;
  }
  const what = role === 'interpreter' ? `the interpreter of ${from}` : role === 'entrypoint' ? 'the entrypoint' : 'the command';
  if (!r.type) {
    const via = r.links.length ? ` (a symlink to ${r.links[r.links.length - 1].target}, which is not there)` : '';
    if (role === 'interpreter') {
      add(ctx, {
        code: 'SCRIPT_INTERPRETER_MISSING', path: from!, message: `its "#!" interpreter ${path} is not in the image${via}: exec fails with "no such file or directory"`,
        fix: `add ${path} and what it loads (elfpack ${path} --add SCRIPT:${from} packs both), or name an interpreter the image has`,
      });
    } else {
      add(ctx, {
        code: 'ENTRYPOINT_MISSING', path, message: `${what} ${path} is not in the image${via}${r.missing === 'ENOTDIR' ? ' (a component of the path is a file)' : ''}: exec fails with "no such file or directory"`,
        fix: `copy the program to ${path}, or set ENTRYPOINT to where it is`,
      });
    }
    return;
  }
  if (scripts.includes(r.path)) {
    add(ctx, {
      code: 'EXEC_FORMAT', path: from!, message: `its "#!" interpreter ${path} comes back to ${r.path === scripts[0] ? 'the script itself' : `${r.path}, a script already run`}: exec goes round until more than ${MAX_SCRIPTS_IN_A_ROW} "#!" scripts in a row, then fails (ELOOP)`,
      fix: 'make the "#!" line name a real interpreter (a program, such as /bin/sh)',
    });
    return;
  }
  const st = ctx.root.lstat(r.path);
  if (r.type !== 'file' || !st) {
    add(ctx, { code: 'NOT_EXECUTABLE', path, message: `${what} ${path} is a ${r.type === 'dir' ? 'directory' : r.type}, not a program: exec fails with "permission denied"`, fix: `point ${role === 'interpreter' ? 'the "#!" line' : 'ENTRYPOINT'} at the program itself` });
    return;
  }
  if ((st.mode & 0o111) === 0) {
    add(ctx, { code: 'NOT_EXECUTABLE', path, message: `${what} ${path} is not executable (mode ${mode(st.mode)}): exec fails with "permission denied"`, fix: `make it executable: chmod +x before copying, or COPY --chmod=0755` });
  }
  const src = ctx.root.open(r.path);
  try {
    const head = src.read(0, Math.min(src.size, SCRIPT_HEAD_BYTES), 'file head');
    if (isElfMagic(head)) {
      let elf: ElfFile;
      try {
        elf = readElf(src, { versions: true });
      } catch (err) {
        add(ctx, { code: 'EXEC_FORMAT', path, message: `${path} is a malformed ELF file (${(err as Error).message}): exec fails with "exec format error"`, fix: 'rebuild it; the file may have been cut short or damaged in the copy' });
        return;
      }
      examineElf(ctx, path, r.path, elf, isGoProgram(src));
    } else if (head.length >= 2 && head[0] === 0x23 && head[1] === 0x21) {
      examineScript(ctx, path, head, depth, [...scripts, r.path]);
    } else {
      add(ctx, {
        code: 'EXEC_FORMAT', path, message: `${path} is ${src.size === 0 ? 'empty' : 'neither an ELF program nor a "#!" script'}: exec fails with "exec format error"`,
        fix: 'the entrypoint must be a Linux program, or a script whose first line is "#!" and its interpreter',
      });
    }
  } finally {
    src.close();
  }
}

function examineScript(ctx: ExecContext, path: string, head: Buffer, depth: number, scripts: string[]): void {
  const s = parseShebang(head);
  if (!s) {
    add(ctx, { code: 'EXEC_FORMAT', path, message: `${path}: its "#!" line names no interpreter: exec fails with "exec format error"`, fix: 'write the interpreter\'s absolute path after "#!", e.g. #!/bin/sh' });
    return;
  }
  ctx.chain.push(`${path}: a script run by ${s.interpreter}${s.argument ? ` ${s.argument}` : ''}`);
  if (s.crlf) {
    add(ctx, {
      code: 'SCRIPT_CRLF', path, message: `its "#!" line ends in CRLF: the kernel looks for "${s.interpreter}\\r", so exec fails with "no such file or directory"`,
      fix: `convert it to LF line endings (dos2unix ${baseName(path)}, or sed -i 's/\\r$//'); in git, mark scripts "*.sh text eol=lf" in .gitattributes`,
    });
  }
  // depth: the scripts before this one.
  if (depth >= MAX_SCRIPTS_IN_A_ROW) {
    add(ctx, { code: 'EXEC_FORMAT', path, message: `more than ${MAX_SCRIPTS_IN_A_ROW} "#!" scripts in a row: the kernel gives up (ELOOP)`, fix: 'run the last interpreter directly' });
    return;
  }
  examineExec(ctx, s.interpreter, 'interpreter', path, depth + 1, scripts);
  // "#!/usr/bin/env NAME": env then looks NAME up on PATH.
  if (baseName(s.interpreter) === 'env' && s.argument && !ctx.findings.some((f) => f.code === 'SCRIPT_INTERPRETER_MISSING' && f.path === path)) {
    const words = s.argument.split(/[ \t]+/).filter((w) => w !== '-S');
    const name = words.find((w) => !w.startsWith('-') && !w.includes('='));
    if (!name) return;
    const found = name.includes('/') ? name : lookPath(ctx, name);
    if (!found) {
      add(ctx, {
        code: 'SCRIPT_INTERPRETER_MISSING', path, message: `its "#!${s.interpreter} ${s.argument}" finds no ${name} on PATH (${ctx.pathVar}): env fails with "No such file or directory"`,
        fix: `add ${name} to the image (elfpack /usr/bin/${name} --add SCRIPT:${path} packs it with its libraries), or name the interpreter by its path`,
      });
      return;
    }
    examineExec(ctx, found, 'interpreter', path, depth + 1, scripts);
  }
}

function article(word: string): string {
  return /^[aeiosx]/.test(word) ? 'an' : 'a';
}

/** 32-bit programs a 64-bit kernel of the same family usually runs (IA32 / AArch32 emulation). */
function runsOnCompat(binary: number, platformArch: string): boolean {
  return (binary === EM_386 && platformArch === 'amd64') || (binary === EM_ARM && platformArch === 'arm64');
}

function examineElf(ctx: ExecContext, path: string, realPath: string, elf: ElfFile, isGo: boolean): void {
  const m = elf.machineInfo;
  if (!m) {
    add(ctx, { code: 'EXEC_FORMAT', path, message: `${path} is an ELF file for machine ${elf.machine}, which Linux containers do not run: exec format error`, fix: 'build it for the image\'s platform' });
    return;
  }
  if (elf.type !== 'EXEC' && elf.type !== 'DYN') {
    add(ctx, { code: 'EXEC_FORMAT', path, message: `${path} is an ELF ${elf.type} file, not a program: exec fails with "exec format error"`, fix: 'link it into an executable' });
    return;
  }
  // fs/binfmt_elf.c load_elf_phdrs refuses no program headers as it refuses more than 64 KiB.
  if (elf.phnum === 0) {
    add(ctx, { code: 'EXEC_FORMAT', path, message: `${path} is a malformed ELF file (no program headers): exec fails with "exec format error"`, fix: 'rebuild it; the file may have been damaged' });
    return;
  }
  const binPlatform = platformName(platformOf(m));
  const p = ctx.platform;
  if (p && p.architecture !== m.ociArch) {
    const compat = runsOnCompat(elf.machine, p.architecture);
    add(ctx, {
      code: 'ARCH_MISMATCH', path, severity: compat ? 'warning' : 'error',
      message: compat
        ? `${path} is a 32-bit ${m.name} program in a ${platformName(p)} image: it runs only where the kernel has 32-bit support`
        : `${path} is ${article(m.name)} ${m.name} program (${binPlatform}) in a ${platformName(p)} image: exec fails with "exec format error" on a ${p.architecture} host`,
      fix: `build it for ${platformName(p)}${isGo ? ` (GOARCH=${p.architecture})` : ''}, or label the image ${binPlatform} (elfpack takes the platform from the ELF header)`,
    });
  }
  const kind = isDynamic(elf) ? `dynamic${elf.interp ? `, loader ${elf.interp}` : ''}` : elf.kind === 'static-pie' ? 'static-pie' : 'static';
  ctx.chain.push(`${path}${realPath !== path ? ` (${realPath})` : ''}: ${m.name} program${isGo ? ' (Go)' : ''}, ${kind}`);
  if (!isDynamic(elf)) return;
  let load: ProgramLoad;
  try {
    load = loadProgram(ctx.resolver, { path, realPath, links: [], elf });
  } catch (err) {
    // The raw message: renderDoctor escapes it for text, and JSON keeps names as they are.
    const message = err instanceof ElfpackError && err.path ? `${err.path}: ${err.message}` : (err as Error)?.message ?? String(err);
    add(ctx, { code: 'UNREADABLE', path, message, fix: 'check the file with elfpack ldd' });
    return;
  }
  if (load.interp?.missing) examineLoader(ctx, path, elf, load, isGo);
  const libs = load.missing.filter((x) => x !== load.interp?.missing);
  if (libs.length) addMissingLibraries(ctx, path, libs);
  const found = load.objects.filter((o) => o.role === 'library').length;
  ctx.chain.push(`${path}: ${found} ${found === 1 ? 'library' : 'libraries'} found${libs.length ? `, ${new Set(libs.map((l) => l.name)).size} missing` : ''}`);
  checkVersions(ctx, path, load);
}

function examineLoader(ctx: ExecContext, path: string, elf: ElfFile, load: ProgramLoad, isGo: boolean): void {
  const interp = load.interp!;
  const wantsMusl = /ld-musl-/.test(interp.path);
  const dir = ctx.root.readdir('/lib') ?? [];
  const hasMusl = dir.some((n) => n.startsWith('ld-musl-'));
  const glibcLoader = elf.machineInfo?.glibcLoader;
  const hasGlibc = !!glibcLoader && tryResolveInRoot(ctx.root, glibcLoader)?.type === 'file';
  const builder = `elfpack ${path} --from-image BUILDER`;
  let fix: string;
  if (isGo) fix = `rebuild it static with CGO_ENABLED=0 (elfpack go does), or pack it with its loader and libraries: ${builder}`;
  else if (!wantsMusl && hasMusl) fix = `this glibc program is on a musl base (alpine): use a glibc base (debian:bookworm-slim), build it on this base, or pack it with its own libraries: ${builder}`;
  else if (wantsMusl && hasGlibc) fix = `this musl program is on a glibc base: use an alpine base, link it statically (musl-gcc -static), or pack it with its loader: ${builder}`;
  else fix = `pack it with its loader and libraries: ${builder} (or --root DIR), or build it statically`;
  const error = interp.missing!.error ? ` (${interp.missing!.error})` : '';
  add(ctx, {
    code: 'LOADER_MISSING', path,
    message: `its loader ${interp.path} (PT_INTERP) is not in the image${error}: exec fails with "no such file or directory"`,
    fix,
  });
}

function addMissingLibraries(ctx: ExecContext, path: string, libs: ProgramLoad['missing']): void {
  const byName = new Map<string, { neededBy: Set<string>; notes: Set<string> }>();
  for (const l of libs) {
    const e = byName.get(l.name) ?? { neededBy: new Set(), notes: new Set() };
    e.neededBy.add(l.neededBy);
    for (const t of l.tried) if (t.outcome !== 'absent') e.notes.add(`${t.path}: ${t.outcome === 'wrong-abi' ? `${t.detail}, skipped` : t.detail}`);
    byName.set(l.name, e);
  }
  add(ctx, {
    code: 'LIBRARIES_MISSING', path,
    message: `needs ${byName.size === 1 ? 'a library' : `${byName.size} libraries`} the image lacks: ${[...byName.keys()].join(', ')}; the loader stops with "cannot open shared object file"`,
    fix: `pack it with what it needs: elfpack ${path} --from-image BUILDER (or --root DIR), or install the packages that ship them`,
    details: [...byName].map(([name, e]) => `${name} (needed by ${[...e.neededBy].join(', ')})${e.notes.size ? `: ${[...e.notes].join('; ')}` : ''}`),
  });
}

/** glibc's _dl_check_map_versions: each needed version must be defined by the object that answers the name. */
function checkVersions(ctx: ExecContext, path: string, load: ProgramLoad): void {
  const defsOf = new Map<LoadedObject, Set<string> | undefined>();
  const defs = (o: LoadedObject): Set<string> | undefined => {
    if (!defsOf.has(o)) {
      const d = readVersions(ctx, o)?.versionDefs;
      defsOf.set(o, d?.length ? new Set(d) : undefined);
    }
    return defsOf.get(o);
  };
  const lacking = new Map<LoadedObject, Map<string, Set<string>>>();
  for (const o of load.objects) {
    const elf = o.role === 'program' ? o.elf : readVersions(ctx, o);
    for (const need of elf?.versionNeeds ?? []) {
      const target = o.deps.find((d) => d.name === need.file)?.target ?? load.objects.find((x) => x.elf.soname === need.file || x.names.includes(need.file));
      const have = target && defs(target);
      if (!target || !have) continue; // a missing library is reported already; an unversioned one satisfies any need
      for (const v of need.versions) {
        if (have.has(v) || need.weak?.includes(v)) continue;
        const per = lacking.get(target) ?? new Map<string, Set<string>>();
        per.set(v, (per.get(v) ?? new Set()).add(o.path));
        lacking.set(target, per);
      }
    }
  }
  for (const [target, versions] of lacking) {
    const names = [...versions.keys()].sort(compareVersions);
    const glibc = names.some((v) => v.startsWith('GLIBC_'));
    const newest = [...defs(target)!].filter((v) => v.startsWith(names[0].replace(/[\d.]+$/, ''))).sort(compareVersions).pop();
    add(ctx, {
      code: 'VERSIONS_MISSING', path,
      message: `needs ${names.join(', ')} from ${target.path}, which defines ${newest ? `versions up to ${newest}` : 'none of them'}: the loader stops with "version \`${names[0]}' not found"`,
      fix: glibc
        ? `build it against the glibc of the image's release (in a builder of the same distribution), use a base with glibc ${names[names.length - 1].slice(6)} or newer, or pack it with its own libraries: elfpack ${path} --from-image BUILDER`
        : `ship the library it was built against (elfpack ${path} --from-image BUILDER packs it), or rebuild against the image's ${baseName(target.path)}`,
      details: names.map((v) => `${v} (needed by ${[...versions.get(v)!].join(', ')})`),
    });
  }
}

const versionCache = new WeakMap<LoadedObject, ElfFile | undefined>();
function readVersions(ctx: ExecContext, o: LoadedObject): ElfFile | undefined {
  if (o.elf.versionNeeds) return o.elf;
  if (versionCache.has(o)) return versionCache.get(o);
  let elf: ElfFile | undefined;
  try {
    const src = ctx.root.open(o.realPath);
    try {
      elf = readElf(src, { versions: true });
    } finally {
      src.close();
    }
  } catch {
    elf = undefined; // unreadable here means it was reported as a load error already
  }
  versionCache.set(o, elf);
  return elf;
}

/** GLIBC_2.9 < GLIBC_2.17 < GLIBC_2.34: numeric parts compared as numbers. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[._]/), pb = b.split(/[._]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '', y = pb[i] ?? '';
    const nx = Number(x), ny = Number(y);
    const c = x !== '' && y !== '' && !isNaN(nx) && !isNaN(ny) ? nx - ny : x < y ? -1 : x > y ? 1 : 0;
    if (c !== 0) return c;
  }
  return 0;
}
