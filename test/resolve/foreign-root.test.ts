// Resolution for another architecture inside a root: the loader and default directories are the
// program's (aarch64), and a library of the host's architecture earlier on the path is skipped.
import { expect } from 'chai';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostRoot } from '../../src/root/host-root.js';
import { ldd, renderLdd } from '../../src/commands/ldd.js';
import { Resolver } from '../../src/resolve/resolver.js';
import { inspectEntry, loadProgram } from '../../src/closure/load-program.js';
import { TESTDATA } from '../support/helpers.js';

describe('resolve: a foreign-architecture root (arm64 files from Debian)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'elfpack-arm64-'));
    const lib = join(TESTDATA, 'elf-samples/arm64/libattr.so.1.1.2501');
    for (const d of ['usr/bin', 'usr/lib/aarch64-linux-gnu', 'lib/aarch64-linux-gnu']) mkdirSync(join(dir, d), { recursive: true });
    copyFileSync(join(TESTDATA, 'elf-samples/arm64/hostname'), join(dir, 'usr/bin/hostname'));
    // Any aarch64 shared object stands in for the loader and libc: only their headers are read.
    copyFileSync(lib, join(dir, 'usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1'));
    symlinkSync('../usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1', join(dir, 'lib/ld-linux-aarch64.so.1'));
    copyFileSync(lib, join(dir, 'usr/lib/aarch64-linux-gnu/libc.so.6'));
    // An x86-64 libc.so.6 first on the default path: ld.so skips a library of another machine.
    copyFileSync('/lib/x86_64-linux-gnu/libc.so.6', join(dir, 'lib/aarch64-linux-gnu/libc.so.6'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the aarch64 libc past the x86-64 one, and lists the aarch64 loader', () => {
    const r = ldd(new HostRoot(dir), ['/usr/bin/hostname']);
    expect(renderLdd(r)).to.deep.equal([
      '\tlibc.so.6 => /usr/lib/aarch64-linux-gnu/libc.so.6',
      '\t/lib/ld-linux-aarch64.so.1',
    ]);
    const miss = r.reports[0].load!;
    expect(miss.profile!.machine.ociArch).to.equal('arm64');
    const libc = miss.objects.find((o) => o.names.includes('libc.so.6'))!;
    expect(libc.via).to.equal('default');
    expect(r.ok).to.equal(true);
  });

  it('records the skipped candidate and why it was skipped', () => {
    const resolver = new Resolver(new HostRoot(dir));
    const load = loadProgram(resolver, inspectEntry(resolver, '/usr/bin/hostname'));
    const r = resolver.find('libc.so.6', load.main!, load.profile!);
    expect(r.tried).to.deep.include({ path: '/lib/aarch64-linux-gnu/libc.so.6', via: 'default', outcome: 'wrong-abi', detail: '64-bit x86_64' });
    expect(r.path).to.equal('/usr/lib/aarch64-linux-gnu/libc.so.6');
  });
});
