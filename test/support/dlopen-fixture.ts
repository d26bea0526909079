// Copies of the .note.dlopen fixture (testdata/programs/dlopen) to change for one test: a library
// removed, or bytes of libnote's note replaced by others of the same length.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture } from './helpers.js';

export interface DlopenCopy {
  dir: string;
  app: string;
  libnote: string;
  remove(): void;
}

/**
 * bin/, lib/ and plugins/ of the fixture in a new directory (their RUNPATHs are $ORIGIN-relative);
 * `drop` names files under plugins/ to leave out, `patch` replaces text in libnote.so.1 (each pair
 * the same length, so no offset in the file moves).
 */
export function copyDlopenFixture(ctx: Mocha.Context, opts: { drop?: string[]; patch?: [string, string][] } = {}): DlopenCopy {
  const app = fixture(ctx, 'dlopen/bin/app');
  const from = join(app, '../..');
  const dir = mkdtempSync(join(tmpdir(), 'elfpack-dlopen-'));
  for (const sub of ['bin', 'lib', 'plugins']) cpSync(join(from, sub), join(dir, sub), { recursive: true, verbatimSymlinks: true });
  for (const f of opts.drop ?? []) rmSync(join(dir, 'plugins', f));
  const libnote = join(dir, 'lib/libnote.so.1');
  if (opts.patch) {
    const b = readFileSync(libnote);
    for (const [old, now] of opts.patch) {
      if (Buffer.byteLength(old) !== Buffer.byteLength(now)) throw new Error(`patch ${old}: not the same length`);
      const at = b.indexOf(old);
      if (at < 0) throw new Error(`patch: ${old} is not in libnote.so.1`);
      b.write(now, at);
    }
    writeFileSync(libnote, b);
  }
  return { dir, app: join(dir, 'bin/app'), libnote, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
