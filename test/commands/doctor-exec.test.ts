// doctor on directory roots (no engine needed): the exec chain through "#!" lines, env's PATH
// lookup, overrides as docker run takes them, platforms, and the one-line usage errors.
import { expect } from 'chai';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { TESTDATA, fixture, runCli } from '../support/helpers.js';
import { compareVersions } from '../../src/commands/doctor-exec.js';
import { buildElf } from '../support/elf-builder.js';

describe('commands/doctor on a directory root', function () {
  let dir: string;
  const file = (path: string, text: string | Buffer, mode = 0o755) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text, { mode });
    chmodSync(join(dir, path), mode);
  };
  const doctorJson = async (...args: string[]) => {
    const r = await runCli(['doctor', dir, '--json', ...args]);
    return { code: r.code, stderr: r.stderr, report: r.stdout ? JSON.parse(r.stdout) : undefined };
  };
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'elfpack-doctor-dir-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('follows "#!/usr/bin/env NAME" through PATH: a missing NAME is the finding, a present one is examined in turn', async function () {
    const stat = fixture(this, 'static/hello-static');
    mkdirSync(join(dir, 'usr/bin'), { recursive: true });
    copyFileSync(stat, join(dir, 'usr/bin/env'));
    file('app', '#!/usr/bin/env python3\nprint(1)\n');
    let r = await doctorJson('--entrypoint', '/app');
    expect(r.code).to.equal(1);
    expect(r.report.findings.map((f: { code: string }) => f.code)).to.deep.equal(['SCRIPT_INTERPRETER_MISSING']);
    expect(r.report.findings[0].message).to.include('finds no python3 on PATH');
    file('usr/local/bin/python3', '#!/usr/bin/env\r\n');
    r = await doctorJson('--entrypoint', '/app');
    expect(r.report.findings.map((f: { code: string }) => f.code)).to.deep.equal(['SCRIPT_CRLF']);
    expect(r.report.chain).to.deep.equal([
      '/app: a script run by /usr/bin/env python3',
      '/usr/bin/env: x86_64 program, static',
      '/usr/local/bin/python3: a script run by /usr/bin/env',
      '/usr/bin/env: x86_64 program, static',
    ]);
  });

  it('a script that runs itself, or a "#!" chain that comes back, is named as a loop (the kernel\'s ELOOP)', async function () {
    file('loop', '#!/loop\n');
    file('ping', '#!/pong\n');
    file('pong', '#!/ping\n');
    for (const [entry, says] of [['/loop', 'its "#!" interpreter /loop comes back to the script itself'], ['/ping', 'its "#!" interpreter /ping comes back to the script itself']]) {
      const r = await doctorJson('--entrypoint', entry);
      expect(r.code).to.equal(1);
      expect(r.report.findings.map((f: { code: string }) => f.code)).to.deep.equal(['EXEC_FORMAT']);
      expect(r.report.findings[0].message).to.include(says).and.match(/more than 5 "#!" scripts in a row, then fails \(ELOOP\)$/);
    }
  });

  it('five "#!" scripts in a row run, as the kernel runs them; a sixth is an exec failure (ELOOP)', async function () {
    copyFileSync(fixture(this, 'static/hello-static'), join(dir, 'sh'));
    file('s5', '#!/sh\n');
    for (let i = 4; i >= 0; i--) file(`s${i}`, `#!/s${i + 1}\n`);
    expect((await doctorJson('--entrypoint', '/s1')).report.findings).to.deep.equal([]);
    const r = await doctorJson('--entrypoint', '/s0');
    expect(r.report.findings.map((f: { code: string; message: string }) => `${f.code} ${f.message}`)).to.deep.equal(['EXEC_FORMAT more than 5 "#!" scripts in a row: the kernel gives up (ELOOP)']);
  });

  it('e_phnum PN_XNUM (whatever section header 0 holds) is an exec format error with its reason, never a static program', async () => {
    for (const name of ['pn-xnum', 'pn-xnum-zero']) {
      file('app', readFileSync(join(TESTDATA, 'malformed', name)));
      const r = await doctorJson('--entrypoint', '/app');
      expect(r.code, name).to.equal(1);
      expect(r.report.findings.map((f: { code: string }) => f.code), name).to.deep.equal(['EXEC_FORMAT']);
      expect(r.report.findings[0].message, name).to.match(/malformed ELF file \(e_phnum is PN_XNUM .*\): exec fails with "exec format error"/);
      expect(r.report.chain, name).to.deep.equal([]);
    }
  });

  it('a program with no program headers (e_phnum 0) is an exec format error, as the kernel refuses it, not a static program', async () => {
    const elf = buildElf({ type: 2 });
    elf.writeUInt16LE(0, 56);
    file('app', elf);
    const r = await doctorJson('--entrypoint', '/app');
    expect(r.code).to.equal(1);
    expect(r.report.findings.map((f: { code: string; message: string }) => `${f.code} ${f.message}`)).to.deep.equal(['EXEC_FORMAT /app is a malformed ELF file (no program headers): exec fails with "exec format error"']);
  });

  it('a dangling symlink entrypoint names its target; a bare name is looked up on PATH; args after -- are the CMD', async function () {
    mkdirSync(join(dir, 'bin'));
    symlinkSync('/opt/app/real', join(dir, 'bin/app'));
    let r = await doctorJson('--entrypoint', 'app');
    expect(r.report.findings[0]).to.include({ code: 'NOT_IN_PATH', path: 'app' });
    r = await doctorJson('--entrypoint', '/bin/app');
    expect(r.report.findings[0].message).to.equal('the entrypoint /bin/app is not in the image (a symlink to /opt/app/real, which is not there): exec fails with "no such file or directory"');
    copyFileSync(fixture(this, 'static/hello-static'), join(dir, 'bin/real'));
    rmSync(join(dir, 'bin/app'));
    symlinkSync('real', join(dir, 'bin/app'));
    r = await doctorJson('--entrypoint', 'app', '--', '--flag');
    expect([r.code, r.report.command, r.report.findings]).to.deep.equal([0, ['app', '--flag'], []]);
    expect(r.report.chain).to.deep.equal(['/bin/app (/bin/real): x86_64 program, static']);
  });

  it('an arm64 program checked for linux/amd64 is an exec format error; 32-bit x86 on amd64 only a warning', async function () {
    copyFileSync(fixture(this, 'go/gostatic-arm64'), join(dir, 'app'));
    let r = await doctorJson('--entrypoint', '/app', '--platform', 'linux/amd64');
    expect(r.code).to.equal(1);
    expect(r.report.findings[0]).to.include({ code: 'ARCH_MISMATCH', severity: 'error' });
    expect(r.report.chain[0]).to.equal('/app: aarch64 program (Go), static');
    r = await doctorJson('--entrypoint', '/app', '--platform', 'arm64');
    expect([r.code, r.report.platform]).to.deep.equal([0, 'linux/arm64']);
  });

  it('bad targets and options are one line each, exit 2 for usage', async function () {
    expect(await runCli(['doctor', dir])).to.deep.include({ code: 2, stderr: `elfpack: ${dir}: a directory has no image config: say what it runs with --entrypoint PATH\n` });
    expect(await runCli(['doctor', join(dir, 'nope.tar')])).to.deep.include({ code: 1, stderr: `elfpack: ${join(dir, 'nope.tar')}: no such file or directory\n` });
    file('plain.txt', 'x'.repeat(2000), 0o644);
    expect(await runCli(['doctor', join(dir, 'plain.txt')])).to.deep.include({ code: 2, stderr: `elfpack: ${join(dir, 'plain.txt')}: is neither an image tar, an OCI layout nor a directory\n` });
    expect(await runCli(['doctor'])).to.deep.include({ code: 2, stderr: 'elfpack: doctor: give a TARGET or --from-image IMAGE (one of them)\n' });
    expect((await runCli(['doctor', dir, '--entrypoint', '/x', '--platform', 'a/b/c/d'])).stderr).to.equal('elfpack: --platform a/b/c/d: want OS/ARCH[/VARIANT], e.g. linux/arm64\n');
  });

  it('orders symbol versions by their numbers (GLIBC_2.9 < GLIBC_2.17 < GLIBC_2.34)', () => {
    expect(['GLIBC_2.34', 'GLIBC_2.9', 'GLIBC_2.17', 'GLIBC_2.2.5'].sort(compareVersions)).to.deep.equal(['GLIBC_2.2.5', 'GLIBC_2.9', 'GLIBC_2.17', 'GLIBC_2.34']);
  });
});
