// `--trace`: runs the program in a sandbox (sandbox.ts) under strace(1) and returns every path it
// used, read from strace's log as the run goes (strace-log.ts). The program runs, so this happens
// only when the user asks; the root is read-only and the network absent.
import { spawn } from 'node:child_process';
import { accessSync, chmodSync, lstatSync, closeSync, constants, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import { ElfpackError } from '../errors.js';
import { sandboxArgs } from './sandbox.js';
import { StraceLog, type TracedPath } from './strace-log.js';

export interface TraceOptions {
  /** Host directory holding the root ("/" for the host). */
  rootDir: string;
  /** The program, a path inside the root. */
  program: string;
  /** One argument list per run (at least one). */
  runs: string[][];
  /** The run's environment, KEY=VALUE (the image's env and --trace-env). */
  env: string[];
  workdir: string;
  uid: number;
  gid: number;
  /** The user's home: a private tmpfs in the sandbox, so programs that write there run. */
  home?: string;
  /** Seconds before a run is stopped with SIGTERM (what it used so far is kept); default 30. */
  timeoutSeconds?: number;
  /** The PATH bwrap, strace and setpriv are looked up in. */
  toolPath: string;
  /** Whether elfpack runs as root: the sandbox then drops to uid 65534 outside. */
  asRoot: boolean;
  /** The first 20 bytes of the program, to find qemu's binfmt_misc entry for a foreign one. */
  programHead?: Buffer;
  /** The host's binfmt_misc directory (default /proc/sys/fs/binfmt_misc). */
  binfmtDir?: string;
  /** Where the log is kept during the run. */
  tmpDir: string;
  /** The program's output, as it comes. */
  onOutput?: (text: string) => void;
}

export interface TraceRun {
  args: string[];
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** The last bytes of what the run printed (stdout and stderr). */
  outputTail: string;
}

export interface TraceResult {
  runs: TraceRun[];
  /** Every path the runs used, sorted, without /proc, /sys, /dev, private dirs and what they wrote. */
  used: TracedPath[];
  /** The sandbox's private writable directories (/tmp, /run, the home) the run used or wrote in: the image needs them to exist. */
  scratchDirs: string[];
  /** Writes the read-only root refused, which a container would have allowed (the run may have gone another way). */
  readOnlyDenied: string[];
  /** A note when the program ran under qemu-user. */
  emulator?: string;
}

const OUTPUT_TAIL = 16 * 1024;
/** strace's log is read as it grows; a run whose log passes this is stopped (a busy server). */
const MAX_LOG_BYTES = 2 * 1024 ** 3;
/** After SIGTERM, a run gets this long to exit before it is killed. */
const GRACE_MS = 5000;
/** Paths the sandbox itself provides: what the program finds there is not the root's. */
const PRIVATE = ['/proc', '/sys', '/dev', '/tmp'];

/** The tools a trace needs, found on `path`: a one-line error names the Debian package of a missing one. */
export function findTraceTools(path: string, asRoot: boolean): { bwrap: string; strace: string; setpriv?: string } {
  const find = (name: string, pkg: string) => {
    for (const dir of path.split(':').filter(Boolean)) {
      const p = join(dir, name);
      try {
        accessSync(p, constants.X_OK);
        if (statSync(p).isFile()) return p;
      } catch { /* next */ }
    }
    throw new ElfpackError('TRACE_UNAVAILABLE', `--trace needs ${name}, which is not installed (Debian package ${pkg})`, { step: 'trace' });
  };
  return { bwrap: find('bwrap', 'bubblewrap'), strace: find('strace', 'strace'), setpriv: asRoot ? find('setpriv', 'util-linux') : undefined };
}

export async function traceProgram(o: TraceOptions): Promise<TraceResult> {
  const tools = findTraceTools(o.toolPath, o.asRoot);
  const binds: { src: string; dest: string }[] = [];
  const emulator = o.programHead ? emulatorFor(o.programHead, o.binfmtDir ?? '/proc/sys/fs/binfmt_misc') : undefined;
  if (emulator?.bind) binds.push(emulator.bind);
  const logDir = mkdtempSync(join(o.tmpDir, 'elfpack-trace-'));
  let program = o.program;
  if (o.asRoot && !reachableByOthers(o.rootDir === '/' ? dirname(program) : o.rootDir)) {
    // The sandbox's user outside (uid 65534) cannot reach it. A root directory must be made
    // reachable; a host program alone (a build output in a private directory) is run from a copy.
    if (o.rootDir !== '/') {
      rmSync(logDir, { recursive: true, force: true });
      throw new ElfpackError('TRACE_UNAVAILABLE', 'the sandbox runs as uid 65534 outside, which cannot reach this root: make it and its parent directories searchable by others (chmod o+x), or run elfpack as a normal user', { path: o.rootDir, step: 'trace' });
    }
    chmodSync(logDir, 0o755);
    mkdirSync(join(logDir, 'program'), { mode: 0o755 });
    program = join(logDir, 'program', basename(program));
    copyFileSync(o.program, program);
  }
  // A program kept under /tmp (a build directory) would be hidden by the private /tmp: its directory
  // is bound in. Like the rest of /tmp, nothing there is packed from the trace (the closure has it).
  const programDir = dirname(program);
  if (o.rootDir === '/' && programDir.startsWith('/tmp/')) binds.push({ src: programDir, dest: programDir });
  // Writable and empty, as in a container: /tmp, /run (a pid file, a socket) and the user's home. A
  // /run that is a link in the root is left as it is.
  const runIsDir = lstatSync(join(o.rootDir, 'run'), { throwIfNoEntry: false })?.isSymbolicLink() !== true;
  const tmpfs = ['/tmp', ...(runIsDir ? ['/run'] : []), ...(o.home && o.home !== '/' && o.home !== '/nonexistent' && o.home !== '/run' ? [o.home] : [])];
  const hidden = [...PRIVATE, ...tmpfs, ...(emulator?.bind ? [emulator.bind.dest] : [])];
  const inside = (p: string, dir: string) => p === dir || p.startsWith(`${dir}/`);
  // A working directory under one of those tmpfs would be hidden by it (bwrap: "Can't chdir"): the
  // root's own is bound in read-only, as a program under /tmp is, or made empty there when the root
  // has none, as an engine makes a missing WORKDIR. Like the rest of the tmpfs, nothing there is packed.
  const dirs: string[] = [];
  const wd = posix.resolve('/', o.workdir);
  if (tmpfs.some((t) => inside(wd, t) && wd !== t) && !binds.some((b) => inside(wd, b.dest))) {
    // Resolved on the host, it must stay inside the root (a link there may point anywhere).
    const own = realDir(join(o.rootDir, wd));
    const rootReal = realpathSync(o.rootDir);
    if (own && (rootReal === '/' || inside(own, rootReal))) binds.push({ src: own, dest: wd });
    else dirs.push(wd);
  }
  const runs: TraceRun[] = [];
  const used = new Map<string, TracedPath>();
  const written = new Set<string>();
  const readOnlyDenied = new Set<string>();
  try {
    for (const [i, args] of o.runs.entries()) {
      const log = new StraceLog(program, o.workdir);
      const bwrapArgs = sandboxArgs({ rootDir: o.rootDir, program, args, env: o.env, workdir: o.workdir, uid: o.uid, gid: o.gid, binds, tmpfs, dirs, bwrap: tools.bwrap });
      const logFile = join(logDir, `.run-${i}.log`);
      const run = await runTraced(o, tools, bwrapArgs, logFile, log, args);
      runs.push(run);
      if (!log.started) {
        const why = log.execError ?? (run.outputTail.trim().split('\n').pop() || `the sandbox exited ${run.exitCode ?? run.signal}`);
        throw new ElfpackError('TRACE_FAILED', `the traced run did not start the program: ${why}`, { path: o.program, step: 'trace' });
      }
      if (log.limitHit) throw new ElfpackError('IMAGE_LIMIT', 'the traced run used more than a million distinct paths', { path: o.program, step: 'trace' });
      for (const p of log.written) written.add(p);
      for (const p of log.readOnlyDenied) readOnlyDenied.add(p);
      for (const [path, u] of log.used) if (!used.has(path)) used.set(path, u);
    }
  } finally {
    rmSync(logDir, { recursive: true, force: true });
  }
  const scratchDirs = tmpfs.filter((t) => [...used.keys(), ...written].some((p) => inside(p, t)));
  const kept = [...used.values()]
    .filter((u) => !written.has(u.path) && !hidden.some((h) => inside(u.path, h)))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { runs, used: kept, scratchDirs, readOnlyDenied: [...readOnlyDenied].sort(), emulator: emulator?.note };
}

function runTraced(o: TraceOptions, tools: ReturnType<typeof findTraceTools>, bwrapArgs: string[], logFile: string, log: StraceLog, args: string[]): Promise<TraceRun> {
  const strace = ['-f', '-qq', '-y', '-o', logFile, '-e', 'trace=%file,%process,getdents,getdents64,fchdir'];
  const command = tools.setpriv
    ? [...strace, tools.setpriv, '--reuid', '65534', '--regid', '65534', '--clear-groups', tools.bwrap, ...bwrapArgs]
    : [...strace, tools.bwrap, ...bwrapArgs];
  return new Promise((resolve, reject) => {
    const child = spawn(tools.strace, command, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { PATH: o.toolPath } });
    let tail = '';
    const keep = (d: Buffer) => {
      const s = d.toString();
      o.onOutput?.(s);
      tail = (tail + s).slice(-OUTPUT_TAIL);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let offset = 0;
    let partial = '';
    let timedOut = false;
    let fd: number | undefined;
    const readLog = () => {
      try {
        fd ??= openSync(logFile, 'r');
      } catch {
        return; // not created yet
      }
      const buf = Buffer.allocUnsafe(1 << 20);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, offset);
        if (n <= 0) break;
        offset += n;
        const lines = (partial + buf.toString('utf8', 0, n)).split('\n');
        partial = lines.pop()!;
        for (const l of lines) log.line(l);
      }
      if (offset > MAX_LOG_BYTES && !timedOut) stop('the trace log passed 2 GiB');
    };
    const stop = (why: string) => {
      timedOut = true;
      keep(Buffer.from(`\nelfpack: ${why}: stopping the run with SIGTERM\n`));
      const pid = log.starterPid;
      try {
        if (pid) process.kill(pid, 'SIGTERM');
        else process.kill(-child.pid!, 'SIGTERM');
      } catch { /* already gone */ }
      setTimeout(() => {
        try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ }
      }, GRACE_MS).unref();
    };
    const poll = setInterval(readLog, 200);
    const timer = setTimeout(() => stop(`still running after ${o.timeoutSeconds ?? 30} s`), (o.timeoutSeconds ?? 30) * 1000);
    child.on('error', (err) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new ElfpackError('TRACE_FAILED', `cannot start strace: ${err.message}`, { step: 'trace' }));
    });
    child.on('close', (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      readLog();
      if (partial) log.line(partial);
      if (fd !== undefined) closeSync(fd);
      resolve({ args, exitCode: code, signal, timedOut, outputTail: tail });
    });
  });
}

/** Whether a user who is neither owner nor group could reach `dir`: every directory on the way searchable by others. */
function reachableByOthers(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    try {
      if ((statSync(d).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    if (d === '/') return true;
  }
}

/**
 * The qemu-user entry of binfmt_misc that runs a foreign program, as the kernel matches it
 * (magic and mask at an offset); its interpreter is bound into the sandbox unless the entry has
 * the F flag (the kernel then holds it open). Undefined for the host's own machine.
 */
export function emulatorFor(head: Buffer, binfmtDir: string): { note: string; bind?: { src: string; dest: string } } | undefined {
  let names: string[];
  try {
    names = readdirSync(binfmtDir);
  } catch {
    names = [];
  }
  for (const name of names) {
    if (name === 'register' || name === 'status') continue;
    let text: string;
    try {
      text = readFileSync(join(binfmtDir, name), 'utf8');
    } catch {
      continue;
    }
    if (!/^enabled$/m.test(text)) continue;
    const field = (k: string) => new RegExp(`^${k} (.*)$`, 'm').exec(text)?.[1]?.trim();
    const magic = field('magic');
    const interp = field('interpreter');
    if (!magic || !interp) continue;
    const m = Buffer.from(magic, 'hex');
    const mask = field('mask') ? Buffer.from(field('mask')!, 'hex') : Buffer.alloc(m.length, 0xff);
    const at = Number(field('offset') ?? 0);
    if (head.length < at + m.length) continue;
    let match = true;
    for (let i = 0; i < m.length && match; i++) match = ((head[at + i] & (mask[i] ?? 0xff)) === (m[i] & (mask[i] ?? 0xff)));
    if (!match) continue;
    const fixed = /^flags: .*F/m.test(text);
    let src = interp;
    try {
      src = realpathSync(interp);
    } catch { /* the kernel would fail the same way */ }
    return { note: `ran under ${interp} (binfmt_misc ${name})`, bind: fixed ? undefined : { src, dest: interp } };
  }
  return undefined;
}

/** The directory at `path` with every link resolved, or undefined when there is none. */
function realDir(path: string): string | undefined {
  try {
    const real = realpathSync(path);
    return statSync(real).isDirectory() ? real : undefined;
  } catch {
    return undefined;
  }
}
