// The sandbox a traced run happens in: bubblewrap(1) over a root directory, read-only, with no
// network, its own /tmp, /dev and /proc, as the image's user inside and an unprivileged user
// outside. Builds the command; trace.ts runs it under strace.
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ElfpackError } from '../errors.js';

export interface SandboxOptions {
  /** Host directory holding the root ("/" for the host itself). */
  rootDir: string;
  program: string;
  args: string[];
  /** KEY=VALUE lines; nothing else of elfpack's environment goes in. */
  env: string[];
  workdir: string;
  uid: number;
  gid: number;
  /** Host files or directories bound read-only at a path of the sandbox (a program under /tmp, qemu). */
  binds: { src: string; dest: string }[];
  /** Directories given an empty private tmpfs (/tmp always; the user's home). */
  tmpfs: string[];
  /** Empty directories made inside those tmpfs (a working directory the root does not have there). */
  dirs?: string[];
  /** The bwrap program. */
  bwrap: string;
}

/** Names of the root's top level the sandbox provides itself. */
const PROVIDED = new Set(['dev', 'proc', 'sys', 'tmp']);
/** Mount points nest no deeper than this (a qemu interpreter path is four levels). */
const MAX_MOUNT_DEPTH = 16;

/** bwrap's arguments (after the program name) for one run. */
export function sandboxArgs(o: SandboxOptions): string[] {
  const a = ['--unshare-all', '--unshare-user', '--die-with-parent', '--new-session', '--uid', String(o.uid), '--gid', String(o.gid)];
  // Everything bound or mounted below the root's own directories needs its mount point made on a
  // writable layer: such a directory is rebuilt from its entries (bwrap cannot mkdir in a read-only bind).
  const inner = [...o.binds.map((b) => b.dest), ...o.tmpfs].filter((p) => !PROVIDED.has(p.split('/')[1]));
  mirror(a, o.rootDir, '/', inner, 0);
  a.push('--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp');
  for (const t of o.tmpfs) if (t !== '/tmp') a.push('--tmpfs', t);
  for (const d of o.dirs ?? []) a.push('--dir', d);
  for (const b of o.binds) a.push('--ro-bind', b.src, b.dest);
  a.push('--clearenv');
  for (const e of o.env) {
    const i = e.indexOf('=');
    a.push('--setenv', e.slice(0, i), e.slice(i + 1));
  }
  a.push('--chdir', o.workdir, '--', o.program, ...o.args);
  return a;
}

function mirror(a: string[], hostDir: string, at: string, inner: string[], depth: number): void {
  if (depth > MAX_MOUNT_DEPTH) throw new ElfpackError('USAGE', 'a sandbox mount point is nested too deeply', { path: at });
  let names: string[];
  try {
    names = readdirSync(hostDir).sort();
  } catch (err) {
    throw new ElfpackError('IO', `cannot list the root for the sandbox: ${(err as Error).message}`, { path: hostDir, step: 'trace' });
  }
  for (const name of names) {
    if (depth === 0 && PROVIDED.has(name)) continue;
    const src = join(hostDir, name);
    const dest = at === '/' ? `/${name}` : `${at}/${name}`;
    const st = lstatSync(src, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isSymbolicLink()) a.push('--symlink', readlinkSync(src), dest);
    else if (st.isDirectory()) {
      const below = inner.filter((p) => p.startsWith(`${dest}/`));
      if (below.length && !inner.includes(dest)) {
        a.push('--dir', dest);
        mirror(a, src, dest, below, depth + 1);
      } else a.push('--ro-bind', src, dest);
    } else if (st.isFile()) a.push('--ro-bind', src, dest);
  }
}
