// `elfpack go ./cmd/...`: every main package a pattern names, each built for every platform and
// packed on scratch as its own image, named as ko names them (the import path's last element).
// Packs run in parallel up to the cores; results come back in go list's order; pushes take turns
// in that order, so a blob two images share is uploaded once and found (or mounted) by the next.
import { availableParallelism } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { statSync } from 'node:fs';
import { ElfpackError } from '../errors.js';
import type { Sink } from '../sinks/sink.js';
import { goPack, listGoPackages, type GoOptions, type GoResult } from './go.js';
import { imageNameFor } from './pack.js';

/** At most this many programs in one call: each is a build and an image. */
export const MAX_PROGRAMS = 256;

export interface GoManyOptions extends GoOptions {
  /**
   * The sinks of one program's image, when the pattern names several (the engine, a registry
   * under REPO/NAME:TAG); `sinks` serves one program only.
   */
  sinksFor?: (name: string, tag: string) => Promise<Sink[]>;
}

/** Whether `pkg` is a pattern (`./cmd/...`): each main package it names is its own image, NAME:TAG. */
export function isGoPattern(pkg: string | undefined): boolean {
  return !!pkg?.includes('...');
}

/**
 * One result per program, in go list's order. A package that is no pattern is goPack's one
 * image; a pattern gives each main package its own image, even when it names one.
 */
export async function goPackMany(opts: GoManyOptions): Promise<GoResult[]> {
  const pattern = opts.pkg ?? '.';
  if (!isGoPattern(pattern)) return [await goPack(opts)];
  checkManyOptions(opts);
  const mains = await mainPackages(opts, pattern);
  const tagOnly = opts.tag ?? 'latest';
  const outDir = opts.out;
  const turns = new Turns(mains.length);
  const packOne = async (m: { name: string; pkg: string }, i: number) => {
    try {
      const tag = `${m.name}:${tagOnly}`;
      const sinks = (await opts.sinksFor?.(m.name, tag) ?? []).map((s) => (s.kind === 'registry' ? turns.wrap(s, i) : s));
      return await goPack({ ...opts, pkg: m.pkg, tag, out: outDir && join(outDir, `${m.name}.tar`), sinks });
    } finally {
      turns.end(i);
    }
  };
  const settled = await inParallel(mains, availableParallelism(), packOne);
  const failed = settled.findIndex((s) => s.status === 'rejected');
  if (failed >= 0) {
    const err = (settled[failed] as PromiseRejectedResult).reason;
    const others = settled.filter((s) => s.status === 'rejected').length - 1;
    if (err instanceof ElfpackError && others > 0) {
      throw new ElfpackError(err.code, `${err.message} (and ${others} other program${others === 1 ? '' : 's'} failed)`, { path: err.path, step: err.step, cause: err });
    }
    throw err;
  }
  return settled.map((s) => (s as PromiseFulfilledResult<GoResult>).value);
}

/** The main packages of a pattern, each as a directory goPack builds in; other packages are passed over (as go build does). */
async function mainPackages(opts: GoOptions, pattern: string): Promise<{ name: string; pkg: string }[]> {
  // A pattern under a directory is listed from there, so that go finds that directory's module.
  const cut = pattern.indexOf('/...');
  const base = cut > 0 && /^(\.{1,2}(\/|$)|\/)/.test(pattern) ? resolve(opts.cwd, pattern.slice(0, cut)) : undefined;
  const inDir = !!base && !!statSync(base, { throwIfNoEntry: false })?.isDirectory();
  const listed = await listGoPackages(opts, inDir ? base! : opts.cwd, inDir ? `.${pattern.slice(cut)}` : pattern, pattern);
  const mains = listed.filter((p) => p.name === 'main');
  if (!mains.length) throw new ElfpackError('USAGE', 'names no main package: there is no program to build', { path: pattern, step: 'go' });
  if (mains.length > MAX_PROGRAMS) throw new ElfpackError('USAGE', `names ${mains.length} main packages, more than ${MAX_PROGRAMS}: narrow the pattern`, { path: pattern, step: 'go' });
  const byName = new Map<string, string>();
  return mains.map((p) => {
    const name = imageNameFor(p.importPath);
    const seen = byName.get(name);
    if (seen) throw new ElfpackError('USAGE', `${seen} and ${p.importPath} would both be the image ${name}: pack them in separate calls`, { path: pattern, step: 'go' });
    byName.set(name, p.importPath);
    const rel = relative(opts.cwd, p.dir);
    return { name, pkg: rel && !rel.startsWith('..') && !isAbsolute(rel) ? `./${rel}` : p.dir };
  });
}

/** What one program's options mean for several, checked before any build. */
function checkManyOptions(opts: GoManyOptions): void {
  if (opts.tag !== undefined && /[:/@]/.test(opts.tag)) {
    throw new ElfpackError('USAGE', `--tag ${opts.tag}: with several programs, --tag is the tag alone (each image is NAME:TAG, NAME from its package)`);
  }
  if (opts.as) throw new ElfpackError('USAGE', '--as names one program\'s path: with several, each is /NAME');
  if (opts.rootfs) throw new ElfpackError('USAGE', '--rootfs writes one image\'s files: with several programs, give --out DIR');
  if (opts.sinks?.length) throw new ElfpackError('USAGE', 'several programs take their sinks from sinksFor, one set per image');
  if (opts.out && !statSync(opts.out, { throwIfNoEntry: false })?.isDirectory()) {
    throw new ElfpackError('USAGE', 'with several programs, --out is an existing directory (each image goes to DIR/NAME.tar)', { path: opts.out });
  }
}

/** Runs `fn` over `items`, at most `width` at a time; results in the items' order. */
async function inParallel<T, R>(items: T[], width: number, fn: (item: T, index: number) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const out: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = { status: 'fulfilled', value: await fn(items[i], i) };
      } catch (reason) {
        out[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, items.length)) }, worker));
  return out;
}

/**
 * Registry pushes in the programs' order, one at a time: program i pushes once every program
 * before it has pushed or ended, so which repository a shared blob is uploaded to (and mounted
 * from) does not depend on which build finished first.
 */
class Turns {
  private readonly done: Promise<void>[];
  private readonly finish: (() => void)[] = [];

  constructor(count: number) {
    this.done = Array.from({ length: count }, () => new Promise<void>((ok) => this.finish.push(ok)));
  }

  /** `sink`, writing only after program `i - 1`'s turn ended; its own turn ends with its write. */
  wrap(sink: Sink, i: number): Sink {
    return Object.assign(Object.create(sink) as Sink, {
      write: async (input: Parameters<Sink['write']>[0]) => {
        if (i > 0) await this.done[i - 1];
        try {
          return await sink.write(input);
        } finally {
          this.end(i);
        }
      },
    });
  }

  /** Program `i` will push no more (done, failed, or never pushing). */
  end(i: number): void {
    this.finish[i]();
  }
}
