// --verify: the finished image, loaded into the Docker engine (by the engine sink,
// engine-load.ts), run once with its own entrypoint and cmd, no network and a time limit. Exit
// status 0 passes; anything else (or a kill at the limit) fails, with the tail of what the program
// printed. The container is always removed, and unless the image is to stay loaded (--load), the
// engine's tags are left as they were found.
import type Docker from 'dockerode';
import { ElfpackError } from '../errors.js';
import { escapeControls } from '../escape.js';
import { parseTag } from '../oci/reference.js';
import { engineError } from '../engine/engine.js';

export const DEFAULT_VERIFY_TIMEOUT = 30;
/** Longest --verify-timeout: an hour; a check is not a service. */
export const MAX_VERIFY_TIMEOUT = 3600;
/** Bytes of the program's output kept (the last ones), and lines of them shown. */
export const VERIFY_OUTPUT_BYTES = 16 * 1024;
export const VERIFY_OUTPUT_LINES = 40;
/** How long the output may trail the exit before it is read as it is. */
const OUTPUT_GRACE_MS = 2000;

export interface VerifyOptions {
  /** Seconds the run may take before it is killed (default 30, at most 3600). */
  timeoutSeconds?: number;
  /** Leave the image loaded under its tag, as --load does (only when the run passed). */
  keepLoaded?: boolean;
  /** Called with the tail of the program's output, one line each, before a failure is thrown. */
  onOutput?: (lines: string[]) => void;
}

export interface VerifyResult {
  exitCode: number;
  seconds: number;
  /** What docker load reported. */
  loaded: string[];
}

/** Checks --verify-timeout before any work. */
export function checkVerifyTimeout(timeout = DEFAULT_VERIFY_TIMEOUT): void {
  if (!(timeout > 0 && timeout <= MAX_VERIFY_TIMEOUT)) throw new ElfpackError('USAGE', `--verify-timeout ${timeout}: want seconds, more than 0 and at most ${MAX_VERIFY_TIMEOUT}`);
}

/**
 * Loads the image (whose tag is `tag`) with `load`, runs it, cleans up; throws VERIFY_FAILED when
 * it did not exit 0.
 */
export async function verifyImage(docker: Docker, tag: string, load: () => Promise<string[]>, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const timeout = opts.timeoutSeconds ?? DEFAULT_VERIFY_TIMEOUT;
  checkVerifyTimeout(timeout);
  const before = await imageId(docker, tag);
  const loaded = await load();
  const id = await imageId(docker, tag);
  if (!id) throw new ElfpackError('IO', `verify: the engine loaded the image but has no ${tag}`, { path: tag, step: 'verify' });
  let run: RunOutcome | undefined;
  try {
    run = await runOnce(docker, id, tag, timeout);
  } finally {
    if (!(opts.keepLoaded && run?.exitCode === 0 && !run.timedOut)) await restoreTag(docker, tag, before, id);
  }
  if (run.exitCode === 0 && !run.timedOut) return { exitCode: 0, seconds: run.seconds, loaded };
  const lines = tailLines(run.output, run.truncated);
  if (lines.length) opts.onOutput?.(lines);
  const what = run.timedOut
    ? `was still running after --verify-timeout ${timeout} s and was killed`
    : `exited with status ${run.exitCode} in ${run.seconds.toFixed(1)} s`;
  throw new ElfpackError('VERIFY_FAILED', `verify: the image ${what}; nothing was kept (${lines.length ? 'its output is above' : 'it printed nothing'})`, { path: tag, step: 'verify' });
}

interface RunOutcome {
  exitCode: number;
  seconds: number;
  timedOut: boolean;
  output: Buffer;
  truncated: boolean;
}

/** One run of the image by ID (no pull can happen: the engine's API never pulls on create). */
async function runOnce(docker: Docker, id: string, tag: string, timeout: number): Promise<RunOutcome> {
  let container: Docker.Container;
  try {
    container = await docker.createContainer({
      Image: id,
      Labels: { 'elfpack.verify': tag },
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      HostConfig: { NetworkMode: 'none' },
    });
  } catch (err) {
    throw engineError(err, 'verify: create the container');
  }
  const tail = new OutputTail(VERIFY_OUTPUT_BYTES);
  let timer: NodeJS.Timeout | undefined;
  try {
    // Attached before the start, so nothing the program prints is missed.
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    const ended = new Promise<void>((resolve) => {
      stream.on('data', (chunk: Buffer) => tail.push(chunk));
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
    const started = Date.now();
    await container.start();
    let timedOut = false;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        timedOut = true;
        container.kill({ signal: 'SIGKILL' }).catch(() => undefined).finally(resolve);
      }, timeout * 1000);
    });
    const waited = await container.wait() as { StatusCode?: number };
    const seconds = (Date.now() - started) / 1000;
    if (timedOut) await killed;
    await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, OUTPUT_GRACE_MS).unref())]);
    return { exitCode: waited.StatusCode ?? -1, seconds, timedOut, output: tail.bytes(), truncated: tail.truncated };
  } catch (err) {
    throw err instanceof ElfpackError ? err : engineError(err, 'verify: run the image');
  } finally {
    clearTimeout(timer);
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/** The ID the engine's tag points at, if it has one. */
async function imageId(docker: Docker, tag: string): Promise<string | undefined> {
  try {
    return (await docker.getImage(tag).inspect()).Id;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw engineError(err, 'verify: inspect the image');
  }
}

/**
 * The engine as it was: the tag back on the image it named before (or gone, if it named none), and
 * the verified image removed unless something else still uses it. Failures here are not the
 * program's: they are left unsaid rather than hiding the verdict.
 */
async function restoreTag(docker: Docker, tag: string, before: string | undefined, now: string): Promise<void> {
  if (before === now) return;
  const { repository, tag: t } = parseTag(tag);
  try {
    if (before) {
      await docker.getImage(before).tag({ repo: repository, tag: t });
      await docker.getImage(now).remove().catch(() => undefined);
    } else await docker.getImage(tag).remove();
  } catch {
    // The verdict matters more than the tidying.
  }
}

/** The last `max` bytes of a container's multiplexed output (8-byte frame headers, stdout and stderr interleaved). */
export class OutputTail {
  private kept = Buffer.alloc(0);
  private header = Buffer.alloc(0);
  private left = 0;
  /** Set once output was dropped from the front. */
  truncated = false;

  constructor(private max: number) {}

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.left === 0) {
        const take = chunk.subarray(i, i + 8 - this.header.length);
        this.header = Buffer.concat([this.header, take]);
        i += take.length;
        if (this.header.length === 8) {
          this.left = this.header.readUInt32BE(4);
          this.header = Buffer.alloc(0);
        }
        continue;
      }
      const n = Math.min(this.left, chunk.length - i);
      this.append(chunk.subarray(i, i + n));
      i += n;
      this.left -= n;
    }
  }

  bytes(): Buffer {
    return this.kept;
  }

  private append(b: Buffer): void {
    const all = Buffer.concat([this.kept, b.length > this.max ? b.subarray(b.length - this.max) : b]);
    if (b.length > this.max || all.length > this.max) this.truncated = true;
    this.kept = all.length > this.max ? Buffer.from(all.subarray(all.length - this.max)) : all;
  }
}

/** The last lines of the output, control characters escaped so each stays one line. */
export function tailLines(output: Buffer, truncated = false, max = VERIFY_OUTPUT_LINES): string[] {
  const lines = output.toString('utf8').replace(/\n$/, '').split('\n');
  if (lines.length === 1 && lines[0] === '') return [];
  const shown = lines.slice(-max).map((l) => escapeControls(l.replace(/\r$/, '')));
  return lines.length > max || truncated ? ['… (earlier output not shown)', ...shown] : shown;
}
