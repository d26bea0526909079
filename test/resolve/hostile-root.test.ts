// Resolution inside a root built to trap a resolver that escapes it: a RUNPATH climbing out with
// $ORIGIN/../../.., a relative PT_INTERP, libraries reached through links that point outside,
// an ld.so.conf include cycle. Each is answered inside the root, and nothing outside is read.
import { expect } from 'chai';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ldd } from '../../src/commands/ldd.js';
import { needCommand } from '../support/helpers.js';
import { RecordingRoot } from '../support/recording-root.js';

function gcc(args: string[]): void {
  const r = spawnSync('gcc', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gcc ${args.join(' ')}: ${r.stderr}`);
}

describe('resolve: a hostile root', () => {
  let top: string;
  let dir: string;

  before(function () {
    needCommand(this, 'gcc');
    top = mkdtempSync(join(tmpdir(), 'elfpack-hostile-resolve-'));
    dir = join(top, 'root');
    const build = join(top, 'build');
    mkdirSync(build);
    for (const d of ['bin', 'deep/a/b/bin', 'usr/lib/x86_64-linux-gnu', 'etc/ld.so.conf.d', 'lib64']) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(build, 'secret.c'), 'int secret(void) { return 42; }\n');
    writeFileSync(join(build, 'main.c'), 'int secret(void);\nint main(void) { return secret(); }\n');
    // The library exists only OUTSIDE the root, where an escaping resolver would find it.
    gcc(['-shared', '-fPIC', '-Wl,-soname,libsecret.so.1', '-o', join(top, 'libsecret.so.1'), join(build, 'secret.c')]);
    gcc(['-shared', '-fPIC', '-Wl,-soname,libsecret.so.1', '-o', join(build, 'libsecret.so.1'), join(build, 'secret.c')]);
    // RUNPATH $ORIGIN/../../..: from /deep/a/b/bin that is /, and one more level stays at /.
    gcc(['-o', join(dir, 'deep/a/b/bin/climb'), join(build, 'main.c'), '-L', build, '-l:libsecret.so.1', '-Wl,--enable-new-dtags,-rpath,$ORIGIN/../../../../..']);
    gcc(['-o', join(dir, 'bin/relinterp'), join(build, 'main.c'), '-L', build, '-l:libsecret.so.1', '-Wl,--dynamic-linker=../../x']);
    gcc(['-o', join(dir, 'bin/viaconf'), join(build, 'main.c'), '-L', build, '-l:libsecret.so.1']);
    // Links inside the root that point out of it.
    symlinkSync('../../../../..', join(dir, 'usr/lib/x86_64-linux-gnu/up'));
    symlinkSync(join(top, 'libsecret.so.1'), join(dir, 'usr/lib/x86_64-linux-gnu/libsecret.so.1'));
    // ld.so.conf that includes itself through its directory, and names a directory through a link out.
    writeFileSync(join(dir, 'etc/ld.so.conf'), 'include /etc/ld.so.conf.d/*.conf\n');
    writeFileSync(join(dir, 'etc/ld.so.conf.d/loop.conf'), 'include /etc/ld.so.conf\ninclude loop.conf\n/usr/lib/x86_64-linux-gnu/up\n');
    copyFileSync('/lib/x86_64-linux-gnu/libc.so.6', join(dir, 'usr/lib/x86_64-linux-gnu/libc.so.6'));
    copyFileSync('/lib64/ld-linux-x86-64.so.2', join(dir, 'lib64/ld-linux-x86-64.so.2'));
  });
  after(() => top && rmSync(top, { recursive: true, force: true }));

  for (const [name, file] of [['a RUNPATH of $ORIGIN/../../.. stays in the root', '/deep/a/b/bin/climb'], ['a PT_INTERP of ../../x is resolved inside the root', '/bin/relinterp'], ['an ld.so.conf include cycle ends, and its link out is re-rooted', '/bin/viaconf']]) {
    it(`${name}; the library that exists only outside is not found`, () => {
      const root = new RecordingRoot(dir);
      const r = ldd(root, [file]);
      const load = r.reports[0].load!;
      expect(load.missing.map((m) => m.name)).to.include('libsecret.so.1');
      for (const o of load.objects) expect(o.realPath.startsWith(top), o.realPath).to.equal(false);
      expect(root.escapes(), 'host paths read outside the root').to.deep.equal([]);
    });
  }

  it('the relative interpreter is looked for at the root, as "/x"', () => {
    const r = ldd(new RecordingRoot(dir), ['/bin/relinterp']);
    const load = r.reports[0].load!;
    expect(load.interp!.path).to.equal('../../x');
    expect(load.interp!.missing).to.not.equal(undefined);
    expect(load.interp!.missing!.tried[0].outcome).to.equal('absent');
  });

  it('the libc inside the root is found in the default directory', () => {
    const r = ldd(new RecordingRoot(dir), ['/bin/viaconf']);
    const libc = r.reports[0].load!.objects.find((o) => o.names.includes('libc.so.6'))!;
    expect(libc.path).to.equal('/usr/lib/x86_64-linux-gnu/libc.so.6');
  });
});
