// The command line: flags → options → a library call → rendered output and an exit code.
// The only place that reads process.env, process.argv and the terminal.
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import type * as Picocolors from 'picocolors';
import { fstatSync, statSync, writeSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve as resolveHostPath } from 'node:path';
import type { Root } from './root/root.js';
import { ElfpackError } from './errors.js';
import { escapeControls } from './escape.js';
import { ELFPACK_VERSION } from './version.js';
import { parseLayers } from './image/layers.js';
import { HostRoot } from './root/host-root.js';
import type { Painter } from './commands/ldd.js';
import type { DlopenLevel } from './closure/dlopen-notes.js';
import { parseCompression, type LayerCompression } from './oci/media-types.js';
import type { SbomChoice } from './commands/pack-sbom.js';
import type { PushOptions, PushResult } from './sinks/registry.js';
import type { Sink } from './sinks/sink.js';

// commander is bundled into dist/elfpack.cjs (the CLI as users run it); picocolors is required
// when colour is on (see painter).
const require = createRequire(import.meta.url);

// Commands and their dependencies load when used: start-up is most of a short `ldd` run, and
// image, tar and engine code (dockerode alone takes 0.2 s to load) is not needed there.
const lddCommand = () => import('./commands/ldd.js');
const packCommand = () => import('./commands/pack.js');
const doctorCommand = () => import('./commands/doctor.js');

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
  isTTY: boolean;
  cwd: string;
}

const noColour = (s: string) => s;

function painter(io: CliIo): Painter {
  const on = io.env.FORCE_COLOR ? io.env.FORCE_COLOR !== '0' : io.isTTY && !io.env.NO_COLOR && io.env.TERM !== 'dumb';
  if (!on) return { red: noColour, dim: noColour, bold: noColour };
  // Loaded only for colour: picocolors reads process.stdout.isTTY as it loads, and that getter
  // loads Node's whole stream stack (several ms of a short run that writes to a file or pipe).
  const c = (require('picocolors') as typeof Picocolors).createColors(true);
  return { red: c.red, dim: c.dim, bold: c.bold };
}

/**
 * isatty(fd) for bin/elfpack, without loading Node's tty module (it loads net and the stream
 * modules) when the answer is plain: a file, a pipe or /dev/null (major 1, the memory devices).
 */
export function isTerminal(fd: 1 | 2): boolean {
  let st;
  try {
    st = fstatSync(fd);
  } catch {
    return false;
  }
  if (!st.isCharacterDevice() || ((st.rdev >> 8) & 0xfff) === 1) return false;
  return (require('node:tty') as typeof import('node:tty')).isatty(fd);
}

/**
 * A writer for fd 1 or 2 for bin/elfpack: write(2) straight away, without initialising
 * process.stdout's stream (which loads Node's stream modules). Should the descriptor be
 * non-blocking and full (EAGAIN), the rest goes through the process stream, which waits.
 */
export function fdWriter(fd: 1 | 2): (s: string) => void {
  let viaStream = false;
  return (s) => {
    const b = Buffer.from(s);
    let at = 0;
    if (!viaStream) {
      try {
        while (at < b.length) at += writeSync(fd, b, at);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        viaStream = true;
      }
    }
    (fd === 1 ? process.stdout : process.stderr).write(b.subarray(at));
  };
}

interface PackFlags {
  out?: string; tag?: string; root?: string; fromImage?: string; load?: boolean; as?: string; include: string[]; exclude: string[]; add: string[];
  env: string[]; user?: string; workdir?: string; port: string[]; label: string[]; bare?: boolean; tzdata?: boolean;
  runtimeDeps: boolean; rootfs?: string; libraryPath?: string; ldSoCache: boolean; json?: boolean;
  push?: string; insecure?: boolean; caFile?: string; maxLayerSize?: number; gconv?: string[]; caCerts?: boolean; dlopen?: DlopenLevel;
  trace?: boolean; traceRun: string[]; traceEnv: string[]; traceTimeout?: number; includeAll: string[];
  verify?: boolean; verifyTimeout?: number; packageMetadata: boolean; compression?: LayerCompression; entrypoint?: string; also: string[]; sbom: SbomChoice; sbomOut?: string; layers?: number;
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

/** Repeated flags that also take comma-separated lists: every item, empty ones dropped. */
function splitList(values: string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

function checkPair(v: string, flag: string): string {
  if (!/^[^=]+=/.test(v)) throw new ElfpackError('USAGE', `${flag} ${v}: want KEY=VALUE`);
  return v;
}

function splitAdd(v: string, cwd: string): { src: string; dest: string } {
  const i = v.lastIndexOf(':');
  if (i <= 0 || !v.slice(i + 1).startsWith('/')) throw new ElfpackError('USAGE', `--add ${v}: want SRC:/absolute/dest`);
  return { src: resolveHostPath(cwd, v.slice(0, i)), dest: v.slice(i + 1) };
}

/** --trace-run 'ARGS': words as a POSIX shell splits them (quotes and backslashes; no expansion). */
export function splitWords(v: string): string[] {
  const words: string[] = [];
  let cur: string | undefined;
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if (c === "'") {
      const end = v.indexOf("'", i + 1);
      if (end < 0) throw new ElfpackError('USAGE', `--trace-run ${v}: unterminated quote`);
      cur = (cur ?? '') + v.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      cur ??= '';
      for (i++; i < v.length && v[i] !== '"'; i++) cur += v[i] === '\\' && /["\\$`]/.test(v[i + 1] ?? '') ? v[++i] : v[i];
      if (i >= v.length) throw new ElfpackError('USAGE', `--trace-run ${v}: unterminated quote`);
    } else if (c === '\\' && i + 1 < v.length) cur = (cur ?? '') + v[++i];
    else if (/\s/.test(c)) {
      if (cur !== undefined) words.push(cur);
      cur = undefined;
    } else cur = (cur ?? '') + c;
  }
  if (cur !== undefined) words.push(cur);
  return words;
}

/** The --trace flags as pack's `trace` option; undefined without --trace. */
function traceSettings(o: PackFlags, io: CliIo) {
  if (!o.trace) {
    if (o.traceRun.length || o.traceEnv.length || o.traceTimeout !== undefined) throw new ElfpackError('USAGE', '--trace-run, --trace-env and --trace-timeout need --trace');
    return undefined;
  }
  return {
    runs: o.traceRun.map(splitWords),
    env: o.traceEnv.map((e) => checkPair(e, '--trace-env')),
    timeoutSeconds: o.traceTimeout,
    toolPath: io.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    asRoot: process.getuid?.() === 0,
    tmpDir: tmpdir(),
    onOutput: (t: string) => io.stderr(t),
  };
}

function parseSeconds(v: string): number {
  if (!/^\d+(\.\d+)?$/.test(v) || Number(v) <= 0 || Number(v) > 86_400) throw new ElfpackError('USAGE', `--trace-timeout ${v}: want seconds, more than 0 and at most 86400`);
  return Number(v);
}

/** SOURCE_DATE_EPOCH (reproducible-builds.org): seconds since the epoch, else 0. */
function sourceDateEpoch(env: NodeJS.ProcessEnv): number {
  const v = env.SOURCE_DATE_EPOCH;
  if (v === undefined || v === '') return 0;
  if (!/^\d{1,12}$/.test(v)) throw new ElfpackError('USAGE', `SOURCE_DATE_EPOCH=${v}: want whole seconds since 1970`);
  return Number(v);
}

/** The cache of unpacked layers: $XDG_CACHE_HOME/elfpack, else ~/.cache/elfpack. */
function cacheDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'elfpack');
}

/**
 * The archive proxies from the environment, read as curl reads them: http_proxy in lower case only
 * (HTTP_PROXY can be set by a CGI request's Proxy header), https_proxy then HTTPS_PROXY, no_proxy
 * then NO_PROXY; empty is unset. Each URL is checked here so an error names its variable.
 */
async function proxyFromEnv(env: NodeJS.ProcessEnv): Promise<import('./deb/archive-proxy.js').ProxyOptions | undefined> {
  const pick = (...names: string[]) => names.find((n) => env[n]);
  const http = pick('http_proxy');
  const https = pick('https_proxy', 'HTTPS_PROXY');
  const noProxy = pick('no_proxy', 'NO_PROXY');
  if (!http && !https) return undefined;
  const { parseProxyUrl } = await import('./deb/archive-proxy.js');
  for (const n of [http, https]) if (n) parseProxyUrl(env[n]!, n);
  return { ...(http ? { http: env[http] } : {}), ...(https ? { https: env[https] } : {}), ...(noProxy ? { noProxy: env[noProxy] } : {}) };
}

/** "512M", "2GiB", "1048576": bytes, with binary K/M/G/T suffixes. */
function parseSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(v.trim());
  const n = m && Math.floor(Number(m[1]) * 1024 ** ' KMGT'.indexOf(m[2].toUpperCase() || ' '));
  if (!n || !Number.isSafeInteger(n)) throw new ElfpackError('USAGE', `--max-layer-size ${v}: want a size such as 512M, 4G or a number of bytes`);
  return n;
}

/** --dlopen: which priorities of the closure's .note.dlopen entries pack adds. */
function parseDlopenLevel(v: string): DlopenLevel {
  if (!['none', 'required', 'recommended', 'suggested'].includes(v)) throw new ElfpackError('USAGE', `--dlopen ${v}: want required, recommended, suggested or none`);
  return v as DlopenLevel;
}

/** --sbom: which SBOMs are attached (the names are checked here, before any work). */
function parseSbomChoice(v: string): SbomChoice {
  if (!['spdx', 'cyclonedx', 'both', 'none'].includes(v)) throw new ElfpackError('USAGE', `--sbom ${v}: want spdx, cyclonedx, both or none`);
  return v as SbomChoice;
}

const maxLayerSizeHelp = 'bytes a gzip layer of an image root may unpack to (default 8x its compressed size + 256M)';

/** --root: a directory, or an image (docker save tar, OCI archive or layout); --from-image: a builder image in the engine; else the host. */
async function openRoot(io: CliIo, root?: string, fromImage?: string, maxLayerBytes?: number): Promise<Root> {
  if (root && fromImage) throw new ElfpackError('USAGE', '--root and --from-image cannot be used together');
  if (fromImage) return (await import('./root/container-root.js')).openContainerRoot(fromImage, { cacheDir: cacheDir(io.env) });
  if (!root) return new HostRoot('/');
  const found = await (await import('./root/image-root.js')).openPathRoot(resolveHostPath(io.cwd, root), { cacheDir: cacheDir(io.env), maxLayerBytes });
  if (found.kind === 'image' || found.kind === 'directory') return found.root;
  throw new ElfpackError('USAGE', found.kind === 'other' ? 'is neither a directory nor an image tar' : 'no such directory', { path: root });
}

function splitHwcaps(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

/** Lines gathered for one write: thousands of small writes cost more than the work behind them. */
class LineBuffer {
  readonly lines: string[] = [];
  constructor(private write: (s: string) => void) {}
  flushIfLarge(): void {
    if (this.lines.length >= 2048) this.flush();
  }
  flush(): void {
    if (this.lines.length) this.write(this.lines.join('\n') + '\n');
    this.lines.length = 0;
  }
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  let code = 0;
  let debug = argv.includes('--debug');
  const program = new Command('elfpack')
    .description('Turn a Linux program into the smallest container image that still runs it')
    .version(ELFPACK_VERSION, '-V, --version', 'print elfpack\'s version')
    .option('--debug', 'print stack traces on errors')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run elfpack --help for usage)');

  program
    .command('ldd')
    .description('list the shared libraries FILE needs, found as the loader would, without running it')
    .argument('<file...>', 'ELF files (paths inside --root when it is given)')
    .option('--root <dir|image>', 'resolve inside this root filesystem or image tar (FILE paths are inside it too)')
    .option('--library-path <path>', 'LD_LIBRARY_PATH for the search (default: $LD_LIBRARY_PATH, not with --root)')
    .option('--hwcaps <list>', 'glibc-hwcaps subdirectories to search, best first (default: the host CPU\'s without --root, none with it)')
    .option('--no-ld-so-cache', 'ignore the root\'s /etc/ld.so.cache')
    .option('--tree', 'show a tree: who needs whom, and how each library was found')
    .option('--json', 'print a JSON document (schema elfpack.ldd/v1)')
    .option('--from-image <image>', 'resolve inside this image of the Docker engine (FILE paths are inside it)')
    .option('--max-layer-size <size>', maxLayerSizeHelp, parseSize)
    .action(async (files: string[], o: { root?: string; fromImage?: string; libraryPath?: string; hwcaps?: string; ldSoCache: boolean; tree?: boolean; json?: boolean; maxLayerSize?: number }) => {
      const inRoot = !!(o.root || o.fromImage);
      const [{ isNotDynamic, ldd, lddEach, lddLines, lddToJson, problemLines, treeLines }, { hostHwcaps }] = await Promise.all([lddCommand(), import('./resolve/hwcaps.js')]);
      const root = await openRoot(io, o.root, o.fromImage, o.maxLayerSize);
      const opts = {
        libraryPath: o.libraryPath ?? (inRoot ? undefined : io.env.LD_LIBRARY_PATH),
        hwcaps: o.hwcaps !== undefined ? splitHwcaps(o.hwcaps) : inRoot ? [] : hostHwcaps(),
        cwd: inRoot ? '/' : io.cwd,
        useLdSoCache: o.ldSoCache,
        versions: !!o.json,
        dlopenNotes: !!(o.json || o.tree),
      };
      if (o.json) {
        const result = ldd(root, files, opts);
        io.stdout(JSON.stringify(lddToJson(result), null, 2) + '\n');
        code = result.ok ? 0 : 1;
        return;
      }
      // Each file is printed as soon as it is resolved (and then forgotten); stdout is written in
      // large pieces, flushed before anything goes to stderr so the two stay in order. As glibc's
      // ldd, the default format says "not a dynamic executable" on stderr and exits 1 for it.
      const paint = painter(io);
      const out = new LineBuffer(io.stdout);
      const errLines: string[] = [];
      const problems: string[] = [];
      let notDynamic = false;
      const { ok } = lddEach(root, files, opts, (r) => {
        if (o.tree) treeLines(r, paint, out.lines);
        else {
          lddLines(r, files.length > 1, paint, out.lines, errLines);
          notDynamic ||= isNotDynamic(r);
        }
        problemLines(r, problems);
        if (problems.length || errLines.length) {
          out.flush();
          for (const l of errLines) io.stderr(`${l}\n`);
          for (const p of problems) io.stderr(`elfpack: ${p}\n`);
          errLines.length = problems.length = 0;
        } else out.flushIfLarge();
      });
      out.flush();
      code = ok && !notDynamic ? 0 : 1;
    });

  // How to reach a registry: for push and for every image-writing command's --push.
  const registryOptions = (c: Command) => c
    .option('--insecure', 'allow plain HTTP to a registry that is not on localhost')
    .option('--ca-file <pem>', 'trust this CA for the registry\'s certificate')
    // Checked while parsing, so a bad value stops `pack --push` before anything is packed.
    .option('--timeout <seconds>', 'fail a registry request that makes no progress for this long (default 300)', (v: string) => {
      if (!/^\d+(\.\d+)?$/.test(v) || Number(v) <= 0 || Number(v) > 86_400) throw new ElfpackError('USAGE', `--timeout ${v}: want seconds, more than 0 and at most 86400`);
      return Number(v);
    });

  // Options every image-writing command shares.
  const imageOptions = (c: Command) => registryOptions(c
    .option('-o, --out <tar>', 'write the image tar here (default ./NAME.tar)')
    .option('-t, --tag <name:tag>', 'image name and tag (default NAME:latest)')
    .option('--load', 'load the image into the Docker engine (without --out, no file is kept)')
    .option('--push <ref>', 'push the image to a registry ([REGISTRY/]NAME[:TAG]; without --out, no file is kept)')
    .option('--verify', 'run the finished image once in the Docker engine (no network); fail the pack, keeping nothing, unless it exits 0')
    .option('--verify-timeout <seconds>', 'kill the --verify run after this long, which fails it (default 30)', (v: string) => {
      if (!/^\d+(\.\d+)?$/.test(v) || Number(v) <= 0 || Number(v) > 3600) throw new ElfpackError('USAGE', `--verify-timeout ${v}: want seconds, more than 0 and at most 3600`);
      return Number(v);
    }))
    .option('--as <path>', 'the program\'s path in the image')
    .option('--add <src:dest>', 'copy a host file or directory to DEST in the image', collect, [])
    .option('-e, --env <k=v>', 'an environment variable of the image', collect, [])
    .option('-u, --user <user>', 'the user the container runs as (e.g. nonroot, 65532)')
    .option('-w, --workdir <dir>', 'the working directory')
    .option('-p, --port <n[/proto]>', 'an exposed port', collect, [])
    .option('-l, --label <k=v>', 'an image label', collect, [])
    .option('--bare', 'no /etc/passwd, /etc/group, /tmp or CA bundle')
    .option('--ca-certs', 'add the root\'s CA bundle (by default it goes in only when the program can do TLS)')
    .option('--no-package-metadata', 'no package metadata for scanners (status.d, apk db, os-release) in the image')
    .option('--sbom <kind>', 'attach SBOMs as BuildKit attestations: spdx, cyclonedx, both or none (none: no image index around the image)', parseSbomChoice, 'both')
    .option('--sbom-out <dir>', 'also write the SBOMs into this directory (NAME.spdx.json, NAME.cdx.json)')
    .option('--dlopen <level>', 'add what the closure\'s .note.dlopen declares, down to this priority: required, recommended (default), suggested or none', parseDlopenLevel)
    .option('--rootfs <dir>', 'write the image\'s files to this new directory (without --out: instead of a tar)')
    .option('--compression <kind>', 'how layers are stored: gzip, zstd or none (default gzip for a tar or a push, none for the engine alone)', parseCompression)
    .option('--layers <auto|n>', 'auto (default): a base of the loader and libc, the libraries by package, then the program, so images share layers; N: at most N layers (1: one layer)', parseLayers)
    .option('--trace', 'run the program once in a sandbox (bubblewrap + strace) and pack every file it used')
    .option('--trace-run <args>', 'with --trace: arguments of a run (quoted as in a shell; repeat for several runs; default the CMD)', collect, [])
    .option('--trace-env <k=v>', 'with --trace: an environment variable of the traced run only', collect, [])
    .option('--trace-timeout <seconds>', 'with --trace: stop a run with SIGTERM after this long and keep what it used (default 30)', parseSeconds)
    .option('--json', 'print the result as JSON');

  /** The image settings of the flags, as pack's options take them. */
  const imageSettings = (o: PackFlags) => ({
    as: o.as,
    rootfs: o.rootfs && resolveHostPath(io.cwd, o.rootfs),
    tag: o.tag,
    hostRoot: new HostRoot('/'),
    add: o.add.map((a) => splitAdd(a, io.cwd)),
    env: o.env.map((e) => checkPair(e, '--env')),
    user: o.user,
    workdir: o.workdir,
    ports: o.port,
    labels: Object.fromEntries(o.label.map((l) => { const kv = checkPair(l, '--label'); const i = kv.indexOf('='); return [kv.slice(0, i), kv.slice(i + 1)]; })),
    bare: o.bare,
    caCerts: o.caCerts,
    dlopen: o.dlopen,
    packageMetadata: o.packageMetadata,
    compression: o.compression,
    sbom: o.sbom,
    sbomOut: o.sbomOut && resolveHostPath(io.cwd, o.sbomOut),
    layers: o.layers,
    epoch: sourceDateEpoch(io.env),
    onProgress: (line: string) => io.stderr(`elfpack: ${line}\n`),
    trace: traceSettings(o, io),
  });

  const pushOptions = (o: { insecure?: boolean; caFile?: string; timeout?: number }): PushOptions => ({
    insecure: o.insecure,
    caFile: o.caFile && resolveHostPath(io.cwd, o.caFile),
    timeoutMs: o.timeout === undefined ? undefined : Math.round(o.timeout * 1000),
    dockerConfigDir: io.env.DOCKER_CONFIG || join(io.env.HOME || homedir(), '.docker'),
    env: io.env,
    pushedRecord: join(cacheDir(io.env), 'pushed-blobs.json'),
    onProgress: (line) => io.stderr(`elfpack: ${line}\n`),
  });

  const sayPushed = (r: PushResult) => io.stderr(`elfpack: pushed ${r.ref}@${r.digest} (${r.blobs.uploaded} blobs uploaded, ${r.blobs.skipped} already there, ${r.blobs.mounted} mounted)\n`);

  /**
   * --verify, --load and --push as sinks (after --rootfs and the tar, which pack makes from its
   * options), checked before any work: the engine answers, the reference parses.
   */
  const extraSinks = async (o: PackFlags): Promise<Sink[]> => {
    const sinks: Sink[] = [];
    if (o.load || o.verify) {
      sinks.push((await import('./sinks/engine-load.js')).engineSink({
        load: !!o.load,
        verify: o.verify ? {
          timeoutSeconds: o.verifyTimeout,
          onOutput: (lines) => io.stderr(`elfpack: the image's output:\n${lines.map((l) => `  | ${l}\n`).join('')}`),
        } : undefined,
        onLoaded: (refs, tag) => io.stderr(`elfpack: loaded ${refs.join(', ') || tag} into the engine\n`),
      }));
    }
    if (o.push) sinks.push((await import('./sinks/registry.js')).registrySink(o.push, pushOptions(o)));
    if (sinks.length) await (await import('./sinks/sink.js')).checkSinks(sinks);
    return sinks;
  };

  imageOptions(program
    .command('pack', { isDefault: true })
    .description('pack BIN and exactly what its loader needs into a FROM-scratch image (the default command)')
    .argument('<bin>', 'the program (a path inside --root when it is given)')
    .argument('[args...]', 'after "--": the image\'s CMD'))
    .option('--root <dir|image>', 'take the program and its libraries from this root filesystem or image tar')
    .option('--from-image <image>', 'take the program and its libraries from this image of the Docker engine (a builder)')
    .option('--include <path>', 'copy a file or directory of the root as it is; ELF files in it get their libraries too', collect, [])
    .option('--include-all <path>', 'with --trace: copy all of this path, not only what the run used', collect, [])
    .option('--exclude <glob>', 'leave matching paths out of what --include brings ("**/test/**")', collect, [])
    .option('--tzdata', 'add /usr/share/zoneinfo')
    .option('--no-runtime-deps', 'do not add what glibc loads without DT_NEEDED (libgcc_s, NSS)')
    .option('--gconv <charsets>', 'add glibc\'s converters for these charsets (CHARSET[,CHARSET…], repeatable; "all": every one)', collect, [])
    .option('--library-path <path>', 'LD_LIBRARY_PATH for the search')
    .option('--no-ld-so-cache', 'ignore the root\'s /etc/ld.so.cache')
    .option('--max-layer-size <size>', maxLayerSizeHelp, parseSize)
    .option('--also <bin>', 'another program of the root, at its own path with its libraries (repeat for a tool set; one closure for all)', collect, [])
    .option('--entrypoint <path>', 'the image\'s ENTRYPOINT when it is not BIN: a path in the image (an --add\'ed script BIN runs; checked like BIN)')
    .action(async (bin: string, args: string[], o: PackFlags) => {
      const { imageNameFor, pack, packToJson, renderPackSummary } = await packCommand();
      const name = imageNameFor(o.entrypoint ?? o.as ?? bin);
      const sinks = await extraSinks(o);
      const root = await openRoot(io, o.root, o.fromImage, o.maxLayerSize);
      const inRoot = !!(o.root || o.fromImage);
      const result = await pack({
        ...imageSettings(o),
        root,
        program: bin,
        cwd: inRoot ? '/' : io.cwd,
        // Without --out: ./NAME.tar, unless the image goes elsewhere (then no file is kept).
        out: o.out ? resolveHostPath(io.cwd, o.out) : o.rootfs || sinks.length ? undefined : resolveHostPath(io.cwd, `${name}.tar`),
        sinks,
        include: o.include,
        includeAll: o.includeAll,
        exclude: o.exclude,
        cmd: args,
        tzdata: o.tzdata,
        runtimeDeps: o.runtimeDeps,
        gconv: splitList(o.gconv ?? []),
        libraryPath: o.libraryPath,
        useLdSoCache: o.ldSoCache,
        entrypoint: o.entrypoint,
        also: o.also,
      });
      if (result.pushed) sayPushed(result.pushed);
      if (o.json) io.stdout(JSON.stringify(packToJson(result), null, 2) + '\n');
      else for (const line of renderPackSummary(result, painter(io))) io.stderr(line + '\n');
    });

  imageOptions(program
    .command('go')
    .description('build a Go main package static (CGO_ENABLED=0) for each platform and pack it on scratch')
    .argument('[pkg]', 'the package to build, as go build takes it; a pattern (./cmd/...) packs each main package as NAME:TAG', '.')
    .argument('[goflags...]', 'after "--": more go build flags'))
    .option('--platform <list>', 'OS/ARCH[/VARIANT], comma-separated or repeated: several make one multi-platform image (default: the host\'s)', collect, [])
    .option('--cgo', 'build with cgo and pack the libraries it needs (host platform only)')
    .option('--tzdata', 'embed the time zone database (-tags timetzdata)')
    .option('--cmd <arg>', 'an argument of the image\'s CMD (repeat for several)', collect, [])
    .action(async (pkg: string, goflags: string[], o: PackFlags & { platform: string[]; cgo?: boolean; cmd: string[] }) => {
      const [{ goToJson }, { goPackMany, isGoPattern }, { packToJson, renderPackSummary }] = await Promise.all([import('./commands/go.js'), import('./commands/go-many.js'), packCommand()]);
      // A pattern packs each main package as REPO/NAME:TAG: its sinks are made per image, and
      // checked once first (the engine answers, the repository parses).
      const many = isGoPattern(pkg);
      const sinksOfImage = (name: string, tag: string) => extraSinks({ ...o, push: o.push && `${o.push}/${name}:${tag.slice(tag.lastIndexOf(':') + 1)}` });
      const sinks = many ? (await sinksOfImage('x', 'x:latest'), []) : await extraSinks(o);
      const results = await goPackMany({
        ...imageSettings(o),
        pkg,
        cwd: io.cwd,
        out: o.out && resolveHostPath(io.cwd, o.out),
        sinks,
        ...(many ? { sinksFor: sinksOfImage } : {}),
        platforms: o.platform.flatMap((p) => p.split(',')).map((p) => p.trim()).filter(Boolean),
        cgo: o.cgo,
        tzdata: o.tzdata,
        buildFlags: goflags,
        cmd: o.cmd,
        goEnv: io.env,
        onGoOutput: (t) => io.stderr(t),
      });
      for (const result of results) if (result.pushed) sayPushed(result.pushed);
      if (o.json) {
        const docs = results.map((r) => goToJson(r, packToJson));
        io.stdout(JSON.stringify(many ? { schema: 'elfpack.go-many/v1', programs: docs } : docs[0], null, 2) + '\n');
      } else {
        for (const result of results) {
          for (const r of result.images) for (const line of renderPackSummary(r, painter(io))) io.stderr(line + '\n');
          if (result.indexDigest) io.stderr(`image index ${result.indexDigest} (${result.images.length} platform${result.images.length === 1 ? '' : 's'}${result.images[0].sbom ? ', with SBOM attestations' : ''})${result.out ? ` → ${result.out}` : ''}\n`);
          if (result.verified) io.stderr(`verified: exited ${result.verified.exitCode} in ${result.verified.seconds.toFixed(1)} s\n`);
        }
      }
    });

  imageOptions(program
    .command('deb')
    .description('an image straight from Debian packages, for any architecture, with no builder: a minimal install as apt would choose it, from a verified archive, then only what the program needs')
    .argument('<package...>', 'Debian package names (after "--": the image\'s CMD)'))
    .option('--plan', 'print the packages apt would install (--no-install-recommends, into an empty root) and stop: nothing is downloaded')
    .option('--entrypoint <bin>', 'the program to pack, a path in the packages\' root (default: /usr/bin/NAME of the first package, else its one program in /usr/bin)')
    .option('--suite <name>', 'the suite, read with its -updates and -security as the host\'s apt sources list them (default: the host\'s codename on Debian, else bookworm); repeated: exactly those suites', collect, [])
    .option('--arch <arch>', 'a Debian architecture: amd64, arm64, armhf, i386, ppc64el, s390x, riscv64… (default the host\'s)')
    .option('--mirror <url>', 'the archive (default: the host\'s apt source for the suite)')
    .option('--keyring <file>', 'trust this keyring for the suites\' signatures (repeatable; default each source\'s Signed-By, else apt\'s trusted keyrings, else Debian\'s)', collect, [])
    .option('--insecure-no-verify', 'use the archive without checking its signature (said loudly)')
    .option('--exclude-package <name>', 'leave this package out, and what only it would bring (repeatable)', collect, [])
    .option('--include <path>', 'copy a file or directory of the packages\' root as it is', collect, [])
    .option('--exclude <glob>', 'leave matching paths out of what --include brings ("**/test/**")', collect, [])
    .option('--tzdata', 'add /usr/share/zoneinfo')
    .action(async (words: string[], o: PackFlags & { plan?: boolean; suite: string[]; arch?: string; mirror?: string; keyring: string[]; insecureNoVerify?: boolean; excludePackage: string[] }) => {
      // Commander puts what follows "--" among the packages: split it back off as the CMD.
      const dash = argv.includes('--') ? Math.max(0, words.length - argv.slice(argv.indexOf('--') + 1).length) : words.length;
      const pkgs = words.slice(0, dash);
      const cmd = words.slice(dash);
      const planOpts = {
        proxy: await proxyFromEnv(io.env),
        packages: pkgs, suite: o.suite.length ? o.suite : undefined, arch: o.arch, mirror: o.mirror, keyring: o.keyring.map((k) => resolveHostPath(io.cwd, k)),
        insecureNoVerify: o.insecureNoVerify, excludePackages: o.excludePackage, cacheDir: join(cacheDir(io.env), 'deb'),
        onWarning: (line: string) => io.stderr(`elfpack: ${line}\n`), onProgress: (line: string) => io.stderr(`elfpack: ${line}\n`),
      };
      if (o.plan) {
        const { planDeb, renderDebPlan, debPlanToJson } = await import('./commands/deb-plan.js');
        const { plan, archives } = await planDeb(planOpts);
        await archives.close();
        if (o.json) io.stdout(JSON.stringify(debPlanToJson(plan), null, 2) + '\n');
        else for (const line of renderDebPlan(plan)) io.stdout(line + '\n');
        return;
      }
      const [{ debPack, packageNameOf }, { renderDebPlan }, { packToJson, renderPackSummary, imageNameFor }] = await Promise.all([import('./commands/deb.js'), import('./commands/deb-plan.js'), packCommand()]);
      const sinks = await extraSinks(o);
      const { plan, result } = await debPack({
        ...imageSettings(o), ...planOpts,
        program: o.entrypoint,
        out: o.out ? resolveHostPath(io.cwd, o.out) : o.rootfs || sinks.length ? undefined : resolveHostPath(io.cwd, `${imageNameFor(o.entrypoint ?? packageNameOf(pkgs[0]))}.tar`),
        sinks, include: o.include, exclude: o.exclude, cmd, tzdata: o.tzdata,
      });
      if (result.pushed) sayPushed(result.pushed);
      if (o.json) io.stdout(JSON.stringify({ ...packToJson(result), debPlan: plan }, null, 2) + '\n');
      else {
        for (const line of renderDebPlan(plan)) io.stderr(line + '\n');
        for (const line of renderPackSummary(result, painter(io))) io.stderr(line + '\n');
      }
    });

  registryOptions(program
    .command('push')
    .description('push an image tar written by elfpack to a registry (OCI distribution API)')
    .argument('<tar>', 'the image tar')
    .argument('<ref>', '[REGISTRY/]NAME[:TAG]'))
    .option('--json', 'print {ref, digest, blobs} as JSON (schema elfpack.push/v1)')
    .action(async (tar: string, ref: string, o: { insecure?: boolean; caFile?: string; json?: boolean }) => {
      const path = resolveHostPath(io.cwd, tar);
      if (!statSync(path, { throwIfNoEntry: false })?.isFile()) throw new ElfpackError('USAGE', 'no such image tar', { path: tar });
      const r = await (await import('./sinks/registry.js')).pushArchive(path, ref, pushOptions(o));
      sayPushed(r);
      if (o.json) io.stdout(JSON.stringify({ schema: 'elfpack.push/v1', ...r }, null, 2) + '\n');
      else io.stdout(`${r.digest}\n`);
    });

  program
    .command('doctor')
    .description('explain why a container would fail to start ("no such file or directory", "exec format error") and how to fix it')
    .argument('[target]', 'an image tar (docker save, OCI archive), an OCI layout, an image of the Docker engine, or a directory with --entrypoint')
    .argument('[args...]', 'after "--": the arguments (CMD) to check instead of the image\'s')
    .option('--from-image <image>', 'examine this image of the Docker engine (instead of TARGET)')
    .option('--also <bin>', 'another program of the root, at its own path with its libraries (repeat for a tool set; one closure for all)', collect, [])
    .option('--entrypoint <path>', 'the program to check, as docker run --entrypoint (required for a directory)')
    .option('--platform <os/arch>', 'the platform the image is for (default: the image\'s own; none for a directory)')
    .option('--json', 'print the findings as JSON (schema elfpack.doctor/v1)')
    .option('--max-layer-size <size>', maxLayerSizeHelp, parseSize)
    .action(async (target: string | undefined, args: string[], o: { fromImage?: string; entrypoint?: string; platform?: string; json?: boolean; maxLayerSize?: number }) => {
      if (!!target === !!o.fromImage) throw new ElfpackError('USAGE', 'doctor: give a TARGET or --from-image IMAGE (one of them)');
      const name = (target ?? o.fromImage)!;
      const [{ doctor, doctorToJson, renderDoctor }, { openDoctorTarget }] = await Promise.all([doctorCommand(), import('./commands/doctor-target.js')]);
      const t = await openDoctorTarget(name, { cacheDir: cacheDir(io.env), cwd: io.cwd, engine: !!o.fromImage, entrypoint: o.entrypoint, cmd: args, platform: o.platform, maxLayerBytes: o.maxLayerSize });
      const report = doctor(t.root, t.config, { target: name });
      if (o.json) io.stdout(JSON.stringify(doctorToJson(report), null, 2) + '\n');
      else io.stdout(renderDoctor(report, painter(io)).join('\n') + '\n');
      code = report.starts ? 0 : 1;
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    debug ||= !!io.env.ELFPACK_DEBUG;
    // One line whatever the message holds: describe() escapes names; this is the last net.
    if (err instanceof ElfpackError) {
      io.stderr(`elfpack: ${escapeControls(err.describe())}\n`);
      if (debug && err.stack) io.stderr(err.stack + '\n');
      return err.code === 'USAGE' ? 2 : 1;
    }
    // The operating system refusing something we did not wrap (ENOSPC, EACCES…) is said as it is;
    // anything else is a bug in elfpack, and says so (the fuzzer looks for this line).
    const e = err as NodeJS.ErrnoException;
    const system = typeof e?.code === 'string' && typeof e?.syscall === 'string';
    io.stderr(`elfpack: ${system ? '' : 'internal error: '}${escapeControls(String(e?.message ?? err))}${system || debug ? '' : ' (run with --debug for the stack)'}\n`);
    if (debug && e?.stack) io.stderr(e.stack + '\n');
    return 1;
  }
}
