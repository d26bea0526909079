import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, TESTDATA, fixture, needCommand, runCli, systemLdd } from '../support/helpers.js';
import { buildElf } from '../support/elf-builder.js';

/** The system ldd's stdout, stderr and exit status, without load addresses and the vDSO line. */
function systemLddStreams(files: string[]): { stdout: string; stderr: string; code: number | null } {
  const r = spawnSync('ldd', files, { encoding: 'utf8' });
  const clean = (t: string) => t.split('\n').filter((l) => !/linux-vdso\.so|linux-gate\.so/.test(l)).map((l) => l.replace(/ \(0x[0-9a-f]+\)$/, '')).join('\n');
  return { stdout: clean(r.stdout), stderr: clean(r.stderr), code: r.status };
}

describe('commands/ldd', () => {
  it('several files: a "FILE:" header for each, as ldd prints them', async function () {
    const a = fixture(this, 'glibc/hello');
    const b = fixture(this, 'static/hello-static-pie');
    const c = fixture(this, 'cxx/hello-cxx');
    const r = await runCli(['ldd', a, b, c]);
    expect(r.stdout.replace(/\n$/, '')).to.equal(systemLdd([a, b, c]));
    expect(r.code).to.equal(0);
  });

  it('default format: "not a dynamic executable" on stderr and exit 1 for a static program, a script or a non-ELF file, as glibc\'s ldd', async function () {
    needCommand(this, 'ldd');
    const files = [fixture(this, 'glibc/hello'), fixture(this, 'static/hello-static'), fixture(this, 'script/run.sh'), join(TESTDATA, 'malformed/text-file'), fixture(this, 'static/hello-static-pie')];
    for (const set of [files, [files[1]], [files[2]], [files[0], files[4]]]) {
      const ours = await runCli(['ldd', ...set]);
      const theirs = systemLddStreams(set);
      expect(ours.stdout, set.join(' ')).to.equal(theirs.stdout);
      // Our stderr adds elfpack's own notes ("a script run by …", "not an ELF file") after ldd's lines.
      expect(ours.stderr.split('\n').filter((l) => !l.startsWith('elfpack: ')).join('\n'), set.join(' ')).to.equal(theirs.stderr);
      expect(ours.code, set.join(' ')).to.equal(theirs.code);
    }
  });

  it('--tree and --json keep their exit status: 0 for a static program or a script whose interpreter is there', async function () {
    const files = [fixture(this, 'static/hello-static'), fixture(this, 'script/run.sh')];
    const tree = await runCli(['ldd', '--tree', ...files]);
    expect([tree.code, tree.stdout]).to.deep.equal([0, `${files[0]} (not a dynamic executable)\n${files[1]} (script for /bin/sh)\n`]);
    const json = await runCli(['ldd', '--json', ...files]);
    expect([json.code, JSON.parse(json.stdout).ok]).to.deep.equal([0, true]);
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

  it('a script: "not a dynamic executable" and its interpreter on stderr, exit 1', async function () {
    const s = fixture(this, 'script/run.sh');
    const r = await runCli(['ldd', s]);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.equal(`\tnot a dynamic executable\nelfpack: ${s}: a script run by /bin/sh -e\n`);
    expect(r.code).to.equal(1);
  });

  describe('"#!" chains', () => {
    let dir: string;
    const script = (name: string, interp: string) => writeFileSync(join(dir, name), `#!${interp}\necho\n`, { mode: 0o755 });
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'elfpack-ldd-scripts-'));
      script('self', '/self');
      symlinkSync('self', join(dir, 'link-to-self'));
      script('via-link', '/link-to-self'); // via-link → self → self
      script('ping', '/pong');
      script('pong', '/ping');
      script('s5', '/bin/sh');
      for (let i = 4; i >= 0; i--) script(`s${i}`, `/s${i + 1}`); // s0 → s1 → … → s5 → /bin/sh: six scripts
      mkdirSync(join(dir, 'bin'));
      writeFileSync(join(dir, 'bin/sh'), buildElf({ type: 2 }), { mode: 0o755 });
    });
    after(() => dir && rmSync(dir, { recursive: true, force: true }));
    const inRoot = (...args: string[]) => runCli(['ldd', '--root', dir, ...args]);

    it('a script whose interpreter is itself, or whose chain comes back, is a SCRIPT_LOOP error on one line, exit 1', async () => {
      for (const [file, says] of [['/self', 'its "#!" interpreter /self is the script itself: '], ['/ping', 'its "#!" interpreter /ping is the script itself'], ['/via-link', 'its "#!" interpreter /self is /self, a script already in its chain']]) {
        for (const format of [[], ['--tree']]) {
          const r = await inRoot(...format, file);
          expect(r.code, file).to.equal(1);
          expect(r.stdout, file).to.equal('');
          expect(r.stderr, file).to.match(/^elfpack: \/\S+: its "#!" interpreter [^\n]*ELOOP[^\n]*\n$/);
          expect(r.stderr, file).to.include(`elfpack: ${file}: ${says}`);
        }
        const doc = JSON.parse((await inRoot('--json', file)).stdout);
        expect(doc.ok, file).to.equal(false);
        expect(doc.files[0]).to.deep.include({ status: 'error' });
        expect(doc.files[0].error.code, file).to.equal('SCRIPT_LOOP');
        expect(doc.files[0].script.interpreterFound, file).to.equal(false);
      }
    });

    it('five "#!" scripts in a row run, as the kernel runs them; a sixth is its ELOOP', async () => {
      const five = await inRoot('--json', '/s1');
      expect(five.code).to.equal(0);
      expect(JSON.parse(five.stdout).files[0]).to.deep.include({ status: 'script' });
      expect(JSON.parse(five.stdout).files[0].script.interpreterFound).to.equal(true);
      const six = await inRoot('--json', '/s0');
      expect(six.code).to.equal(1);
      expect(JSON.parse(six.stdout).files[0].error.code).to.equal('SCRIPT_LOOP');
    });
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
