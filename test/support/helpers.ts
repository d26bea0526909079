// Shared test helpers: where fixtures are, running the CLI in-process, and skip-or-fail.
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { main } from '../../src/cli.js';
import { ElfpackError } from '../../src/errors.js';

/** The repository root (tests run from dist/test/…). */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const FIXTURES = resolve(REPO, process.env.FIXTURES ?? 'build/fixtures');
export const TESTDATA = join(REPO, 'testdata');

export const inCI = process.env.CI === 'true';

/**
 * Skips the test with a printed reason; in CI (CI=true) a missing prerequisite is a failure,
 * so a test that needs a tool can never pass silently there.
 */
export function skipOrFail(ctx: Mocha.Context, reason: string): never {
  if (inCI) throw new Error(`prerequisite missing in CI: ${reason}`);
  console.log(`      skipped: ${reason}`);
  ctx.skip();
}

/** A fixture built by `make fixtures`; skips (or fails in CI) when it was not built. */
export function fixture(ctx: Mocha.Context, rel: string): string {
  const p = join(FIXTURES, rel);
  if (!existsSync(p)) skipOrFail(ctx, `fixture ${rel} was not built (make fixtures)`);
  return p;
}

export function haveCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export function needCommand(ctx: Mocha.Context, cmd: string): void {
  if (!haveCommand(cmd)) skipOrFail(ctx, `${cmd} is not installed`);
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in this process with captured output. */
export async function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; isTTY?: boolean; cwd?: string } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: (s) => { stdout += s; },
    stderr: (s) => { stderr += s; },
    env: opts.env ?? {},
    isTTY: opts.isTTY ?? false,
    cwd: opts.cwd ?? REPO,
  });
  return { code, stdout, stderr };
}

/** The system ldd's output for files, without addresses and the vDSO line. */
export function systemLdd(files: string[]): string {
  // One descriptor for both streams keeps ldd's stderr lines ("not a dynamic executable") in place.
  const r = spawnSync('sh', ['-c', 'exec ldd "$@" 2>&1', 'ldd', ...files], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return r.stdout
    .split('\n')
    .filter((l) => !/linux-vdso\.so|linux-gate\.so/.test(l))
    .map((l) => l.replace(/ \(0x[0-9a-f]+\)$/, ''))
    .join('\n')
    .replace(/\n+$/, '');
}

/** Whether a file starts with the ELF magic (false when it cannot be read). */
export function isElfFile(path: string): boolean {
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 && b.toString('latin1') === '\x7fELF';
  } catch {
    return false;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** The ElfpackError `p` rejects with (one line, as every error elfpack gives); fails the test when it resolves. */
export async function refusal(p: Promise<unknown>): Promise<ElfpackError> {
  try {
    await p;
  } catch (err) {
    return oneLineError(err);
  }
  throw new Error('not refused');
}

/** The ElfpackError `f` throws (one line); fails the test when it returns. */
export function thrown(f: () => unknown): ElfpackError {
  try {
    f();
  } catch (err) {
    return oneLineError(err);
  }
  throw new Error('did not throw');
}

function oneLineError(err: unknown): ElfpackError {
  expect(err).to.be.instanceOf(ElfpackError);
  expect((err as ElfpackError).describe()).not.to.include('\n');
  return err as ElfpackError;
}
