// `elfpack ldd`: ldd's own output (without load addresses), a tree that says how each library
// was found, or a stable JSON document (schema "elfpack.ldd/v1", described in the README).
import { ElfpackError } from '../errors.js';
import { escapeControls, escapeName } from '../escape.js';
import type { Root } from '../root/root.js';
import { Resolver, toError, type ResolverOptions } from '../resolve/resolver.js';
import { inspectEntry, loadProgram, type LoadedObject, type MissingLibrary, type ProgramLoad } from '../closure/load-program.js';
import { followInterpreters } from '../closure/script-chain.js';
import { declaredDlopens, describeFeature, type DeclaredDlopen, type LoadDlopens, type NotesCache } from '../closure/dlopen-notes.js';
import type { Via } from '../resolve/loader.js';

export interface LddOptions extends ResolverOptions {
  /** Read the symbol versions the files need (for --json); default false. */
  versions?: boolean;
  /** Read each object's .note.dlopen and resolve what it declares (for --tree and --json); default false. */
  dlopenNotes?: boolean;
}

/**
 * dynamic: libraries listed; static: no PT_DYNAMIC ("not a dynamic executable"); statically-linked:
 * a dynamic object that needs nothing — a static-pie, ld.so itself (ld.so says "statically linked").
 */
export type LddStatus = 'dynamic' | 'static' | 'statically-linked' | 'script' | 'error';

export interface LddReport {
  file: string;
  status: LddStatus;
  load?: ProgramLoad;
  error?: ElfpackError;
  /** For a script: whether its interpreters exist in the root (false for a "#!" loop, an error). */
  scriptInterpreterFound?: boolean;
  /** With `dlopenNotes`: what the objects declare they dlopen, each resolved as that dlopen would. */
  dlopen?: LoadDlopens;
}

export interface LddResult {
  root: string;
  reports: LddReport[];
  /** False when anything is missing or unreadable. */
  ok: boolean;
}

export function ldd(root: Root, files: string[], opts: LddOptions = {}): LddResult {
  const reports: LddReport[] = [];
  const { ok } = lddEach(root, files, opts, (r) => reports.push(r));
  return { root: root.label, reports, ok };
}

/**
 * ldd one file at a time: `each` gets every report as soon as it is made, and nothing is kept, so
 * memory stays flat over thousands of files. Returns whether all were complete.
 */
export function lddEach(root: Root, files: string[], opts: LddOptions, each: (r: LddReport) => void): { ok: boolean } {
  const resolver = new Resolver(root, opts);
  // A library's notes are read once for all the files that load it.
  const notes: NotesCache = new Map();
  let ok = true;
  for (const file of files) {
    const r = lddOne(resolver, file, !!opts.versions);
    if (opts.dlopenNotes && r.status === 'dynamic' && r.load) r.dlopen = declaredDlopens(resolver, r.load, notes);
    if (r.status === 'error' || (r.load && r.load.missing.length > 0) || r.scriptInterpreterFound === false) ok = false;
    each(r);
    resolver.release(file);
  }
  return { ok };
}

function lddOne(resolver: Resolver, file: string, versions: boolean): LddReport {
  try {
    const entry = inspectEntry(resolver, file, { versions });
    if (entry.script) {
      const chain = followInterpreters(resolver, entry);
      const load = loadProgram(resolver, entry);
      if (chain.error) return { file, status: 'error', error: chain.error, load, scriptInterpreterFound: false };
      return { file, status: 'script', load, scriptInterpreterFound: chain.found };
    }
    const load = loadProgram(resolver, entry);
    const elf = entry.elf!;
    const status: LddStatus = !elf.dynamic || elf.kind === 'static-executable' ? 'static' : elf.needed.length === 0 ? 'statically-linked' : load.profile ? 'dynamic' : 'static';
    return { file, status, load };
  } catch (err) {
    return { file, status: 'error', error: toError(err, file) };
  }
}

export interface Painter {
  red(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

export const plain: Painter = { red: (s) => s, dim: (s) => s, bold: (s) => s };

/**
 * ldd's lines for every file, as `ldd FILE... 2>&1` prints them: "name => path", "name => not
 * found", the interpreter alone. Every name from a file or the command line is printed through
 * escapeName: one name, one line.
 */
export function renderLdd(result: LddResult, paint: Painter = plain): string[] {
  const out: string[] = [];
  for (const r of result.reports) lddLines(r, result.reports.length > 1, paint, out);
  return out;
}

/**
 * Whether ldd would say "not a dynamic executable": a static program, a script, a file that is not
 * ELF. glibc's ldd prints that on stderr and exits 1 (elf/ldd.bash.in).
 */
export function isNotDynamic(r: LddReport): boolean {
  return r.status === 'static' || r.status === 'script' || r.error?.code === 'NOT_ELF';
}

/**
 * One file's ldd lines, appended to `out`; `many` adds the "FILE:" header ldd prints for several
 * files. "not a dynamic executable" goes to `notDynamic` (ldd's stderr), or to `out` (ldd 2>&1).
 */
export function lddLines(r: LddReport, many: boolean, paint: Painter, out: string[], notDynamic = out): void {
  // Errors other than "not ELF" go to stderr only (problemLines).
  if (r.status === 'error' && !isNotDynamic(r)) return;
  if (many) out.push(`${escapeName(r.file)}:`);
  if (isNotDynamic(r)) {
    notDynamic.push('\tnot a dynamic executable');
    return;
  }
  if (r.status === 'statically-linked') {
    out.push('\tstatically linked');
    return;
  }
  for (const e of r.load!.order) {
    if (e.kind === 'missing') out.push(`\t${escapeName(e.missing.name)} => ${paint.red('not found')}`);
    else if (e.kind === 'interpreter') out.push(e.object ? `\t${escapeName(e.path)}` : `\t${escapeName(e.path)} => ${paint.red('not found')}`);
    else out.push(e.name === e.object.path ? `\t${escapeName(e.name)}` : `\t${escapeName(e.name)} => ${escapeName(e.object.path)}`);
  }
}

/** One line per problem, for stderr: errors, missing libraries with what was tried, script issues. */
export function renderProblems(result: LddResult): string[] {
  const out: string[] = [];
  for (const r of result.reports) problemLines(r, out);
  return out;
}

/** One file's problem lines, appended to `out`. */
export function problemLines(r: LddReport, out: string[]): void {
  if (r.error) out.push(r.error.describe());
  for (const w of r.dlopen?.warnings ?? []) out.push(escapeControls(w));
  const s = r.error ? undefined : r.load?.file.script;
  const file = escapeName(r.file);
  if (s) {
    const interp = escapeName(s.interpreter);
    out.push(`${file}: a script run by ${interp}${s.argument ? ` ${escapeName(s.argument)}` : ''}`);
    if (s.crlf) out.push(`${file}: its "#!" line ends in CRLF: the kernel looks for "${interp}\\r" (convert the file to LF line endings)`);
    else if (r.scriptInterpreterFound === false) out.push(`${file}: interpreter ${interp} not found`);
  }
  const missing = r.load?.missing;
  if (!missing?.length) return;
  // glibc searches a missing name again for each requester; say it once, with all of them.
  const byName = new Map<string, MissingLibrary & { requesters: string[] }>();
  for (const m of missing) {
    const seen = byName.get(m.name);
    if (seen) seen.requesters.push(m.neededBy);
    else byName.set(m.name, { ...m, requesters: [m.neededBy] });
  }
  for (const m of byName.values()) out.push(`${file}: ${describeMissing(m, m.requesters)}`);
}

/** One line: the name, who needed it, and why it was not found (names escaped). */
export function describeMissing(m: MissingLibrary, requesters = [m.neededBy]): string {
  const name = `${escapeName(m.name)} (needed by ${requesters.map(escapeName).join(', ')})`;
  if (m.error) return `${name}: ${escapeControls(m.error)}`;
  const tried = m.tried.map((t) => t.outcome === 'wrong-abi' ? `${escapeName(t.path)} (${escapeControls(t.detail ?? '')}, skipped)`
    : t.outcome === 'skipped' ? `${escapeName(t.path)} (${escapeControls(t.detail ?? '')})` : escapeName(t.path));
  return `${name} not found${tried.length ? `; tried ${tried.join(', ')}` : ''}`;
}

const VIA_LABEL: Record<Via | 'program', string> = {
  rpath: 'rpath', runpath: 'runpath', ld_library_path: 'LD_LIBRARY_PATH', ld_so_cache: 'ld.so.cache',
  ld_so_conf: 'ld.so.conf', ld_musl_path: 'ld-musl path file', default: 'default path', interp: 'interpreter',
  direct: 'direct path', loaded: 'already loaded', program: 'program',
};

/** A tree like lddtree/libtree: each library under the object that first needed it, with how it was found. */
export function renderTree(result: LddResult, paint: Painter = plain): string[] {
  const out: string[] = [];
  for (const r of result.reports) treeLines(r, paint, out);
  return out;
}

/** One file's tree, appended to `out`. */
export function treeLines(r: LddReport, paint: Painter, out: string[]): void {
  if (r.status === 'error') return;
  const load = r.load!;
  const file = escapeName(r.file);
  if (r.status !== 'dynamic') {
    out.push(`${file} (${r.status === 'script' ? `script for ${escapeName(load.file.script!.interpreter)}` : r.status === 'statically-linked' ? 'statically linked' : 'not a dynamic executable'})`);
    return;
  }
  const interp = load.interp!;
  const interpPath = escapeName(interp.path);
  out.push(`${paint.bold(file)} (interpreter => ${interp.object ? interpPath : paint.red(`${interpPath} not found`)})`);
  const shown = new Set<LoadedObject>([load.main!]);
  const dlopens = new Map<LoadedObject, DeclaredDlopen[]>();
  for (const d of r.dlopen?.declared ?? []) {
    const list = dlopens.get(d.declaredBy);
    if (list) list.push(d);
    else dlopens.set(d.declaredBy, [d]);
  }
  const walk = (o: LoadedObject, depth: number) => {
    for (const d of o.deps) {
      const pad = '    '.repeat(depth);
      if (!d.target) {
        out.push(`${pad}${escapeName(d.name)} => ${paint.red('not found')}${d.missing?.error ? paint.dim(` (${escapeControls(d.missing.error)})`) : ''}`);
        continue;
      }
      if (shown.has(d.target)) continue;
      shown.add(d.target);
      out.push(`${pad}${escapeName(d.name)} => ${escapeName(d.target.path)} ${paint.dim(`[${VIA_LABEL[d.target === interp.object ? 'interp' : d.target.via]}]`)}`);
      walk(d.target, depth + 1);
    }
    for (const d of dlopens.get(o) ?? []) out.push(`${'    '.repeat(depth)}${dlopenTreeLine(d, paint)}`);
  };
  walk(load.main!, 1);
  // What the searches passed over (an ld.so.conf, glibc-hwcaps or RUNPATH directory that is a loop…).
  for (const k of load.skipped) out.push(paint.dim(`    note: skipped ${escapeName(k.path)} [${VIA_LABEL[k.via]}]: ${escapeControls(k.reason)}`));
}

/** A declared dlopen dependency in the tree: marked as such, found or not. */
function dlopenTreeLine(d: DeclaredDlopen, paint: Painter): string {
  const how = d.loaded ? '; already loaded' : d.found ? `; ${VIA_LABEL[d.found.via!]}` : '';
  const mark = paint.dim(`[dlopen, ${d.entry.priority}${escapeControls(describeFeature(d.entry))}${how}]`);
  if (d.loaded) return `${escapeName(d.name!)} => ${escapeName(d.loaded.path)} ${mark}`;
  if (d.found) return `${escapeName(d.name!)} => ${escapeName(d.found.path!)} ${mark}`;
  return `${d.entry.sonames.map(escapeName).join(' | ')} => ${paint.red('not found')} ${mark}`;
}

/** One declared dlopen dependency in JSON. */
function dlopenToJson(d: DeclaredDlopen): object {
  const e = d.entry;
  return {
    declaredBy: d.declaredBy.path, sonames: e.sonames, feature: e.feature ?? null, description: e.description ?? null, priority: e.priority,
    found: !!(d.loaded || d.found), name: d.name ?? null, path: d.loaded?.path ?? d.found?.path ?? null,
    realPath: d.loaded?.realPath ?? d.found?.realPath ?? null, via: d.loaded ? 'loaded' : d.found?.via ?? null,
    error: d.error ?? null, tried: d.tried,
  };
}

/** The JSON document (schema elfpack.ldd/v1). */
export function lddToJson(result: LddResult): object {
  return {
    schema: 'elfpack.ldd/v1',
    root: result.root,
    ok: result.ok,
    files: result.reports.map((r) => {
      const load = r.load;
      const elf = load?.file.elf;
      const m = elf?.machineInfo;
      return {
        file: r.file,
        realPath: load?.file.realPath ?? null,
        status: r.status,
        error: r.error ? { code: r.error.code, message: r.error.message } : null,
        script: load?.file.script ? { ...load.file.script, interpreterFound: r.scriptInterpreterFound } : null,
        elf: elf ? {
          class: elf.elfClass, byteOrder: elf.byteOrder, machine: m?.name ?? `em_${elf.machine}`, type: elf.type, kind: elf.kind,
          interp: elf.interp ?? null, needed: elf.needed, soname: elf.soname ?? null, rpath: elf.rpath ?? null, runpath: elf.runpath ?? null,
          versionNeeds: elf.versionNeeds ?? [],
        } : null,
        platform: m ? { os: 'linux', architecture: m.ociArch, variant: m.ociVariant ?? null } : null,
        libc: load?.profile?.libc ?? null,
        interpreter: load?.interp ? { path: load.interp.path, realPath: load.interp.object?.realPath ?? null, found: !!load.interp.object } : null,
        libraries: (load?.objects ?? []).filter((o) => o.role === 'library').map((o) => ({
          name: o.names[0], path: o.path, realPath: o.realPath, via: o.via,
          neededBy: o.loader ? ((o.loader as LoadedObject).role === 'program' ? load!.main!.path : o.loader.path) : null,
        })),
        missing: (load?.missing ?? []).map((mm) => ({ name: mm.name, neededBy: mm.neededBy, error: mm.error ?? null, tried: mm.tried })),
        skipped: load?.skipped ?? [],
        dlopen: (r.dlopen?.declared ?? []).map(dlopenToJson),
        dlopenWarnings: r.dlopen?.warnings ?? [],
      };
    }),
  };
}
