// Real .deb files for the deb tests: downloaded once per test run with `apt-get download` (the
// machine's own Debian mirror), and hostile ones put together with binutils' ar from members the
// test makes. Without the mirror the tests skip with the reason, and fail in CI.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'tar-stream';
import { gzipSync } from 'node:zlib';
import { haveCommand, skipOrFail } from './helpers.js';

let dir: string | undefined;
const have = new Map<string, string>();

/** Host paths of the packages' .debs (the candidate versions), downloaded on first use. */
export function downloadDebs(ctx: Mocha.Context, names: string[]): Record<string, string> {
  if (!haveCommand('apt-get')) skipOrFail(ctx, 'apt-get is not installed (the deb tests need a Debian machine)');
  dir ??= mkdtempSync(join(tmpdir(), 'elfpack-debs-'));
  const want = names.filter((n) => !have.has(n));
  if (want.length) {
    const r = spawnSync('apt-get', ['download', ...want], { cwd: dir, encoding: 'utf8', timeout: 180_000 });
    if (r.status !== 0) skipOrFail(ctx, `apt-get download ${want.join(' ')} failed (is the Debian mirror reachable? apt-get update run?): ${String(r.stderr).trim().split('\n').pop()}`);
    const files = readdirSync(dir);
    for (const n of want) {
      const f = files.find((x) => x.startsWith(`${n}_`) && x.endsWith('.deb'));
      if (!f) skipOrFail(ctx, `apt-get download ${n} left no .deb`);
      have.set(n, join(dir, f));
    }
  }
  return Object.fromEntries(names.map((n) => [n, have.get(n)!]));
}

export function removeDownloadedDebs(): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
  have.clear();
}

export interface TarItem {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  content?: Buffer | string;
  linkname?: string;
  mode?: number;
  /** A size in the header without its bytes (for a bomb, with `stream`). */
  size?: number;
}

/** A tar of `items` (written by tar-stream, which writes what it is told: "../x" too). */
export async function makeTar(items: TarItem[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((res) => p.on('end', () => res()));
  for (const it of items) {
    const content = it.content === undefined ? undefined : Buffer.from(it.content);
    await new Promise<void>((res, rej) => p.entry({ name: it.name, type: it.type ?? 'file', linkname: it.linkname, mode: it.mode ?? (it.type === 'directory' ? 0o755 : 0o644), mtime: new Date(0) }, content ?? Buffer.alloc(0), (err) => (err ? rej(err) : res())));
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

export const CONTROL = (name: string, extra = '') => `Package: ${name}\nVersion: 1.0-1\nArchitecture: amd64\nMaintainer: test <t@example.org>\nInstalled-Size: 1\nDescription: a test package\n${extra}`;

/**
 * A .deb put together with `ar` (GNU form: "debian-binary/") from members given as bytes, in
 * order; `members` defaults to a valid control.tar.gz for `name`.
 */
export async function makeDeb(out: string, data: { name: string; bytes: Buffer }, opts: { name?: string; control?: string; postinst?: string; binary?: string } = {}): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'elfpack-mkdeb-'));
  try {
    const control = [{ name: './control', content: opts.control ?? CONTROL(opts.name ?? 'hostile') }];
    if (opts.postinst) control.push({ name: './postinst', content: opts.postinst });
    writeFileSync(join(work, 'debian-binary'), opts.binary ?? '2.0\n');
    writeFileSync(join(work, 'control.tar.gz'), gzipSync(await makeTar(control)));
    writeFileSync(join(work, data.name), data.bytes);
    mkdirSync(join(out, '..'), { recursive: true });
    rmSync(out, { force: true });
    execFileSync('ar', ['rc', out, 'debian-binary', 'control.tar.gz', data.name], { cwd: work });
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
