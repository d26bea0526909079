// Reads `strace -f -y -qq` output, line by line, into the paths a program used: strace(1)'s text
// format (one "PID syscall(args) = ret" per line, split into "<unfinished ...>" and
// "<... resumed>" when processes interleave; -y prints a descriptor as `3</its/path>`).

/** How a path was used, by the syscall's family: what the pack does with it follows from this. */
export type TraceUse = 'read' | 'exec' | 'stat' | 'lstat' | 'list' | 'chdir';

export interface TracedPath {
  /** The path as the program asked for it, made absolute (symlinks not resolved). */
  path: string;
  use: TraceUse;
  /** The syscall that used it first ("openat", "execve", "newfstatat"…). */
  syscall: string;
}

/** One syscall line, once its halves are joined. */
export interface SyscallLine {
  pid: number;
  name: string;
  args: string[];
  /** What follows " = ": "3</usr/lib/x.so>", "0", "-1 ENOENT (No such file or directory)", "?". */
  ret: string;
}

/** Parsing bounds: lines longer than this are strace's argv/env dumps, never a path we need whole. */
const MAX_LINE = 1 << 20;
/** Distinct paths kept; a program touching more is reported as the limit, not held in memory. */
export const MAX_TRACED_PATHS = 1_000_000;

const WRITE_FLAGS = /\b(O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_TMPFILE)\b/;
// Syscalls that change the filesystem: the paths they name are the program's own output.
// Each names [dirfd argument or -1, path argument] pairs.
const WRITERS: Record<string, [number, number][]> = {
  mkdir: [[-1, 0]], mkdirat: [[0, 1]], unlink: [[-1, 0]], unlinkat: [[0, 1]], rmdir: [[-1, 0]],
  rename: [[-1, 0], [-1, 1]], renameat: [[0, 1], [2, 3]], renameat2: [[0, 1], [2, 3]],
  symlink: [[-1, 1]], symlinkat: [[1, 2]], link: [[-1, 1]], linkat: [[2, 3]], truncate: [[-1, 0]],
  chmod: [[-1, 0]], fchmodat: [[0, 1]], chown: [[-1, 0]], lchown: [[-1, 0]], fchownat: [[0, 1]],
  utimensat: [[0, 1]], mknod: [[-1, 0]], mknodat: [[0, 1]], creat: [[-1, 0]],
};
// Syscalls that look at a path: [index of the dirfd or -1, index of the path].
const LOOKERS: Record<string, [number, number, TraceUse]> = {
  stat: [-1, 0, 'stat'], stat64: [-1, 0, 'stat'], lstat: [-1, 0, 'lstat'], lstat64: [-1, 0, 'lstat'],
  access: [-1, 0, 'stat'], faccessat: [0, 1, 'stat'], faccessat2: [0, 1, 'stat'],
  readlink: [-1, 0, 'lstat'], readlinkat: [0, 1, 'lstat'], statfs: [-1, 0, 'stat'],
  newfstatat: [0, 1, 'stat'], fstatat64: [0, 1, 'stat'], statx: [0, 1, 'stat'],
  execve: [-1, 0, 'exec'], execveat: [0, 1, 'exec'], chdir: [-1, 0, 'chdir'],
  open: [-1, 0, 'read'], openat: [0, 1, 'read'], openat2: [0, 1, 'read'],
};

/**
 * Folds strace lines into the set of paths a program used. Lines of processes that existed before
 * the program started (the sandbox's own) are ignored: the log counts from the first successful
 * execve of `program`, and only for that process and processes that appear after it.
 */
export class StraceLog {
  readonly used = new Map<string, TracedPath>();
  readonly written = new Set<string>();
  /** Writes the read-only root refused (at most 1000 kept): where the run and a container part ways. */
  readonly readOnlyDenied = new Set<string>();
  /** Set when the program could not even be started (its execve failed). */
  execError?: string;
  started = false;
  limitHit = false;
  private pending = new Map<number, string>();
  private before = new Set<number>();
  private starter?: number;
  private cwd = new Map<number, string>();

  constructor(private program: string, private workdir: string) {}

  /** Feeds one line of the log (without its newline). */
  line(raw: string): void {
    if (raw.length > MAX_LINE) raw = raw.slice(0, MAX_LINE);
    const m = /^(\d+) +(.*)$/.exec(raw);
    if (!m) return;
    const pid = Number(m[1]);
    let text = m[2];
    if (text.startsWith('+++') || text.startsWith('---')) return;
    if (text.endsWith(' <unfinished ...>')) {
      this.pending.set(pid, text.slice(0, -' <unfinished ...>'.length));
      return;
    }
    const resumed = /^<\.\.\. [\w]+ resumed>(.*)$/.exec(text);
    if (resumed) {
      const head = this.pending.get(pid);
      this.pending.delete(pid);
      if (head === undefined) return;
      text = head + resumed[1];
    }
    const call = parseSyscall(pid, text);
    if (call) this.take(call);
  }

  private take(c: SyscallLine): void {
    if (!this.started) {
      if ((c.name === 'execve' || c.name === 'execveat') && unquote(c.args[c.name === 'execve' ? 0 : 1]) === this.program) {
        if (c.ret === '0') {
          this.started = true;
          this.starter = c.pid;
          this.cwd.set(c.pid, this.workdir);
        } else this.execError = c.ret.replace(/^-1 /, '');
      }
      if (!this.started) {
        this.before.add(c.pid);
        return;
      }
    } else if (this.before.has(c.pid) && c.pid !== this.starter) return;
    const ok = !c.ret.startsWith('-1') && c.ret !== '?';
    const child = /^(clone|clone3|fork|vfork)$/.test(c.name) && /^\d+/.exec(c.ret);
    if (child) this.cwd.set(Number(child[0]), this.cwdOf(c.pid));
    // EROFS: the write would have worked in a container, whose root is writable. Its directory
    // exists and the program wants it; the run went another way from here, which the summary says.
    const readOnly = c.ret.startsWith('-1 EROFS');
    if (!ok && !readOnly) return;
    if (c.name === 'getdents64' || c.name === 'getdents') {
      const dir = fdPath(c.args[0]);
      if (dir) this.use(dir, 'list', c.name);
      return;
    }
    if (c.name === 'fchdir') {
      const dir = fdPath(c.args[0]);
      if (dir) this.cwd.set(c.pid, dir);
      return;
    }
    const writer = WRITERS[c.name];
    if (writer) {
      for (const [dirIdx, pathIdx] of writer) {
        const p = this.pathArg(c, dirIdx, pathIdx);
        if (p) this.wrote(p, readOnly, c.name);
      }
      return;
    }
    if (!ok) {
      if ((c.name === 'open' || c.name === 'openat' || c.name === 'openat2') && WRITE_FLAGS.test(c.args[c.name === 'open' ? 1 : 2] ?? '')) {
        const p = this.pathArg(c, c.name === 'open' ? -1 : 0, c.name === 'open' ? 0 : 1);
        if (p) this.wrote(p, true, c.name);
      }
      return;
    }
    const look = LOOKERS[c.name];
    if (!look) return;
    const [dirIdx, pathIdx, kind] = look;
    const path = this.pathArg(c, dirIdx, pathIdx);
    if (!path) return;
    let use = kind;
    if (kind === 'read') {
      const flags = c.args[c.name === 'open' ? 1 : 2] ?? '';
      if (WRITE_FLAGS.test(flags)) {
        this.wrote(path, false, c.name);
        return;
      }
      if (/\bO_DIRECTORY\b/.test(flags)) use = 'list';
    } else if ((c.name === 'newfstatat' || c.name === 'fstatat64' || c.name === 'faccessat2') && /AT_SYMLINK_NOFOLLOW/.test(c.args[3] ?? '')) use = 'lstat';
    else if (c.name === 'statx' && /AT_SYMLINK_NOFOLLOW/.test(c.args[2] ?? '')) use = 'lstat';
    if (use === 'chdir') this.cwd.set(c.pid, path);
    this.use(path, use, c.name);
  }

  /** A path the program wrote (or, on the read-only root, tried to): not packed; its directory is. */
  private wrote(path: string, denied: boolean, syscall: string): void {
    this.written.add(path);
    if (denied && this.readOnlyDenied.size < 1000) this.readOnlyDenied.add(path);
    const dir = path.slice(0, path.lastIndexOf('/')) || '/';
    this.use(dir, 'stat', syscall);
  }

  private use(path: string, use: TraceUse, syscall: string): void {
    const had = this.used.get(path);
    // A path that was read or run says more than one that was only looked at; keep the stronger use.
    if (had && rank(had.use) >= rank(use)) return;
    if (!had && this.used.size >= MAX_TRACED_PATHS) {
      this.limitHit = true;
      return;
    }
    this.used.set(path, { path, use, syscall });
  }

  /** The program's own process, once it started: the one a timeout stops. */
  get starterPid(): number | undefined {
    return this.starter;
  }

  private cwdOf(pid: number): string {
    return this.cwd.get(pid) ?? this.workdir;
  }

  /** The absolute path named by argument `pathIdx`, against the dirfd at `dirIdx` (or the cwd). */
  private pathArg(c: SyscallLine, dirIdx: number, pathIdx: number): string | undefined {
    const p = unquote(c.args[pathIdx]);
    if (p === undefined || p === '') return undefined; // "" with AT_EMPTY_PATH: the descriptor itself
    if (p.startsWith('/')) return p;
    let base = this.cwdOf(c.pid);
    if (dirIdx >= 0) {
      const d = fdPath(c.args[dirIdx]);
      if (d) {
        base = d;
        if (c.args[dirIdx]?.startsWith('AT_FDCWD')) this.cwd.set(c.pid, d);
      }
    }
    return base === '/' ? `/${p}` : `${base}/${p}`;
  }
}

function rank(u: TraceUse): number {
  return u === 'exec' ? 4 : u === 'read' ? 3 : u === 'stat' || u === 'list' || u === 'chdir' ? 2 : 1;
}

/** `3</usr/lib>` or `AT_FDCWD</home>` → the path in the angle brackets. */
function fdPath(arg: string | undefined): string | undefined {
  const m = arg && /^(?:-?\d+|AT_FDCWD)<(.*)>$/s.exec(arg);
  if (!m) return undefined;
  const p = unescape(m[1]);
  return p.startsWith('/') ? p : undefined;
}

/** A quoted strace string argument → its text; undefined when the argument is not a string. */
export function unquote(arg: string | undefined): string | undefined {
  if (!arg || arg[0] !== '"') return undefined;
  const end = arg.lastIndexOf('"');
  if (end <= 0 || arg.slice(end + 1) !== '') return undefined; // truncated ("..."): not a whole path
  return unescape(arg.slice(1, end));
}

/** strace's C escapes (\n, \", \\, \xHH, \NNN octal) → the bytes, read as UTF-8. */
function unescape(s: string): string {
  if (!s.includes('\\')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch !== '\\') {
      for (const b of Buffer.from(ch)) bytes.push(b);
      continue;
    }
    const n = s[++i];
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, v: 11, f: 12, '"': 34, '\\': 92, "'": 39 };
    if (n === 'x') {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (n >= '0' && n <= '7') {
      const oct = /^[0-7]{1,3}/.exec(s.slice(i))![0];
      bytes.push(parseInt(oct, 8));
      i += oct.length - 1;
    } else if (n in simple) bytes.push(simple[n]);
    else for (const b of Buffer.from(`\\${n ?? ''}`)) bytes.push(b);
  }
  return Buffer.from(bytes).toString('utf8');
}

/** `name(arg, arg, …) = ret` → its parts; undefined for anything else (signals, exits, noise). */
export function parseSyscall(pid: number, text: string): SyscallLine | undefined {
  const open = text.indexOf('(');
  if (open <= 0 || !/^[a-z_0-9]+$/.test(text.slice(0, open))) return undefined;
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  let i = open + 1;
  for (; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (ch === '<' && /(?:\d|AT_FDCWD)$/.test(text.slice(Math.max(start, i - 8), i))) {
      // A descriptor's path: strace escapes "<" and ">" inside it, so the next ">" closes it.
      const close = text.indexOf('>', i);
      if (close < 0) return undefined;
      i = close;
    } else if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') depth--;
    else if (ch === ')') {
      if (depth === 0) break;
      depth--;
    } else if (ch === ',' && depth === 0) {
      args.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (i >= text.length) return undefined;
  const last = text.slice(start, i).trim();
  if (last || args.length) args.push(last);
  const eq = /^\s*=\s*(.*)$/.exec(text.slice(i + 1));
  if (!eq) return undefined;
  return { pid, name: text.slice(0, open), args, ret: eq[1].trim() };
}
