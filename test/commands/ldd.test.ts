import { expect } from 'chai';
import { join } from 'node:path';
import { FIXTURES, TESTDATA, fixture, runCli, systemLdd } from '../support/helpers.js';

describe('commands/ldd', () => {
  it('several files: a "FILE:" header for each, as ldd prints them', async function () {
    const a = fixture(this, 'glibc/hello');
    const b = fixture(this, 'static/hello-static');
    const c = fixture(this, 'cxx/hello-cxx');
    const r = await runCli(['ldd', a, b, c]);
    expect(r.stdout.replace(/\n$/, '')).to.equal(systemLdd([a, b, c]));
    expect(r.code).to.equal(0);
  });

  it('--tree: each library under the object that needed it, with how it was found', async function () {
    const app = fixture(this, 'origin/bin/app');
    const r = await runCli(['ldd', '--tree', app]);
    const lines = r.stdout.split('\n');
    expect(lines[0]).to.equal(`${app} (interpreter => /lib64/ld-linux-x86-64.so.2)`);
    expect(lines[1]).to.equal(`    libgreet.so.1 => ${FIXTURES}/origin/bin/../lib/libgreet.so.1 [runpath]`);
    expect(lines[2]).to.equal(`        libdep.so.1 => ${FIXTURES}/origin/bin/../lib/libdep.so.1 [runpath]`);
    expect(lines).to.include('        libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 [ld.so.cache]');
  });

  it('a missing library: "not found", the places tried on stderr, exit 1', async function () {
    const app = fixture(this, 'missing/app-missing');
    const r = await runCli(['ldd', app]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.include('\tlibgone.so.1 => not found\n');
    expect(r.stderr).to.match(/elfpack: .*app-missing: libgone\.so\.1 \(needed by .*app-missing\) not found; tried \/lib\/x86_64-linux-gnu\/libgone\.so\.1, /);
    const tree = await runCli(['ldd', '--tree', app]);
    expect(tree.stdout).to.include('    libgone.so.1 => not found');
  });

  it('--json: a missing library lists every place tried, and how', async function () {
    const app = fixture(this, 'rpath/bin/app-runpath');
    const doc = JSON.parse((await runCli(['ldd', '--json', app])).stdout);
    expect(doc.ok).to.equal(false);
    const miss = doc.files[0].missing[0];
    expect(miss.name).to.equal('libinner.so.1');
    expect(miss.neededBy).to.match(/libouter\.so\.1$/);
    expect(miss.tried.map((t: { via: string }) => t.via)).to.include.members(['default']);
    expect(miss.tried.map((t: { via: string }) => t.via)).to.not.include('rpath');
  });

  it('a script: "not a dynamic executable", with its interpreter on stderr', async function () {
    const s = fixture(this, 'script/run.sh');
    const r = await runCli(['ldd', s]);
    expect(r.stdout).to.equal('\tnot a dynamic executable\n');
    expect(r.stderr).to.equal(`elfpack: ${s}: a script run by /bin/sh -e\n`);
    expect(r.code).to.equal(0);
  });

  it('inside a root, FILE is a path in the root and the root\'s own ld.so.conf is read', async function () {
    fixture(this, 'confroot/usr/bin/app-conf');
    const r = await runCli(['ldd', '--root', `${FIXTURES}/confroot`, '/usr/bin/app-conf']);
    expect(r.stdout).to.equal('\tlibconf.so.1 => /opt/conflib/libconf.so.1\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6\n\t/lib64/ld-linux-x86-64.so.2\n');
    expect(r.code).to.equal(0);
  });

  it('e_phnum PN_XNUM is a malformed file: one error line and exit 1, never "not a dynamic executable"', async () => {
    for (const name of ['pn-xnum', 'pn-xnum-zero']) {
      const f = join(TESTDATA, 'malformed', name);
      for (const args of [[f], ['--tree', f]]) {
        const r = await runCli(['ldd', ...args]);
        expect([r.code, r.stdout], name).to.deep.equal([1, '']);
        expect(r.stderr, name).to.match(/^elfpack: .*: e_phnum is PN_XNUM \(0xffff\), which only core files use[^\n]*\n$/);
      }
    }
  });
});
