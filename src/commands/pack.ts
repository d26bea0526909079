// pack: a program and exactly what its loader needs → a FROM-scratch image (one tar) or a rootfs
// directory. parse → resolve → closure → file tree → self-check here; then layer → config → sinks
// in pack-output.ts.
import { posix } from 'node:path';
import { ElfpackError } from '../errors.js';
import type { Root } from '../root/root.js';
import { baseName, dirName, resolveInRoot } from '../root/resolve-path.js';
import { Resolver } from '../resolve/resolver.js';
import { inspectEntry, loadProgram, type LoadedObject, type ProgramLoad } from '../closure/load-program.js';
import { mergePrograms } from '../closure/closure.js';
import { findRuntimeDeps } from '../closure/runtime-deps.js';
import { gconvFor } from '../closure/gconv.js';
import { caBundleRule } from '../closure/ca-bundle-rule.js';
import { findDlopenDeps, type DlopenAddition, type DlopenLevel, type DlopenOutcome } from '../closure/dlopen-notes.js';
import { ImageTreeBuilder, globMatcher, type ImageFile } from '../image/image-tree.js';
import { addExtras } from '../image/extras.js';
import { loaderConfigFor } from '../image/loader-config.js';
import { selfCheck } from '../image/self-check.js';
import { indexLibraries, missingIncludedError, openedByRun, splitLoadedByPath } from '../image/loaded-by-path.js';
import type { FileTree } from '../image/file-tree.js';
import type { LayerCompression } from '../oci/compress-layer.js';
import { DEFAULT_MAX_LAYERS, splitLayers, type ImageLayer, type LayerKind } from '../image/layers.js';
import { layerFactsOf } from '../image/layer-facts.js';
import { platformOf, type Platform } from '../oci/platform.js';
import { parseTag } from '../oci/reference.js';
import type { PushResult } from '../sinks/registry.js';
import { checkSinks, type Sink } from '../sinks/sink.js';
import type { TraceResult } from '../closure/trace.js';
import { addTracedFiles, type TracedAddition } from '../image/traced-files.js';
import { addPackageMetadata, type ImagePackages } from '../image/package-metadata.js';
import type { TraceSettings } from './trace-setup.js';
import type { SbomChoice, SbomFormat } from './pack-sbom.js';
import { prepareLayerOutput, sinksOf, writePlans } from './pack-output.js';

/** Run settings (cmd, env, user, workdir, ports, labels) go into the image's config; the entrypoint is the program. */
export interface PackOptions {
  cmd?: string[];
  /** "K=V" strings; PATH is added unless given. */
  env?: string[];
  user?: string;
  /** Default "/". */
  workdir?: string;
  /** "8080", "53/udp". */
  ports?: string[];
  labels?: Record<string, string>;
  /** The filesystem the program and its libraries come from. */
  root: Root;
  /** The program: a path inside the root (relative ones start at `cwd`). */
  program: string;
  cwd?: string;
  /** The program's path in the image (default its own path). */
  as?: string;
  /** Host path of the image tar. */
  out?: string;
  /** Host directory to write the tree to instead (or as well). */
  rootfs?: string;
  /** Where else the image goes (sinks/: the engine, a registry), after the rootfs and the tar. */
  sinks?: Sink[];
  /** NAME[:TAG] (default `<program name>:latest`). */
  tag?: string;
  /** Paths of the root copied as they are; ELF files inside get their closures too. */
  include?: string[];
  /** More programs of the root, each at its own path with its libraries (one closure for all). */
  also?: string[];
  /** Paths of the root copied whole even with `trace` (without it, `include` does the same). */
  includeAll?: string[];
  /** Run the program in a sandbox first and pack what the run used (see trace-setup.ts). */
  trace?: TraceSettings;
  /** Globs leaving paths out of what `include` brings (never out of a closure). */
  exclude?: string[];
  /** Host files or directories copied to chosen paths. */
  add?: { src: string; dest: string }[];
  /** The host, to read `add` sources from. */
  hostRoot?: Root;
  /** No passwd, group, /tmp or CA bundle (the bundle still with `caCerts`). */
  bare?: boolean;
  tzdata?: boolean;
  /** Charsets whose glibc converters go in (gconv modules, by name or alias), or ["all"]. */
  gconv?: string[];
  /** The CA bundle whatever the closure (by default only when it can do TLS). */
  caCerts?: boolean;
  /** Add what glibc loads without DT_NEEDED (libgcc_s, NSS); default true. */
  runtimeDeps?: boolean;
  /** Which entries of the closure's .note.dlopen to add: this priority and above (default "recommended"), or none. */
  dlopen?: DlopenLevel;
  libraryPath?: string;
  useLdSoCache?: boolean;
  /** SOURCE_DATE_EPOCH: `created` and every mtime (default 0). */
  epoch?: number;
  /** Progress lines for long work. */
  onProgress?: (line: string) => void;
  /** The image's platform, when the caller knows more than the ELF header tells (GOARM's variant). */
  platform?: Platform;
  /** The config's history line (default "elfpack PROGRAM"). */
  createdBy?: string;
  /**
   * Image paths known to be loaded: an included library's need that only a library loaded by path
   * answers (loaded-by-path.ts) is then proven, and not warned about. Default with a trace: the
   * files the traced run opened.
   */
  loadedByPath?: Set<string>;
  /** Write the owning packages' metadata for scanners (status.d, apk db, os-release); default true. */
  packageMetadata?: boolean;
  /**
   * The image's ENTRYPOINT, an image path, when it is not the program (a script run by the
   * program, `--add`ed): checked like the program (it must be in the image, its #! interpreter too).
   */
  entrypoint?: string;
  /** How layers are stored (default gzip when a tar or a registry gets the image, else none: pack-output.ts). */
  compression?: LayerCompression;
  /** Which SBOMs to attach to each image as BuildKit attests (pack-sbom.ts); default "both". */
  sbom?: SbomChoice;
  /** Also write the SBOMs into this host directory (sinks/sbom-files.ts). */
  sbomOut?: string;
  /**
   * At most this many layers: "auto" (default, DEFAULT_MAX_LAYERS) splits the image into a base
   * (loader, libc), library layers and the top (image/layers.ts); 1 keeps one layer.
   */
  layers?: 'auto' | number;
}

/** What pack decided, before anything is written: the file tree and the summary. */
export interface PackPlan {
  opts: PackOptions;
  tree: FileTree;
  result: PackResult;
  /** The loads behind the tree (the program's, then each included or dlopen'd ELF file's): the SBOM's graph. */
  loads: ProgramLoad[];
  /** The tree split into layers, lowest first (one: the tree). */
  layers: ImageLayer[];
}

/** A layer as the result says it: what it holds, its files and bytes, and its digest once built. */
export interface LayerSummary {
  kind: LayerKind;
  holds: string[];
  files: number;
  bytes: number;
  digest?: string;
}

export interface PackResult {
  program: string;
  /** ldd's word for the program: dynamic, or "not a dynamic executable" / "statically linked". */
  linkage: 'dynamic' | 'not a dynamic executable' | 'statically linked';
  platform: Platform;
  tag: string;
  entrypoint: string[];
  cmd: string[];
  files: ImageFile[];
  totalBytes: number;
  /** What was added beyond DT_NEEDED, and why. */
  added: string[];
  /** What was left out or narrowed, and how to add it (never a failure). */
  notes: string[];
  /** What may be missing at run time (never a failure). */
  warnings: string[];
  /** Each .note.dlopen entry of the closure and what became of it. */
  dlopen?: DlopenOutcome[];
  /** Set when a tar was written: the manifest digest (the image's digest), the config digest (the engine's image ID). */
  digest?: string;
  imageId?: string;
  /** Set when the image was built: how its layers are stored, and their stored size. */
  compression?: LayerCompression;
  layerBytes?: number;
  /** The index the tag names, when there is one: several platforms, or SBOMs attached beside the image. */
  indexDigest?: string;
  /** The SBOMs attached (unset with sbom "none", or when no image was built). */
  sbom?: PackSbom;
  out?: string;
  rootfs?: string;
  /** Set by --push: where it went. */
  pushed?: PushResult;
  /** Set by --trace: the runs, every path they used, and what that added. */
  trace?: PackTrace;
  /** Set by --verify: the image ran in the engine and exited 0. */
  verified?: { exitCode: number; seconds: number };
  /** The packages owning the image's files, and the files no package owns (unset with packageMetadata false). */
  packages?: ImagePackages;
  /** The image's layers, lowest first. */
  layers: LayerSummary[];
}

export interface PackSbom {
  formats: SbomFormat[];
  /** The digest of the attestation manifest holding them. */
  attestation: string;
  /** The files --sbom-out wrote for this image, one per format. */
  files: string[];
}

export interface PackTrace {
  runs: { args: string[]; exitCode: number | null; signal: string | null; timedOut: boolean }[];
  paths: { path: string; use: string; syscall: string }[];
  added: TracedAddition[];
  emulator?: string;
}

export async function pack(opts: PackOptions): Promise<PackResult> {
  const sinks = sinksOf(opts);
  if (!sinks.length) throw new ElfpackError('USAGE', 'nothing to write: give an output tar or a rootfs directory');
  await checkSinks(sinks);
  const layers = await prepareLayerOutput(opts.compression, sinks);
  const plan = await preparePack(opts);
  const { report } = await writePlans([plan], sinks, layers);
  if (report.pushed) plan.result.pushed = report.pushed;
  if (report.verified) plan.result.verified = report.verified;
  return plan.result;
}

/** At most this many --also programs. */
const MAX_ALSO = 256;

/** A program to pack (BIN or --also): an executable ELF file, not a script. */
function inspectProgram(resolver: Resolver, program: string): ReturnType<typeof inspectEntry> {
  const entry = inspectEntry(resolver, program);
  if (entry.script) throw new ElfpackError('USAGE', `is a script (#!${entry.script.interpreter}): pack its interpreter and --add the script`, { path: program });
  const st = resolver.root.lstat(entry.realPath);
  if (!st || (st.mode & 0o111) === 0) throw new ElfpackError('USAGE', 'is not executable (chmod +x it)', { path: program });
  return entry;
}

/** --entrypoint: an absolute image path, normalized. */
function checkEntrypoint(p: string): string {
  if (!p.startsWith('/') || p.length > 4096 || p.includes('\0')) throw new ElfpackError('USAGE', `--entrypoint ${p.slice(0, 80)}: want an absolute path in the image`);
  return posix.normalize(p);
}

/** planPack, after a traced run of the program when `opts.trace` asks for one. */
export async function preparePack(opts: PackOptions): Promise<PackPlan> {
  if (!opts.trace) return planPack(opts);
  const { traceTarget } = await import('./trace-setup.js');
  const cwd = opts.cwd ?? '/';
  const resolver = new Resolver(opts.root, { hwcaps: [], cwd });
  const entry = inspectEntry(resolver, opts.program);
  if (!entry.elf) return planPack(opts); // a script: planPack says why it cannot be packed
  const src = resolver.root.open(entry.realPath);
  let head: Buffer;
  try {
    head = src.read(0, Math.min(64, src.size), 'ELF header');
  } finally {
    src.close();
  }
  opts.onProgress?.(`tracing ${posix.resolve(cwd, opts.program)} in a sandbox`);
  const traced = await traceTarget({
    root: opts.root, program: posix.resolve(cwd, opts.program), elf: entry.elf, head, cmd: opts.cmd ?? [], env: opts.env ?? [], user: opts.user, workdir: opts.workdir,
  }, opts.trace);
  return planPack(opts, traced);
}

/**
 * Resolves the program's closure into an image tree and checks the image would start; writes
 * nothing. With `traced`, what the run used goes in too, and narrows the rules' guesses.
 */
export function planPack(opts: PackOptions, traced?: TraceResult): PackPlan {
  const cwd = opts.cwd ?? '/';
  const resolver = new Resolver(opts.root, { libraryPath: opts.libraryPath, hwcaps: [], cwd, useLdSoCache: opts.useLdSoCache });
  const programPath = posix.resolve(cwd, opts.program);
  const entry = inspectProgram(resolver, opts.program);
  const elf = entry.elf!;
  const load = loadProgram(resolver, entry);
  failOnMissing(load);
  const machine = elf.machineInfo;
  if (!machine) throw new ElfpackError('ELF_UNSUPPORTED', `unsupported machine (e_machine ${elf.machine})`, { path: opts.program });
  const linkage = load.main ? 'dynamic' : elf.kind === 'static-pie' ? 'statically linked' : 'not a dynamic executable';

  const b = new ImageTreeBuilder(resolver.root);
  const at = opts.as ? posix.resolve('/', opts.as) : programPath;
  if (at === programPath) b.addSymlinks(entry.links);
  b.addRootFile(entry.realPath, 'program', at === programPath ? entry.realPath : at);
  const relocate = originRelocation(dirName(entry.realPath), dirName(at));
  const loads: ProgramLoad[] = [load];
  addObjects(b, load.objects.filter((o) => o !== load.main), relocate);
  // --also: more programs of the same root, each at its own path with its closure (one tree:
  // a library two programs need goes in once); glibc's unasked loads below count their symbols too.
  const also = [...new Set((opts.also ?? []).map((p) => posix.resolve(cwd, p)))].filter((p) => p !== programPath);
  if (also.length > MAX_ALSO) throw new ElfpackError('USAGE', `--also names ${also.length} programs, more than ${MAX_ALSO}`);
  for (const p of also) {
    const e = inspectProgram(resolver, p);
    const l = loadProgram(resolver, e);
    failOnMissing(l);
    b.addSymlinks(e.links);
    b.addRootFile(e.realPath, 'program', e.realPath);
    addObjects(b, l.objects.filter((o) => o !== l.main), () => undefined);
    loads.push(l);
  }

  const added: string[] = [];
  const notes: string[] = [];
  const onNote = (line: string) => notes.push(line);
  const extraElfs: string[] = [];
  // Shared libraries beyond the loads' objects, for the layer split: what glibc loads unasked.
  const moreLibraries: string[] = [];
  // The probe is remembered: the closure walk below reads each of these files no second time.
  const collectElf = (p: string) => {
    if (resolver.probe(p).elf) extraElfs.push(p);
  };
  const fromTrace = traced && addTracedFiles(b, traced.used, collectElf, traced.scratchDirs);
  // With a trace, a guessed file goes in only if the run used it: the run is the evidence.
  const usedByRun = (p: string) => !fromTrace || fromTrace.realPaths.has(resolveInRoot(resolver.root, p).path);
  if (load.main && load.profile && opts.runtimeDeps !== false) {
    for (const dep of findRuntimeDeps(resolver, load.profile, load.main, mergePrograms(loads).nodes, { gconv: !!opts.gconv?.length || !!traced, onNote })) {
      const paths = dep.paths.filter(usedByRun);
      const files = Object.entries(dep.files ?? {});
      for (const p of dep.paths.filter((x) => !paths.includes(x))) {
        const inside = fromTrace ? usedInside(fromTrace.realPaths, resolveInRoot(resolver.root, p).path) : 0;
        notes.push(inside ? `${p}: only the ${inside} path(s) the traced run used (the rule without --trace: ${dep.reason})` : `left out ${p}: the traced run did not use it (the rule without --trace: ${dep.reason})`);
      }
      if (!paths.length && !files.length) continue;
      added.push(dep.reason);
      for (const p of paths) moreLibraries.push(b.addRootPath(p, 'runtime', { onFile: collectElf }));
      for (const [p, content] of files) b.addContent(p, Buffer.from(content), 0o644, 'runtime');
    }
  }
  if (opts.gconv?.length) {
    const g = gconvFor(resolver.root, load, opts.gconv);
    notes.push(...g.notes);
    if (g.dep) {
      added.push(g.dep.reason);
      for (const p of g.dep.paths) b.addRootPath(p, 'runtime', { onFile: collectElf });
    }
  }
  const exclude = globMatcher(opts.exclude ?? []);
  const includeAll = new Set((opts.includeAll ?? []).map((p) => posix.resolve(cwd, p)));
  for (const inc of new Set([...(opts.include ?? []).map((p) => posix.resolve(cwd, p)), ...includeAll])) {
    if (fromTrace && !includeAll.has(inc)) {
      // The run's files under it are in already; the rest of the tree stays out.
      const n = usedInside(fromTrace.realPaths, resolveInRoot(resolver.root, inc).path);
      notes.push(`--include ${inc}: only the ${n} path(s) the traced run used (--include-all ${inc} for all of it)`);
      continue;
    }
    b.addRootPath(inc, 'include', { exclude, onFile: collectElf });
  }
  // An included library's need that an included file answers by name is left to the self-check.
  const libraries = indexLibraries(resolver, extraElfs);
  const unmet: { load: ProgramLoad; missing: ProgramLoad['missing'] }[] = [];
  for (const f of [...new Set(extraElfs)]) {
    const l = loadProgram(resolver, inspectEntry(resolver, f));
    const { missing } = splitLoadedByPath(l, libraries);
    if (missing.length) unmet.push({ load: l, missing });
    addObjects(b, l.objects.filter((o) => o !== l.main), () => undefined);
    loads.push(l);
  }
  if (unmet.length) throw missingIncludedError(unmet);
  // Root paths of the ELF files brought so far (dlopen additions below may be image paths, moved with --as).
  const rootElfs = [...new Set(extraElfs)];
  // What the closure's libraries declare they dlopen, each with its own closure (dlopen-notes.ts).
  const dlopen = findDlopenDeps(resolver, loads, opts.dlopen ?? 'recommended');
  addDlopenDeps(b, dlopen.deps, load, relocate, extraElfs, loads);
  added.push(...dlopen.deps.flatMap((d) => (d.reason ? [d.reason] : [])));
  moreLibraries.push(...dlopen.deps.map((d) => d.library.realPath));
  for (const a of opts.add ?? []) {
    if (!opts.hostRoot) throw new ElfpackError('USAGE', '--add needs the host root');
    b.addPath(opts.hostRoot, a.src, posix.resolve('/', a.dest), 'add');
  }
  const caBundle = caBundleRule(resolver.root, {
    bare: opts.bare, caCerts: opts.caCerts, objects: loads.flatMap((l) => l.objects),
    programs: [{ path: entry.realPath, shown: at }, ...[...also, ...rootElfs].map((p) => ({ path: p, shown: b.placeInTree(p) }))],
  });
  added.push(...addExtras(b, { users: !opts.bare, caBundle, caBundleRequired: opts.caCerts, tzdata: opts.tzdata, onNote }));
  if (load.profile) {
    const cfg = loaderConfigFor(resolver, load.profile, loads);
    for (const [p, content] of Object.entries(cfg.files)) b.addContent(p, content, 0o644, 'loader');
    added.push(...cfg.notes);
  }
  if (b.skipped.length) notes.push(`left out ${b.skipped.length} special file(s) (FIFOs, sockets, devices), e.g. ${b.skipped[0]}`);
  added.push(...b.followedLinkNotes());
  // Last, when the tree is complete: the packages owning its files, described for scanners.
  const meta = opts.packageMetadata === false ? undefined : addPackageMetadata(b, resolver.root);
  if (meta) added.push(...meta.added);

  const env = opts.env ?? [];
  const libraryPath = env.find((e) => e.startsWith('LD_LIBRARY_PATH='))?.slice('LD_LIBRARY_PATH='.length);
  // With --trace, the trace decides whether a library assumed loaded by path was loaded.
  const loadedByPath = opts.loadedByPath ?? (traced ? openedByRun(resolver.root, traced.used) : undefined);
  const entrypoint = opts.entrypoint === undefined ? at : checkEntrypoint(opts.entrypoint);
  const checked = [...(entrypoint === at ? [] : [entrypoint]), at, ...also, ...extraElfs.map((p) => b.placeInTree(p))];
  const { problems, warnings } = selfCheck(b.tree, checked, { libraryPath, workdir: opts.workdir, loadedByPath });
  const checkWarnings = [...b.danglingLinkWarnings(), ...warnings];
  if (problems.length) {
    throw new ElfpackError('IMAGE_CHECK', `the image would not start, so it was not written: ${problems.join('; ')}`, { path: opts.program, step: 'self-check' });
  }

  const tag = parseTag(opts.tag ?? `${imageNameFor(entrypoint)}:latest`).full;
  const layers = splitLayers(b.tree, layerFactsOf(b.tree, loads, moreLibraries, meta?.packages), opts.layers === 'auto' || opts.layers === undefined ? DEFAULT_MAX_LAYERS : opts.layers);
  const files = [...b.files.values()];
  const result: PackResult = {
    program: opts.program, linkage, platform: opts.platform ?? platformOf(machine), tag, entrypoint: [entrypoint], cmd: opts.cmd ?? [], files,
    totalBytes: files.reduce((n, f) => n + f.size, 0), added, warnings: [...dlopen.warnings, ...checkWarnings, ...(meta?.warnings ?? [])], notes: [...notes, ...dlopen.notes], dlopen: dlopen.outcomes,
    ...(meta ? { packages: meta.packages } : {}),
    layers: layers.map((l) => ({ kind: l.kind, holds: l.holds, files: l.files, bytes: l.bytes })),
  };
  if (traced?.readOnlyDenied.length) {
    const d = traced.readOnlyDenied;
    result.warnings.push(`the traced run could not write ${d.slice(0, 5).join(', ')}${d.length > 5 ? `, and ${d.length - 5} more` : ''} (the sandbox's root is read-only; a container's is not): what it would have done next was not traced, so check the image (--verify) or trace a run that does not write there`);
  }
  if (traced && fromTrace) {
    result.trace = {
      runs: traced.runs.map((r) => ({ args: r.args, exitCode: r.exitCode, signal: r.signal, timedOut: r.timedOut })),
      paths: traced.used.map((u) => ({ path: u.path, use: u.use, syscall: u.syscall })),
      added: fromTrace.added,
      ...(traced.emulator ? { emulator: traced.emulator } : {}),
    };
  }
  return { opts, tree: b.tree, result, loads, layers };
}

/** How many of `paths` are `dir` or lie under it. */
function usedInside(paths: Set<string>, dir: string): number {
  let n = 0;
  for (const p of paths) if (p === dir || p.startsWith(`${dir}/`)) n++;
  return n;
}

/** A program's file name as an image name: lowercase, other characters as "-". */
export function imageNameFor(path: string): string {
  return baseName(path).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '') || 'app';
}

function failOnMissing(load: ProgramLoad): void {
  if (!load.missing.length) return;
  // One line (the CLI prints `elfpack: PATH: message`); describe() escapes the names in it.
  const names = load.missing.map((m) => `${m.name} (needed by ${m.neededBy}): ${m.error ?? 'not found'}`);
  throw new ElfpackError('MISSING_LIBRARY', `program needs what the root does not have, so no image was written: ${names.join('; ')}`, { path: load.file.path, step: 'closure' });
}

/**
 * A program moved to a new directory takes what it finds through $ORIGIN along: a library found
 * through RPATH/RUNPATH under the old directory keeps the same place relative to the program.
 */
type Relocation = (o: LoadedObject) => string | undefined;
const noRelocation: Relocation = () => undefined;

function originRelocation(from: string, to: string): Relocation {
  if (from === to) return noRelocation;
  return (o) => {
    if ((o.via !== 'rpath' && o.via !== 'runpath') || !o.path.startsWith(`${from}/`)) return undefined;
    return posix.normalize(`${to}/${o.path.slice(from.length + 1)}`);
  };
}

function addObjects(b: ImageTreeBuilder, objects: LoadedObject[], relocate: (o: LoadedObject) => string | undefined, reason?: string): void {
  for (const o of objects) {
    const moved = relocate(o);
    if (moved) {
      b.addRootFile(o.realPath, reason ?? o.role, b.placeInTree(moved));
      continue;
    }
    b.addSymlinks(o.links);
    b.addRootFile(o.realPath, reason ?? o.role);
  }
}



/**
 * Places each library a dlopen note brought, and its own libraries. One found through the $ORIGIN
 * of a library that `--as` moved moves with it, as the program's libraries do, and what it finds
 * through its own $ORIGIN moves with it in turn.
 */
function addDlopenDeps(b: ImageTreeBuilder, deps: DlopenAddition[], main: ProgramLoad, relocate: Relocation, extraElfs: string[], loads: ProgramLoad[]): void {
  const relocations = new Map<ProgramLoad, Relocation>([[main, relocate]]);
  for (const dep of deps) {
    const rel = relocations.get(dep.declaredIn) ?? noRelocation;
    const moved = rel(dep.library);
    addObjects(b, [dep.library], rel, 'dlopen');
    if (dep.own) {
      const own = moved ? originRelocation(dirName(dep.library.realPath), dirName(moved)) : noRelocation;
      relocations.set(dep.own, own);
      addObjects(b, dep.own.objects.filter((o) => o !== dep.own!.main), own);
    }
    extraElfs.push(...(moved && dep.elfFiles.length ? [moved] : dep.elfFiles));
    loads.push(...dep.loads);
  }
}

export { packToJson, renderPackSummary } from './pack-summary.js';
