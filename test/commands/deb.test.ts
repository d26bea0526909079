// elfpack deb: images straight from Debian packages of the real archive this machine reaches,
// for another architecture (arm64 under qemu-user) and traced on the host's; loaded and run.
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debRootKey } from '../../src/deb/deb-root-cache.js';
import { DEFAULT_KEYRING } from '../../src/deb/signature.js';
import { dockerRmi, dockerRun, needEngine } from '../support/engine.js';
import { haveCommand, runCli, skipOrFail } from '../support/helpers.js';

describe('elfpack deb: an image from Debian packages, no builder', function () {
  this.timeout(300_000);
  let dir: string;
  const tags: string[] = [];
  const env = () => ({ XDG_CACHE_HOME: join(dir, 'cache') });
  before(async function () {
    if (!haveCommand('gpgv') || !existsSync(DEFAULT_KEYRING)) skipOrFail(this, 'gpgv or the Debian archive keyring is missing (make deps installs them)');
    needEngine(this);
    dir = mkdtempSync(join(tmpdir(), 'elfpack-deb-'));
    const probe = await runCli(['deb', 'jq', '--plan', '--suite', 'bookworm'], { env: env() });
    if (probe.code !== 0) skipOrFail(this, `the Debian archive is unreachable: ${probe.stderr.trim().split('\n').pop()}`);
  });
  after(() => {
    for (const t of tags) dockerRmi(t);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('jq for arm64, loaded, prints 42 under qemu-user; a second run from the cache gives the same image', async function () {
    const f = '/proc/sys/fs/binfmt_misc/qemu-aarch64';
    if (!existsSync(f) || !readFileSync(f, 'utf8').startsWith('enabled')) skipOrFail(this, 'qemu-aarch64 is not registered with binfmt_misc (make deps does it as root)');
    const tag = `elfpack-test-deb-jq:${process.pid}`;
    const args = (...flags: string[]) => ['deb', 'jq', '--arch', 'arm64', '--suite', 'bookworm', '--tag', tag, '--json', ...flags, '--', '-n', '6*7'];
    const first = await runCli(args('--load'), { env: env() });
    expect(first.code, first.stderr).to.equal(0);
    tags.push(tag);
    const doc = JSON.parse(first.stdout);
    expect(doc.platform).to.deep.include({ architecture: 'arm64' });
    expect(doc.entrypoint).to.deep.equal(['/usr/bin/jq']);
    expect(doc.cmd).to.deep.equal(['-n', '6*7']);
    expect(doc.packages.packages.map((p: { name: string }) => p.name)).to.include.members(['jq', 'libjq1', 'libonig5', 'libc6']);
    expect(doc.debPlan.packages.map((p: { name: string }) => p.name)).to.include('gcc-12-base');
    const ran = dockerRun(tag, [], { flags: ['--platform', 'linux/arm64'] });
    expect([ran.status, ran.stdout.toString()], ran.stderr).to.deep.equal([0, '42\n']);
    const again = await runCli(args('--out', join(dir, 'again.tar')), { env: env() });
    expect(again.code, again.stderr).to.equal(0);
    expect(JSON.parse(again.stdout).imageId).to.equal(doc.imageId);
  });

  it('python3.11, traced on this machine: the run\'s modules and nothing else, far under fetchy\'s 35 MB; it runs', async function () {
    if (!haveCommand('bwrap') || !haveCommand('strace')) skipOrFail(this, 'bubblewrap and strace are needed for --trace (make deps installs them)');
    const tag = `elfpack-test-deb-python:${process.pid}`;
    // /usr/bin/python3.11 is python3.11-minimal's: the program named like the package, whoever ships it.
    const r = await runCli(['deb', 'python3.11', '--suite', 'bookworm', '--trace', '--load', '--tag', tag, '--json', '--',
      '-c', 'import json, sqlite3; print(json.dumps({"sum": sum(range(10))}), sqlite3.sqlite_version_info[0])'], { env: env() });
    expect(r.code, r.stderr).to.equal(0);
    tags.push(tag);
    const doc = JSON.parse(r.stdout);
    expect(doc.entrypoint).to.deep.equal(['/usr/bin/python3.11']);
    expect(doc.totalBytes).to.be.below(20e6);
    expect(doc.files.map((f: { path: string }) => f.path)).to.include('/usr/lib/python3.11/json/decoder.py');
    const ran = dockerRun(tag);
    expect([ran.status, ran.stdout.toString()], ran.stderr).to.deep.equal([0, '{"sum": 45} 3\n']);
  });

  it('a damaged saved root and gpgv verdict are made again: the same image, and the cache whole again', async function () {
    const args = ['deb', 'jq', '--suite', 'bookworm', '--json', '--compression', 'none', '--sbom', 'none'];
    const first = await runCli([...args, '--out', join(dir, 'jq1.tar')], { env: env() });
    expect(first.code, first.stderr).to.equal(0);
    const cache = join(dir, 'cache', 'elfpack', 'deb');
    // This run's saved root (the other tests saved theirs beside it), and gpgv's verdict on bookworm's InRelease.
    const root = join(cache, 'deb-root', 'roots', `${debRootKey(JSON.parse(first.stdout).debPlan.packages, { arch: 'amd64' })}.index`);
    const saved = [root, ...readdirSync(join(cache, 'lists', 'verified')).map((f) => join(cache, 'lists', 'verified', f))];
    expect(saved.every((f) => existsSync(f)) && saved.length).to.equal(2);
    const whole = saved.map((f) => readFileSync(f));
    for (const f of saved) writeFileSync(f, readFileSync(f).subarray(0, 100));
    const again = await runCli([...args, '--out', join(dir, 'jq2.tar')], { env: env() });
    expect(again.code, again.stderr).to.equal(0);
    expect(JSON.parse(again.stdout).imageId).to.equal(JSON.parse(first.stdout).imageId);
    expect(readFileSync(join(dir, 'jq2.tar'))).to.deep.equal(readFileSync(join(dir, 'jq1.tar')));
    // Made again whole (a verdict records when gpgv ran, so only its size is compared).
    saved.forEach((f, i) => expect(readFileSync(f).length, f).to.equal(whole[i].length));
  });

  it('a package with no program in /usr/bin, and none named like it, asks for --entrypoint in one line', async function () {
    const r = await runCli(['deb', 'binutils-common', '--suite', 'bookworm', '--out', join(dir, 'x.tar')], { env: env() });
    expect(r.code).to.equal(2);
    expect(r.stderr.trim().split('\n').pop()).to.match(/binutils-common ships no program in \/usr\/bin: name one with --entrypoint$/);
    expect(existsSync(join(dir, 'x.tar'))).to.equal(false);
  });
});
