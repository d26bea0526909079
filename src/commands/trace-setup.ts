// What a pack's traced run needs from the pack: the root as a host directory (an image's files
// unpacked for the run), the user as numbers, the environment and home the image will have, and
// whether the program needs qemu-user. Then runs closure/trace.ts.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ElfpackError } from '../errors.js';
import { traceProgram, emulatorFor, type TraceResult } from '../closure/trace.js';
import type { ElfFile } from '../elf/read-elf.js';
import { HostRoot } from '../root/host-root.js';
import { ImageRoot } from '../root/image-root.js';
import type { Root } from '../root/root.js';
import { unpackRoot } from '../root/unpack-root.js';

export interface TraceSettings {
  /** Argument lists, one run each (default: one run with the image's CMD). */
  runs?: string[][];
  /** KEY=VALUE added to the run's environment (after the image's --env). */
  env?: string[];
  /** Seconds before a run is stopped with SIGTERM (default 30). */
  timeoutSeconds?: number;
  /** The PATH bwrap and strace are found on (the caller's; the library reads no environment). */
  toolPath: string;
  /** Whether elfpack runs as root (the sandbox then runs as uid 65534 outside). */
  asRoot: boolean;
  /** A host directory for the trace's log and, for an image root, its unpacked files. */
  tmpDir: string;
  /** The program's output during the run. */
  onOutput?: (text: string) => void;
  /** The host's binfmt_misc directory (tests). */
  binfmtDir?: string;
}

export interface TraceTarget {
  root: Root;
  /** The program's path in the root, as it is run. */
  program: string;
  elf: ElfFile;
  head: Buffer;
  cmd: string[];
  env: string[];
  user?: string;
  workdir?: string;
}

/** The users every elfpack image has (extras.ts), then the root's own /etc/passwd. */
const KNOWN_USERS: Record<string, { uid: number; gid: number; home: string }> = {
  root: { uid: 0, gid: 0, home: '/root' },
  nonroot: { uid: 65532, gid: 65532, home: '/home/nonroot' },
  nobody: { uid: 65534, gid: 65534, home: '/nonexistent' },
};

export async function traceTarget(t: TraceTarget, s: TraceSettings): Promise<TraceResult> {
  const user = runUser(t.user);
  if (!isHostMachine(t.elf) && !emulatorFor(t.head, s.binfmtDir ?? '/proc/sys/fs/binfmt_misc')) {
    throw new ElfpackError('TRACE_UNAVAILABLE', `--trace runs the program, which needs the host's architecture (${process.arch}) or qemu-user registered with binfmt_misc for ${t.elf.machineInfo?.name ?? `machine ${t.elf.machine}`}`, { path: t.program, step: 'trace' });
  }
  let rootDir: string;
  let unpacked: string | undefined;
  if (t.root instanceof HostRoot) rootDir = t.root.dir;
  else if (t.root instanceof ImageRoot) {
    // An image's files are unpacked for the run and removed after: the same sandbox and tracer as a
    // directory root, with no engine needed and no ptrace capability to grant inside one.
    unpacked = mkdtempSync(join(s.tmpDir, 'elfpack-root-'));
    chmodSync(unpacked, 0o755); // the sandbox's unprivileged user must reach it
    unpackRoot(t.root, unpacked);
    rootDir = unpacked;
  } else throw new ElfpackError('USAGE', `--trace cannot run a program from ${t.root.label}`, { path: t.program, step: 'trace' });
  const env = [`PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, `HOME=${user.home}`, ...t.env, ...(s.env ?? [])];
  try {
    return await traceProgram({
      rootDir, program: t.program, runs: s.runs?.length ? s.runs : [t.cmd], env: lastWins(env), workdir: t.workdir ?? '/',
      uid: user.uid, gid: user.gid, home: user.home, timeoutSeconds: s.timeoutSeconds, toolPath: s.toolPath, asRoot: s.asRoot,
      programHead: isHostMachine(t.elf) ? undefined : t.head, binfmtDir: s.binfmtDir, tmpDir: s.tmpDir, onOutput: s.onOutput,
    });
  } finally {
    if (unpacked) rmSync(unpacked, { recursive: true, force: true });
  }
}

/** --user as the image takes it: a name of the image's passwd, or UID[:GID]. */
function runUser(user?: string): { uid: number; gid: number; home: string } {
  if (!user) return KNOWN_USERS.root;
  const [u, g] = user.split(':');
  const known = KNOWN_USERS[u];
  if (known) return g === undefined ? known : { ...known, gid: numeric(g, user) };
  const uid = numeric(u, user);
  const byId = Object.values(KNOWN_USERS).find((k) => k.uid === uid);
  return { uid, gid: g === undefined ? byId?.gid ?? uid : numeric(g, user), home: byId?.home ?? '/' };
}

function numeric(v: string, user: string): number {
  if (!/^\d{1,10}$/.test(v) || Number(v) > 0xfffffffe) throw new ElfpackError('USAGE', `--user ${user}: --trace runs as root, nonroot, nobody or a numeric UID[:GID]`);
  return Number(v);
}

/** KEY=VALUE lines with one value per key, the last given. */
function lastWins(env: string[]): string[] {
  const m = new Map<string, string>();
  for (const e of env) m.set(e.slice(0, e.indexOf('=')), e);
  return [...m.values()];
}

/** e_machine values this host runs without an emulator (x86-64 runs i386 too). */
const NATIVE: Record<string, number[]> = { x64: [62, 3], ia32: [3], arm64: [183, 40], arm: [40], s390x: [22], ppc64: [21], riscv64: [243], loong64: [258] };

function isHostMachine(elf: ElfFile): boolean {
  return (NATIVE[process.arch] ?? []).includes(elf.machine);
}
