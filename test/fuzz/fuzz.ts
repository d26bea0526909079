// The fuzz driver: structure-aware mutants of the committed ELF samples and of generated image
// tars and layouts, run through `elfpack ldd --json` in batches (fuzz-worker.ts, in a child node
// with a bounded heap), judged by check.ts. A batch that stops answering is killed and its job
// reported as a hang; a worker that dies is a crash. Failing inputs are kept under
// build/fuzz-failures/ with the command that reproduces them.
//   node dist/test/fuzz/fuzz.js [--seed N] [--elf N] [--images N] [--time SECONDS]
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { elfMutant } from './elf-mutants.js';
import { imageMutant } from './image-mutants.js';
import { Prng } from './prng.js';
import type { Job } from './fuzz-worker.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../../..');

export interface FuzzOptions {
  seed: number;
  /** ELF mutants (run 25 to an ldd call). */
  elf: number;
  /** Image mutants (one ldd --root each). */
  images: number;
  /** A job that says nothing for this long is a hang (default 30 s). */
  jobTimeoutMs?: number;
  /** Where failing inputs are copied (default build/fuzz-failures). */
  failuresDir?: string;
  log?: (line: string) => void;
}

export interface Failure { id: number; reason: string; kept?: string }
export interface FuzzResult {
  inputs: number;
  jobs: number;
  failures: Failure[];
  /** How the image runs ended: the first stderr line with paths and numbers taken out, counted. */
  outcomes: Map<string, number>;
}

function outcomeOf(stderr: string): string {
  const first = stderr.split('\n')[0] ?? '';
  return first.replace(/^elfpack: [^:]*: /, '').replace(/sha256:[0-9a-f]+|blobs\/sha256\/[0-9a-f]+|\d+/g, '#').replace(/"[^"]*"/g, '"…"').slice(0, 90) || '(answered)';
}

interface PlannedJob extends Job { inputs: string[] }

function elfSamples(): string[] {
  const dirs = [join(REPO, 'testdata/elf-samples'), join(REPO, 'testdata/malformed')];
  const out: string[] = [];
  for (const d of dirs) {
    for (const e of readdirSync(d, { recursive: true, withFileTypes: true })) {
      const p = join(e.parentPath ?? (e as unknown as { path: string }).path, e.name);
      if (e.isFile() && statSync(p).size >= 64 && !/\.(json|md|py|mjs)$/.test(e.name)) out.push(p);
    }
  }
  return out.sort();
}

/** Writes every mutant and plans the jobs that run them. */
function plan(work: string, o: FuzzOptions): PlannedJob[] {
  const rng = new Prng(o.seed);
  const samples = elfSamples();
  const jobs: PlannedJob[] = [];
  const cacheDir = join(work, 'cache');
  let batch: string[] = [];
  const flush = () => {
    // The same files in each of ldd's formats: JSON for the document, text and --tree for the lines.
    for (const [format, args] of [['json', ['--json']], ['text', []], ['text', ['--tree']]] as const) {
      if (batch.length) jobs.push({ id: jobs.length, args: ['ldd', ...args, ...batch], cacheDir, inputs: batch, format });
    }
    batch = [];
  };
  for (let i = 0; i < o.elf; i++) {
    const r = rng.fork(i);
    const src = r.pick(samples);
    const f = join(work, 'elf', `${i}-${basename(src)}`);
    mkdirSync(dirname(f), { recursive: true });
    writeFileSync(f, elfMutant(Buffer.from(readFileSync(src)), r));
    batch.push(f);
    if (batch.length === 25) flush();
  }
  flush();
  const app = join(REPO, 'testdata/elf-samples/arm64/hostname');
  const lib = join(REPO, 'testdata/elf-samples/arm64/libattr.so.1.1.2501');
  for (let i = 0; i < o.images; i++) {
    const r = rng.fork(1_000_000 + i);
    let m;
    try {
      m = imageMutant(join(work, 'img', String(i)), r, { app, lib });
    } catch {
      continue; // a model the tar writer cannot express (a size past 8 GiB): not an input
    }
    jobs.push({ id: jobs.length, args: ['ldd', '--json', '--root', m.root, ...m.files], cacheDir, inputs: [m.root], format: 'json' });
    if (r.chance(0.5)) jobs.push({ id: jobs.length, args: ['doctor', m.root, ...(m.root.endsWith('.tar') ? [] : ['--entrypoint', '/bin/app'])], cacheDir, inputs: [m.root], format: 'text' });
  }
  return jobs;
}

/** Runs jobs in a worker; returns the ids that ended, and the one it was on if it stopped answering. */
function runWorker(jobs: PlannedJob[], work: string, timeoutMs: number, onEnd: (id: number, failure: string | null, stderr: string) => void): Promise<{ stuck?: number; why?: string }> {
  const file = join(work, `jobs-${jobs[0].id}.json`);
  writeFileSync(file, JSON.stringify(jobs.map(({ id, args, cacheDir, format }) => ({ id, args, cacheDir, format }))));
  const child = spawn(process.execPath, ['--max-old-space-size=1024', '--stack-size=984', join(HERE, 'fuzz-worker.js'), file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let current: number | undefined;
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-2000); });
  let timer: NodeJS.Timeout;
  let timedOut = false;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
  };
  arm();
  createInterface({ input: child.stdout }).on('line', (line) => {
    arm();
    let msg: { id: number; phase: string; failure?: string | null; stderr?: string };
    try {
      msg = JSON.parse(line);
    } catch {
      return; // something the CLI wrote to the real stdout: the judge sees its own copy
    }
    if (msg.phase === 'begin') current = msg.id;
    else { current = undefined; onEnd(msg.id, msg.failure ?? null, msg.stderr ?? ''); }
  });
  return new Promise((done) => child.on('exit', (code, signal) => {
    clearTimeout(timer);
    if (current === undefined && code === 0) return done({});
    const why = timedOut ? `no answer in ${timeoutMs / 1000} s (a hang)` : code === 13 ? 'the run stopped without an answer (a promise that never settled: a stream that never ended)' : `the worker died (${signal ?? `exit ${code}`}): ${stderr.split('\n').filter(Boolean).slice(-3).join(' | ').slice(0, 300)}`;
    done({ stuck: current, why });
  }));
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzResult> {
  const log = o.log ?? (() => undefined);
  const work = mkdtempSync(join(tmpdir(), 'elfpack-fuzz-'));
  const failures: Failure[] = [];
  const outcomes = new Map<string, number>();
  try {
    const jobs = plan(work, o);
    const byId = new Map(jobs.map((j) => [j.id, j]));
    const fail = (id: number, reason: string) => {
      const kept = keep(o, byId.get(id)!, reason);
      failures.push({ id, reason, kept });
      log(`FAIL job ${id}: ${reason}${kept ? ` (kept in ${kept})` : ''}`);
    };
    let todo = jobs;
    while (todo.length) {
      const ended = new Set<number>();
      const r = await runWorker(todo, work, o.jobTimeoutMs ?? 30_000, (id, failure, stderr) => {
        ended.add(id);
        if (byId.get(id)!.args.includes('--root')) outcomes.set(outcomeOf(stderr), (outcomes.get(outcomeOf(stderr)) ?? 0) + 1);
        if (failure) fail(id, failure);
      });
      if (r.stuck === undefined && r.why === undefined) break;
      const stuck = r.stuck ?? todo.find((j) => !ended.has(j.id))?.id;
      if (stuck !== undefined) {
        fail(stuck, r.why!);
        ended.add(stuck);
      }
      todo = todo.filter((j) => !ended.has(j.id));
    }
    return { inputs: o.elf + o.images, jobs: jobs.length, failures, outcomes };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Copies a failing job's inputs where a person can rerun them. */
function keep(o: FuzzOptions, job: PlannedJob, reason: string): string | undefined {
  const dir = join(o.failuresDir ?? join(REPO, 'build/fuzz-failures'), `seed-${o.seed}-job-${job.id}`);
  try {
    mkdirSync(dir, { recursive: true });
    const args = job.args.map((a) => {
      const i = job.inputs.findIndex((p) => a === p);
      if (i < 0) return a;
      const to = join(dir, basename(job.inputs[i]));
      cpSync(job.inputs[i], to, { recursive: true });
      return to;
    });
    writeFileSync(join(dir, 'README'), `${reason}\n\nrerun: bin/elfpack ${args.map((a) => JSON.stringify(a)).join(' ')}\n`);
    return dir;
  } catch {
    return undefined;
  }
}

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const seed0 = argValue('--seed', Date.now() % 1_000_000);
  const seconds = argValue('--time', 0);
  const elf = argValue('--elf', 2000);
  const images = argValue('--images', 300);
  const until = Date.now() + seconds * 1000;
  let total = 0;
  const all: Failure[] = [];
  for (let seed = seed0; ; seed++) {
    const t0 = Date.now();
    const r = await runFuzz({ seed, elf, images, log: (l) => console.log(l) });
    total += r.inputs;
    all.push(...r.failures);
    if (process.argv.includes('--stats')) for (const [k, n] of [...r.outcomes].sort((a, b) => b[1] - a[1])) console.log(`${String(n).padStart(6)}  ${k}`);
    console.log(`seed ${seed}: ${r.inputs} inputs in ${r.jobs} runs of ldd and doctor, ${r.failures.length} failures (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    if (Date.now() >= until) break;
  }
  console.log(`${total} inputs, ${all.length} failures${all.length ? ` (see ${join(REPO, 'build/fuzz-failures')})` : ''}`);
  process.exitCode = all.length ? 1 : 0;
}
