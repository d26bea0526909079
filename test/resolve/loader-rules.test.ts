// The less common loader rules, each on a small root built here with gcc: DF_1_NODEFLIB,
// glibc-hwcaps subdirectories, $LIB and $PLATFORM, a DT_NEEDED that is a path, LD_LIBRARY_PATH,
// musl's /etc/ld-musl-ARCH.path, and a FIFO where a library should be.
import { expect } from 'chai';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { HostRoot } from '../../src/root/host-root.js';
import { ldd, type LddOptions } from '../../src/commands/ldd.js';
import { needCommand } from '../support/helpers.js';

const T = 'x86_64-linux-gnu';

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

describe('resolve: loader rules on small roots', () => {
  let dir: string;
  let src: string;
  const put = (rel: string, from: string) => {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    copyFileSync(from, join(dir, rel));
  };
  const lib = (soname: string | null, out: string, extra: string[] = [], cc = 'gcc') => {
    mkdirSync(dirname(join(dir, out)), { recursive: true });
    run(cc, ['-shared', '-fPIC', ...(soname ? [`-Wl,-soname,${soname}`] : []), '-o', join(dir, out), join(src, 'lib.c'), ...extra]);
  };
  const prog = (out: string, libs: string[], extra: string[] = [], cc = 'gcc') => {
    mkdirSync(dirname(join(dir, out)), { recursive: true });
    run(cc, ['-o', join(dir, out), join(src, 'main.c'), ...libs, ...extra]);
  };
  const resolve = (file: string, opts: LddOptions = {}) => {
    const r = ldd(new HostRoot(dir), [file], opts);
    const load = r.reports[0].load!;
    const found: Record<string, string> = {};
    for (const o of load.objects) if (o.role === 'library') found[o.names[0]] = `${o.path} ${o.via}`;
    return { found, missing: load.missing.map((m) => m.name), load };
  };

  before(function () {
    needCommand(this, 'gcc');
    dir = mkdtempSync(join(tmpdir(), 'elfpack-rules-'));
    src = join(dir, '.src');
    mkdirSync(src);
    writeFileSync(join(src, 'lib.c'), 'int f(void) { return 1; }\n');
    writeFileSync(join(src, 'main.c'), 'int f(void);\nint main(void) { return f(); }\n');
    put(`usr/lib/${T}/libc.so.6`, `/lib/${T}/libc.so.6`);
    put(`usr/lib/${T}/ld-linux-x86-64.so.2`, '/lib64/ld-linux-x86-64.so.2');
    put('lib64/ld-linux-x86-64.so.2', '/lib64/ld-linux-x86-64.so.2');
    lib('libfoo.so.1', `usr/lib/${T}/libfoo.so.1`);
    lib('libfoo.so.1', `usr/lib/${T}/glibc-hwcaps/x86-64-v3/libfoo.so.1`);
    lib('libfoo.so.1', 'opt/llp/libfoo.so.1');
    lib('libfoo.so.1', `opt/lib/${T}/libfoo.so.1`);
    lib('libfoo.so.1', 'opt/plat/x86_64/libfoo.so.1');
    lib(null, 'opt/direct/libdirect.so');
    const L = ['-L', join(dir, `usr/lib/${T}`), '-l:libfoo.so.1'];
    prog('bin/plain', L);
    prog('bin/nodeflib', L, ['-Wl,-z,nodefaultlib']);
    prog('bin/lib-token', L, ['-Wl,--enable-new-dtags,-rpath,/opt/$LIB']);
    prog('bin/platform-token', L, ['-Wl,--enable-new-dtags,-rpath,/opt/plat/${PLATFORM}']);
    // Linked by path to a library without SONAME: DT_NEEDED is that path (relative: from the working directory, "/").
    const r = spawnSync('gcc', ['-o', 'bin/direct', join(src, 'main.c'), 'opt/direct/libdirect.so'], { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    mkdirSync(join(dir, 'fifo'));
    spawnSync('mkfifo', [join(dir, 'fifo/libfoo.so.1')]);
    prog('bin/fifo', L, ['-Wl,--enable-new-dtags,-rpath,/fifo']);
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('finds a library in a default directory', () => {
    expect(resolve('/bin/plain').found['libfoo.so.1']).to.equal(`/usr/lib/${T}/libfoo.so.1 default`);
  });

  it('DF_1_NODEFLIB: the default directories are not searched (so even libc is not found here)', () => {
    const r = resolve('/bin/nodeflib');
    expect(r.missing).to.deep.equal(['libfoo.so.1', 'libc.so.6']);
    expect(resolve('/bin/plain').missing).to.deep.equal([]);
  });

  it('glibc-hwcaps: a supported subdirectory wins over the directory itself', () => {
    expect(resolve('/bin/plain', { hwcaps: ['x86-64-v3', 'x86-64-v2'] }).found['libfoo.so.1'])
      .to.equal(`/usr/lib/${T}/glibc-hwcaps/x86-64-v3/libfoo.so.1 default`);
    expect(resolve('/bin/plain', { hwcaps: ['x86-64-v2'] }).found['libfoo.so.1']).to.equal(`/usr/lib/${T}/libfoo.so.1 default`);
  });

  it('$LIB expands to lib/TRIPLET on a multiarch root, $PLATFORM to the machine', () => {
    expect(resolve('/bin/lib-token').found['libfoo.so.1']).to.equal(`/opt/lib/${T}/libfoo.so.1 runpath`);
    expect(resolve('/bin/platform-token').found['libfoo.so.1']).to.equal('/opt/plat/x86_64/libfoo.so.1 runpath');
  });

  it('a DT_NEEDED with a slash is opened as a path, nothing searched', () => {
    const r = resolve('/bin/direct');
    expect(r.found['opt/direct/libdirect.so']).to.equal('opt/direct/libdirect.so direct');
    expect(r.load.objects.find((o) => o.via === 'direct')!.realPath).to.equal('/opt/direct/libdirect.so');
  });

  it('LD_LIBRARY_PATH (--library-path) comes before the default directories', () => {
    expect(resolve('/bin/plain', { libraryPath: '/nonexistent:/opt/llp' }).found['libfoo.so.1']).to.equal('/opt/llp/libfoo.so.1 ld_library_path');
  });

  it('a FIFO where the library should be stops the search with an error, without blocking', () => {
    const r = resolve('/bin/fifo');
    expect(r.missing).to.deep.equal(['libfoo.so.1']);
    expect(r.load.missing[0].error).to.match(/\/fifo\/libfoo\.so\.1: is a FIFO/);
  });

  // One resolver answers many programs (ldd over a whole directory): an answer is shared only
  // between requesters whose search reads the same things.
  describe('answers shared between programs', () => {
    before(() => {
      for (const app of ['app1', 'app2']) {
        lib('libfoo.so.1', `${app}/l/libfoo.so.1`);
        prog(`${app}/bin/app`, ['-L', join(dir, `${app}/l`), '-l:libfoo.so.1']);
      }
      lib('libbar.so.1', 'opt/x/libbar.so.1', ['-L', join(dir, `usr/lib/${T}`), '-Wl,--no-as-needed', '-l:libfoo.so.1']);
      prog('bin/nodeflib-rpath', L(), ['-Wl,-z,nodefaultlib', '-Wl,--disable-new-dtags,-rpath,/opt/x']);
      prog('bin/nodeflib-bar', ['-L', join(dir, 'opt/x'), '-l:libbar.so.1'], ['-Wl,-z,nodefaultlib', '-Wl,--disable-new-dtags,-rpath,/opt/x']);
    });
    const L = () => ['-L', join(dir, `usr/lib/${T}`), '-l:libfoo.so.1'];
    const foundIn = (r: ReturnType<typeof ldd>, i: number, name: string) => {
      const o = r.reports[i].load!.objects.find((x) => x.names.includes(name));
      return o ? `${o.path} ${o.via}` : 'missing';
    };

    it('$ORIGIN in LD_LIBRARY_PATH is each program\'s own directory (glibc)', () => {
      const r = ldd(new HostRoot(dir), ['/app1/bin/app', '/app2/bin/app'], { libraryPath: '$ORIGIN/../l' });
      // ld.so names the path as it built it, without folding "..".
      expect(foundIn(r, 0, 'libfoo.so.1')).to.equal('/app1/bin/../l/libfoo.so.1 ld_library_path');
      expect(foundIn(r, 1, 'libfoo.so.1')).to.equal('/app2/bin/../l/libfoo.so.1 ld_library_path');
    });

    it('DF_1_NODEFLIB is the requester\'s own: a library loaded by such a program still searches the defaults', () => {
      // Both programs pass the RPATH /opt/x on; only the first asks for libfoo itself.
      const r = ldd(new HostRoot(dir), ['/bin/nodeflib-rpath', '/bin/nodeflib-bar']);
      expect(foundIn(r, 0, 'libfoo.so.1')).to.equal('missing');
      expect(foundIn(r, 1, 'libbar.so.1')).to.equal('/opt/x/libbar.so.1 rpath');
      expect(foundIn(r, 1, 'libfoo.so.1')).to.equal(`/usr/lib/${T}/libfoo.so.1 default`);
    });
  });

  describe('musl', () => {
    before(function () {
      needCommand(this, 'musl-gcc');
      put('lib/ld-musl-x86_64.so.1', '/lib/ld-musl-x86_64.so.1');
      lib('libbar.so', 'opt/musl-lib/libbar.so', [], 'musl-gcc');
      prog('bin/musl-app', ['-L', join(dir, 'opt/musl-lib'), '-lbar'], [], 'musl-gcc');
    });

    it('without /etc/ld-musl-x86_64.path the built-in path is searched; with it, its directories', () => {
      rmSync(join(dir, 'etc/ld-musl-x86_64.path'), { force: true });
      expect(resolve('/bin/musl-app').missing).to.deep.equal(['libbar.so']);
      mkdirSync(join(dir, 'etc'), { recursive: true });
      writeFileSync(join(dir, 'etc/ld-musl-x86_64.path'), '/opt/nothing\n/opt/musl-lib\n');
      const r = resolve('/bin/musl-app');
      expect(r.found['libbar.so']).to.equal('/opt/musl-lib/libbar.so ld_musl_path');
      expect(r.load.profile!.libc).to.equal('musl');
    });

    it('LD_LIBRARY_PATH is taken literally: musl expands no $ORIGIN in it', () => {
      writeFileSync(join(dir, 'etc/ld-musl-x86_64.path'), '/opt/nothing\n');
      // Expanded, "$ORIGIN/../opt/musl-lib" would be /opt/musl-lib; literally, it is a directory
      // named "$ORIGIN" (relative to the working directory "/"), which is not there yet…
      expect(resolve('/bin/musl-app', { libraryPath: '$ORIGIN/../opt/musl-lib' }).missing).to.deep.equal(['libbar.so']);
      // …and once it is, the path goes through it.
      mkdirSync(join(dir, '$ORIGIN'));
      expect(resolve('/bin/musl-app', { libraryPath: '$ORIGIN/../opt/musl-lib' }).found['libbar.so'])
        .to.equal('$ORIGIN/../opt/musl-lib/libbar.so ld_library_path');
    });
  });
});
