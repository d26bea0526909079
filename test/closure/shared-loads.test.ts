// Programs that load alike share one simulation (src/closure/shared-loads.ts): each still gets a
// load of its own, and a program that is itself one of the libraries never takes another's load.
import { expect } from 'chai';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostRoot } from '../../src/root/host-root.js';
import { ldd, lddToJson, renderProblems, type LddOptions, type LddReport } from '../../src/commands/ldd.js';
import { TESTDATA, needCommand } from '../support/helpers.js';
import { buildElf } from '../support/elf-builder.js';

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

// The answer for a file must not depend on which other files share the run, nor on their order:
// every input of a shared load, a remembered answer or a loader profile is part of its key.
describe('closure/shared-loads: results do not depend on the other files of the run', () => {
  const GLIBC = '/lib64/ld-linux-x86-64.so.2';
  const MUSL = '/lib/ld-musl-x86_64.so.1';
  const ARMHF = '/lib/ld-linux-armhf.so.3';
  const EM_ARM = 40, EM_386 = 3, EM_RISCV = 243, ARM_HARD_EABI5 = 0x05000400, DF_1_NODEFLIB = 0x800;
  const ARMHF_LIB = join(TESTDATA, 'elf-samples/armhf/libattr.so.1.1.2501');
  let dir: string;
  const files: string[] = [];
  const put = (path: string, bytes: Buffer | string, asInput = true) => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), bytes, { mode: 0o755 });
    if (asInput) files.push(path);
  };
  const lib = (soname?: string) => buildElf({ soname, needed: [] });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'elfpack-mixed-'));
    const armhf = readFileSync(ARMHF_LIB);
    // What the files find: x86-64 glibc and musl loaders and libraries, an armhf loader and libc
    // in /lib (a root that is not multiarch for ARM), a library beside one program only.
    put(GLIBC, lib('ld-linux-x86-64.so.2'), false);
    put(MUSL, lib(), false);
    put(`/usr/lib/${T}/libc.so.6`, lib('libc.so.6'), false);
    put(`/usr/lib/${T}/libfoo.so.1`, lib('libfoo.so.1'), false);
    put('/opt/r/libfoo.so.1', lib('libfoo.so.1'), false);
    put('/bin/libx.so', lib(), false);
    put(ARMHF, armhf, false);
    put('/lib/libc.so.6', armhf, false);
    // The inputs: programs alike but for one thing each, and files of other classes and machines.
    put('/bin/none', buildElf({ interp: GLIBC, needed: [] }));
    put('/bin/empty', buildElf({ interp: GLIBC, needed: [''] }));
    put('/bin/empty-soname', buildElf({ interp: GLIBC, needed: [''], soname: '' }));
    put('/bin/plain', buildElf({ interp: GLIBC, needed: ['libfoo.so.1'] }));
    put('/bin/rpath', buildElf({ interp: GLIBC, needed: ['libfoo.so.1'], rpath: '/opt/r' }));
    put('/bin/runpath', buildElf({ interp: GLIBC, needed: ['libfoo.so.1'], runpath: '/opt/r' }));
    put('/bin/rpath-empty', buildElf({ interp: GLIBC, needed: ['libfoo.so.1'], rpath: '' }));
    put('/bin/runpath-empty', buildElf({ interp: GLIBC, needed: ['libfoo.so.1'], runpath: '' }));
    put('/bin/nodeflib', buildElf({ interp: GLIBC, needed: ['libfoo.so.1'], flags1: DF_1_NODEFLIB }));
    put('/bin/origin', buildElf({ interp: GLIBC, needed: ['$ORIGIN/libx.so'] }));
    put('/opt/bin/origin', buildElf({ interp: GLIBC, needed: ['$ORIGIN/libx.so'] }));
    put('/bin/musl-rpath', buildElf({ interp: MUSL, needed: ['libfoo.so.1'], rpath: '/opt/r' }));
    put('/bin/musl-runpath', buildElf({ interp: MUSL, needed: ['libfoo.so.1'], runpath: '/opt/r' }));
    put('/bin/arm-class64', buildElf({ machine: EM_ARM, flags: ARM_HARD_EABI5, needed: ['libc.so.6'] }));
    put('/lib/libattr.so.1', armhf);
    put('/bin/arm-be', buildElf({ bits: 32, bigEndian: true, machine: EM_ARM, flags: ARM_HARD_EABI5, interp: ARMHF, needed: ['libc.so.6'] }));
    put('/bin/arm-le', buildElf({ bits: 32, machine: EM_ARM, flags: ARM_HARD_EABI5, interp: ARMHF, needed: ['libc.so.6'] }));
    put('/bin/i386', buildElf({ bits: 32, machine: EM_386, interp: '/lib/ld-linux.so.2', needed: ['libc.so.6'] }));
    put('/bin/x32', buildElf({ bits: 32, interp: '/libx32/ld-linux-x32.so.2', needed: ['libc.so.6'] }));
    put('/lib/riscv-lp64d.so', buildElf({ machine: EM_RISCV, flags: 0x5, needed: ['libc.so.6'] }));
    put('/lib/riscv-lp64.so', buildElf({ machine: EM_RISCV, flags: 0x1, needed: ['libc.so.6'] }));
    put('/bin/static', buildElf({ type: 2 }));
    put('/bin/script', '#!/bin/static\n');
    put('/bin/text', 'just text\n');
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  /** Each file's JSON record, by file. */
  const records = (list: string[], opts: LddOptions) => {
    const doc = lddToJson(ldd(new HostRoot(dir), list, opts)) as { files: { file: string }[] };
    return new Map(doc.files.map((f) => [f.file, f]));
  };

  for (const [name, opts] of [['no options', {}], ['LD_LIBRARY_PATH with $ORIGIN, glibc-hwcaps', { libraryPath: '$ORIGIN/../opt/r', hwcaps: ['x86-64-v2'] }]] as [string, LddOptions][]) {
    it(`a mixed set (${name}) gives each file the same record forward, reversed and alone`, () => {
      const forward = records(files, opts);
      const reversed = records([...files].reverse(), opts);
      for (const f of files) {
        expect(reversed.get(f), `${f} reversed`).to.deep.equal(forward.get(f));
        expect(records([f], opts).get(f), `${f} alone`).to.deep.equal(forward.get(f));
      }
    });
  }

  it('no DT_NEEDED and one empty DT_NEEDED load differently, whichever comes first', () => {
    for (const order of [['/bin/none', '/bin/empty'], ['/bin/empty', '/bin/none']]) {
      const r = ldd(new HostRoot(dir), order, {});
      const byFile = new Map(r.reports.map((x) => [x.file, x]));
      expect(byFile.get('/bin/none')!.load!.missing, order.join(' ')).to.deep.equal([]);
      expect(byFile.get('/bin/empty')!.load!.missing.map((m) => m.name), order.join(' ')).to.deep.equal(['']);
    }
  });

  it('a DT_NEEDED path with $ORIGIN is opened from each program\'s own directory (glibc), so two such programs share no answer', () => {
    for (const order of [['/bin/origin', '/opt/bin/origin'], ['/opt/bin/origin', '/bin/origin']]) {
      const byFile = new Map(ldd(new HostRoot(dir), order, {}).reports.map((x) => [x.file, x.load!]));
      expect(byFile.get('/bin/origin')!.objects.find((o) => o.names.includes('$ORIGIN/libx.so'))!.path, order.join(' ')).to.equal('/bin/libx.so');
      expect(byFile.get('/opt/bin/origin')!.missing.map((m) => m.tried.map((t) => t.path)), order.join(' ')).to.deep.equal([['/opt/bin/libx.so']]);
    }
  });

  it('musl: the same path as RPATH in one program and RUNPATH in another is reported as each, whichever comes first', () => {
    for (const order of [['/bin/musl-rpath', '/bin/musl-runpath'], ['/bin/musl-runpath', '/bin/musl-rpath']]) {
      const byFile = new Map(ldd(new HostRoot(dir), order, {}).reports.map((x) => [x.file, x.load!]));
      expect(byFile.get('/bin/musl-rpath')!.objects.find((o) => o.names.includes('libfoo.so.1'))!.via, order.join(' ')).to.equal('rpath');
      expect(byFile.get('/bin/musl-runpath')!.objects.find((o) => o.names.includes('libfoo.so.1'))!.via, order.join(' ')).to.equal('runpath');
    }
  });

  it('a 64-bit EM_ARM file first does not make a real 32-bit ARM library after it search /lib64', () => {
    const r = ldd(new HostRoot(dir), ['/bin/arm-class64', '/lib/libattr.so.1'], {});
    const arm32 = r.reports[1].load!;
    expect(arm32.profile!.defaultDirs).to.deep.equal(['/lib', '/usr/lib']);
    expect(arm32.objects.find((o) => o.names.includes('libc.so.6'))!.path).to.equal('/lib/libc.so.6');
    expect(r.reports[0].load!.profile!.defaultDirs).to.deep.equal(['/lib64', '/usr/lib64']);
  });

  it('a big-endian ARM program first does not make a little-endian one find nothing (the answers are per byte order)', () => {
    const [be, le] = ldd(new HostRoot(dir), ['/bin/arm-be', '/bin/arm-le'], {}).reports.map((x) => x.load!);
    expect(be.missing.map((m) => m.name)).to.include('libc.so.6');
    expect(be.missing.find((m) => m.name === 'libc.so.6')!.tried.map((t) => t.outcome)).to.include('wrong-abi');
    expect(le.objects.find((o) => o.names.includes('libc.so.6'))!.path).to.equal('/lib/libc.so.6');
  });
});

