// `elfpack doctor`: would this image start? From its config (Entrypoint, Cmd, Env, WorkingDir,
// User, platform) and its files, every reason exec would fail with "no such file or directory",
// "exec format error" or "permission denied", each with its fix. Schema "elfpack.doctor/v1".
import { escapeControls, escapeName } from '../escape.js';
import { Resolver } from '../resolve/resolver.js';
import { tryResolveInRoot } from '../root/resolve-path.js';
import type { Root } from '../root/root.js';
import { DEFAULT_PATH, envValue, type ImageConfig } from '../oci/config.js';
import { platformName } from '../oci/platform.js';
import { examineExec, lookPath, type ExecContext, type Finding } from './doctor-exec.js';
import type { Painter } from './ldd.js';

export type { Finding, FindingCode } from './doctor-exec.js';

export interface DoctorOptions {
  /** How to name the target in messages and suggested commands. */
  target: string;
}

export interface DoctorReport {
  target: string;
  platform?: string;
  /** The argv the container would exec: Entrypoint + Cmd. */
  command: string[];
  user: string;
  /** What would run, step by step ("/app: x86_64 program, dynamic, loader …"). */
  chain: string[];
  findings: Finding[];
  /** True when nothing would stop the start (warnings allowed). */
  starts: boolean;
}

export function doctor(root: Root, config: ImageConfig, opts: DoctorOptions): DoctorReport {
  const workdir = config.workingDir || '/';
  const pathVar = envValue(config.env, 'PATH') ?? DEFAULT_PATH;
  const ctx: ExecContext = {
    root,
    resolver: new Resolver(root, { libraryPath: envValue(config.env, 'LD_LIBRARY_PATH'), hwcaps: [], cwd: workdir }),
    platform: config.platform,
    pathVar,
    workdir,
    target: opts.target,
    findings: [],
    chain: [],
  };
  // Docker runs Entrypoint with Cmd as its arguments, or Cmd alone.
  const command = config.entrypoint.length ? [...config.entrypoint, ...config.cmd] : [...config.cmd];
  const role = config.entrypoint.length ? 'entrypoint' : 'command';
  if (!command.length || !command[0]) {
    ctx.findings.push({
      code: 'NO_COMMAND', severity: 'error', path: '', details: [],
      message: 'the image has no ENTRYPOINT or CMD: docker run stops with "no command specified"',
      fix: 'set ENTRYPOINT ["/path/to/program"] (elfpack sets it to the packed program)',
    });
  } else if (command[0] === '/bin/sh' && command[1] === '-c' && !tryResolveInRoot(root, '/bin/sh')?.type) {
    // Shell form (CMD app --flag) is stored as ["/bin/sh", "-c", "app --flag"].
    ctx.findings.push({
      code: 'SHELL_MISSING', severity: 'error', path: '/bin/sh', details: [`stored as ${JSON.stringify(command)}`],
      message: `the ${role} is in shell form, so it runs /bin/sh -c "${command[2] ?? ''}", and the image has no /bin/sh: exec fails with "no such file or directory"`,
      fix: `write it in exec form, a JSON array: ${role === 'entrypoint' ? 'ENTRYPOINT' : 'CMD'} ${JSON.stringify(shellWords(command[2] ?? ''))}`,
    });
    const first = shellWords(command[2] ?? '')[0];
    if (first && /^[\w./-]+$/.test(first) && !isShellWord(first)) examineCommand(ctx, first, 'command');
  } else {
    examineCommand(ctx, command[0], role);
    if (command[0] === '/bin/sh' && command[1] === '-c') {
      const first = shellWords(command[2] ?? '')[0];
      if (first && /^[\w./-]+$/.test(first) && !isShellWord(first)) examineCommand(ctx, first, 'command');
    }
  }
  checkUser(ctx, config.user);
  return {
    target: opts.target,
    platform: config.platform && platformName(config.platform),
    command,
    user: config.user,
    chain: ctx.chain,
    findings: ctx.findings,
    starts: !ctx.findings.some((f) => f.severity === 'error'),
  };
}

/** A name without "/" is looked up on the image's PATH, as runc does. */
function examineCommand(ctx: ExecContext, name: string, role: 'entrypoint' | 'command'): void {
  if (name.includes('/')) return examineExec(ctx, name, role);
  const found = lookPath(ctx, name);
  if (found) return examineExec(ctx, found, role);
  ctx.findings.push({
    code: 'NOT_IN_PATH', severity: 'error', path: name, details: [],
    message: `the ${role} "${name}" is not an executable file in any directory of PATH (${ctx.pathVar}): exec fails with "executable file not found in $PATH"`,
    fix: `name it by its absolute path, or put it in a directory on PATH`,
  });
}

/** Words of a simple shell command; quotes are dropped, nothing is expanded (enough to name the program). */
function shellWords(s: string): string[] {
  return (s.match(/"[^"]*"|'[^']*'|[^\s]+/g) ?? []).map((w) => w.replace(/^["']|["']$/g, ''));
}

function isShellWord(w: string): boolean {
  return ['exec', 'cd', 'set', 'export', 'echo', 'true', 'false', 'test', '[', 'if', 'for', 'while'].includes(w);
}

/** A user or group given by name must be in the image's /etc/passwd or /etc/group (runc's user lookup). */
function checkUser(ctx: ExecContext, user: string): void {
  if (!user) return;
  const [u, g] = user.split(':');
  const check = (name: string | undefined, file: string, what: string) => {
    if (!name || /^\d+$/.test(name)) return;
    const names = namesIn(ctx.root, file);
    if (names?.has(name)) return;
    ctx.findings.push({
      code: 'USER_UNKNOWN', severity: 'error', path: file, details: [],
      message: `the image runs as ${what} "${name}", but ${names ? `${file} has no such entry` : `it has no ${file}`}: the start fails with "unable to find ${what} ${name}"`,
      fix: `use a numeric id (USER 65532:65532), or add ${file} with that entry (elfpack adds root, nobody and nonroot unless --bare)`,
    });
  };
  check(u, '/etc/passwd', 'user');
  check(g, '/etc/group', 'group');
}

/** First fields of a passwd/group file, or undefined when there is none. */
function namesIn(root: Root, file: string): Set<string> | undefined {
  const r = tryResolveInRoot(root, file);
  if (r?.type !== 'file') return undefined;
  try {
    const src = root.open(r.path);
    try {
      const text = src.read(0, Math.min(src.size, 1 << 20), file).toString('utf8');
      return new Set(text.split('\n').map((l) => l.split(':')[0]).filter(Boolean));
    } finally {
      src.close();
    }
  } catch {
    return undefined;
  }
}

/** The report as text: names from the image (paths, "#!" lines, the user) escaped, one line each. */
export function renderDoctor(r: DoctorReport, paint: Painter): string[] {
  const out = [paint.bold(`${escapeName(r.target)}${r.platform ? ` (${escapeControls(r.platform)})` : ''}`)];
  // JSON.stringify escapes C0 controls but not DEL, C1 or a byte that was not UTF-8.
  out.push(`  runs: ${r.command.length ? escapeControls(JSON.stringify(r.command)) : '(nothing)'}${r.user ? ` as ${escapeName(r.user)}` : ''}`);
  for (const c of r.chain) out.push(`  ${paint.dim(escapeControls(c))}`);
  for (const f of r.findings) {
    out.push(`${f.severity === 'error' ? paint.red('✗') : '!'} ${f.path && !f.message.includes(f.path) ? `${escapeName(f.path)}: ` : ''}${escapeControls(f.message)}`);
    for (const d of f.details) out.push(`    ${escapeControls(d)}`);
    out.push(`    ${paint.bold('fix:')} ${escapeControls(f.fix)}`);
  }
  const errors = r.findings.filter((f) => f.severity === 'error').length;
  out.push(r.starts
    ? `ok: the container would start${r.findings.length ? ` (${r.findings.length} warning${r.findings.length > 1 ? 's' : ''})` : ''}`
    : paint.red(`${errors} problem${errors > 1 ? 's' : ''}: the container would not start`));
  return out;
}

export function doctorToJson(r: DoctorReport): object {
  return { schema: 'elfpack.doctor/v1', ...r };
}
