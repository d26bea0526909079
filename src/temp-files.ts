// Temporary files and directories, named so that a later run can tell a dead run's leftovers
// from live work: ".NAME.elfpack-tmp.HOST.PID.RANDOM" beside the target (a rename over the target
// is atomic only on the same filesystem). A run killed mid-write (SIGKILL, power loss) leaves one;
// the next run that writes into the same directory removes those whose process is gone. The host
// name is part of the name because PIDs of another machine or container sharing the directory
// mean nothing here: only this host's dead runs are cleaned.
import { closeSync, createWriteStream, fsyncSync, lstatSync, openSync, readdirSync, renameSync, rmSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';

const MARK = '.elfpack-tmp.';
const PATTERN = /^\..*\.elfpack-tmp\.([A-Za-z0-9-]{1,40})\.(\d{1,10})\.[a-z0-9]{1,12}$/;

function hostTag(): string {
  return (hostname().replace(/[^A-Za-z0-9-]+/g, '-').slice(0, 40)) || 'host';
}

/** Directories this process has cleaned already: once each is enough. */
const cleaned = new Set<string>();

/**
 * A temporary name beside `path` (renaming it over `path` is atomic on the same filesystem). The
 * first time a run asks for one in a directory, that directory's leftovers of dead runs go.
 */
export function tempNameFor(path: string): string {
  const dir = dirname(path);
  if (!cleaned.has(dir)) {
    cleaned.add(dir);
    removeStaleTemps(dir);
  }
  const base = basename(path).slice(0, 100);
  return join(dir, `.${base}${MARK}${hostTag()}.${process.pid}.${Math.random().toString(36).slice(2, 10)}`);
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // someone else's process: alive
  }
}

/**
 * Removes leftovers of dead elfpack runs of this host from `dir` (files, or directories with
 * their contents; a symlink is removed itself, never followed). Errors are ignored: cleaning is
 * a courtesy, never a reason to fail. Returns what was removed.
 */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const host = hostTag();
  const removed: string[] = [];
  for (const name of names) {
    if (!name.includes(MARK)) continue;
    const m = PATTERN.exec(name);
    if (!m || m[1] !== host || alive(Number(m[2]))) continue;
    const p = join(dir, name);
    try {
      const st = lstatSync(p);
      rmSync(p, { recursive: st.isDirectory(), force: true });
      removed.push(p);
    } catch {
      // raced with another cleaner, or not ours to remove
    }
  }
  return removed;
}

/** fsync a file by path (after it is written, before the rename that publishes it). */
export function syncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync a directory, so that a rename inside it survives a power loss; not every filesystem allows it. */
export function syncDirectory(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // EINVAL/EISDIR on filesystems that cannot sync a directory: the rename is still atomic
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/**
 * Writes `path` through a temporary beside it: `fill` writes (or pipes) into the stream and ends
 * it; the temporary is then synced and renamed over `path`. On any failure the stream is closed
 * first (so no write can land after the removal) and the temporary removed.
 */
export async function writeFileAtomically(path: string, fill: (out: WriteStream) => Promise<void>): Promise<void> {
  const dir = dirname(path);
  const tmp = tempNameFor(path);
  const out = createWriteStream(tmp, { flags: 'wx', mode: 0o644 });
  try {
    await fill(out);
    if (!out.closed) await once(out, 'close');
    syncFile(tmp);
    renameSync(tmp, path);
    syncDirectory(dir);
  } catch (err) {
    out.destroy();
    if (!out.closed) await once(out, 'close').catch(() => undefined);
    rmSync(tmp, { force: true });
    throw err;
  }
}
