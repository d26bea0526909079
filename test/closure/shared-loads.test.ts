// Programs that load alike share one simulation (src/closure/shared-loads.ts): each still gets a
// load of its own, and a program that is itself one of the libraries never takes another's load.
import { expect } from 'chai';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostRoot } from '../../src/root/host-root.js';
import { ldd, lddToJson, renderProblems, type LddReport } from '../../src/commands/ldd.js';
import { needCommand } from '../support/helpers.js';

const T = 'x86_64-linux-gnu';

function run(args: string[]): void {
  const r = spawnSync('gcc', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gcc ${args.join(' ')}: ${r.stderr}`);
}

/** What ldd prints for one report: names and paths in load order. */
function lines(r: LddReport): string[] {
  return r.load!.order.map((e) => (e.kind === 'library' ? `${e.name} => ${e.object.path}` : e.kind === 'missing' ? `${e.missing.name} => not found` : e.path));
}

describe('closure/shared-loads', () => {
  let dir: string;
  const libdir = `/usr/lib/${T}`;
  const lddIn = (files: string[]) => ldd(new HostRoot(dir), files, { useLdSoCache: false });

  before(function () {
    needCommand(this, 'gcc');
    dir = mkdtempSync(join(tmpdir(), 'elfpack-shared-'));
    const src = join(dir, '.src');
    mkdirSync(src);
    mkdirSync(join(dir, libdir), { recursive: true });
    mkdirSync(join(dir, 'bin'));
    mkdirSync(join(dir, 'lib64'));
    copyFileSync(`/lib/${T}/libc.so.6`, join(dir, libdir, 'libc.so.6'));
    copyFileSync('/lib64/ld-linux-x86-64.so.2', join(dir, 'lib64/ld-linux-x86-64.so.2'));
    writeFileSync(join(src, 'lib.c'), 'int f(void) { return 1; }\n');
    writeFileSync(join(src, 'main.c'), 'int main(void) { return 0; }\n');
    const L = ['-L', join(dir, libdir), '-Wl,--no-as-needed'];
    const so = (name: string, libs: string[]) => run(['-shared', '-fPIC', `-Wl,-soname,${name}`, '-o', join(dir, libdir, name), join(src, 'lib.c'), ...L, ...libs]);
    // libA.so.1 and libB.so.1 need each other: libA is linked first alone, then again against libB.
    so('libA.so.1', []);
    so('libB.so.1', ['-l:libA.so.1']);
    so('libA.so.1', ['-l:libB.so.1']);
    so('libX.so.1', ['-l:libA.so.1']);
    so('libgone.so.1', []);
    for (const p of ['p1', 'p2']) run(['-o', join(dir, 'bin', p), join(src, 'main.c'), ...L, '-l:libA.so.1']);
    for (const p of ['m1', 'm2']) run(['-o', join(dir, 'bin', p), join(src, 'main.c'), ...L, '-l:libgone.so.1']);
    rmSync(join(dir, libdir, 'libgone.so.1'));
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('two programs that load alike each have their own file and program object, and the same libraries', () => {
    const [p1, p2] = lddIn(['/bin/p1', '/bin/p2']).reports;
    expect(lines(p2)).to.deep.equal(lines(p1));
    expect(p2.load!.file.path).to.equal('/bin/p2');
    expect(p2.load!.main!.path).to.equal('/bin/p2');
    expect(p2.load!.main).to.not.equal(p1.load!.main);
    expect(p2.load!.objects[0]).to.equal(p2.load!.main);
    // The JSON view says each program needed its own libraries.
    const json = lddToJson(lddIn(['/bin/p1', '/bin/p2'])) as { files: { libraries: { name: string; neededBy: string }[] }[] };
    expect(json.files.map((f) => f.libraries.find((l) => l.name === 'libA.so.1')!.neededBy)).to.deep.equal(['/bin/p1', '/bin/p2']);
  });

  it('a missing library is reported as needed by each program, not by the first one', () => {
    const r = lddIn(['/bin/m1', '/bin/m2']);
    expect(r.reports.map((x) => x.load!.missing.map((m) => `${m.name} ${m.neededBy}`))).to.deep.equal([
      ['libgone.so.1 /bin/m1'],
      ['libgone.so.1 /bin/m2'],
    ]);
    expect(renderProblems(r)[1]).to.match(/^\/bin\/m2: libgone\.so\.1 \(needed by \/bin\/m2\) not found/);
  });

  it('a program that is one of the libraries another program loads is loaded as itself', () => {
    // libB.so.1 needs what libX.so.1 needs (libA.so.1, libc.so.6), but in its own process libA's
    // need of libB is answered by libB itself: libB is not listed again, as in a run on its own.
    const [x, together] = lddIn([`${libdir}/libX.so.1`, `${libdir}/libB.so.1`]).reports;
    const alone = lddIn([`${libdir}/libB.so.1`]).reports[0];
    expect(x.load!.file.elf!.needed).to.deep.equal(together.load!.file.elf!.needed);
    expect(lines(x)).to.include(`libB.so.1 => ${libdir}/libB.so.1`);
    expect(lines(together)).to.deep.equal(lines(alone));
    expect(lines(together)).to.not.include(`libB.so.1 => ${libdir}/libB.so.1`);
  });
});
