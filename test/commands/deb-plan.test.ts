// elfpack deb --plan against the real Debian archive this machine reaches (through the host's apt
// sources): the packages apt would install, for another architecture too, and the clear errors.
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_KEYRING } from '../../src/deb/signature.js';
import { haveCommand, runCli, skipOrFail } from '../support/helpers.js';

describe('elfpack deb --plan: a minimal install as apt would choose it', function () {
  this.timeout(180_000);
  let cache: string;
  const env = () => ({ XDG_CACHE_HOME: cache });
  before(async function () {
    if (!haveCommand('gpgv') || !existsSync(DEFAULT_KEYRING)) skipOrFail(this, 'gpgv or the Debian archive keyring is missing (make deps installs them)');
    cache = mkdtempSync(join(tmpdir(), 'elfpack-deb-plan-'));
    const probe = await runCli(['deb', 'jq', '--plan', '--json', '--suite', 'bookworm'], { env: env() });
    if (probe.code !== 0 && /DEB_UNREACHABLE|could not be reached|no answer|ENOTFOUND|ECONNREFUSED/i.test(probe.stderr)) skipOrFail(this, `the Debian archive is unreachable: ${probe.stderr.trim()}`);
  });
  after(() => { if (cache) rmSync(cache, { recursive: true, force: true }); });

  it('jq for arm64: jq, its libraries and libc6, every one arm64, signed, each with why it is there', async function () {
    const r = await runCli(['deb', 'jq', '--arch', 'arm64', '--suite', 'bookworm', '--plan', '--json'], { env: env() });
    expect(r.code, r.stderr).to.equal(0);
    const plan = JSON.parse(r.stdout);
    expect(plan).to.include({ schema: 'elfpack.deb-plan/v1', suite: 'bookworm', arch: 'arm64' });
    expect(plan.signers.length).to.be.greaterThan(0);
    const names = plan.packages.map((p: { name: string }) => p.name);
    expect(names).to.include.members(['jq', 'libjq1', 'libonig5', 'libc6']);
    expect(names).to.not.include('bash');
    for (const p of plan.packages) {
      expect(['arm64', 'all']).to.include(p.arch);
      expect(p.sha256).to.match(/^[0-9a-f]{64}$/);
      expect(p.filename).to.match(/^pool\//);
    }
    // Dependencies first; jq, which nothing needs, last.
    expect(names[names.length - 1]).to.equal('jq');
    expect(plan.packages.find((p: { name: string }) => p.name === 'libonig5').why).to.deep.equal(['jq', 'libjq1', 'libonig5']);
    // base-files, for its os-release and debian_version only: beside the packages, of the same architecture.
    expect(plan.distroFiles).to.deep.include({ name: 'base-files', arch: 'arm64', why: ['base-files'] });
    expect(plan.distroFiles.filename).to.match(/^pool\/main\/b\/base-files\//);
  });

  it('a plan that has base-files itself takes no second copy for the distribution files', async function () {
    const r = await runCli(['deb', 'base-files', '--suite', 'bookworm', '--plan', '--json'], { env: env() });
    expect(r.code, r.stderr).to.equal(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.packages.map((p: { name: string }) => p.name)).to.include('base-files');
    expect(plan.distroFiles).to.equal(undefined);
  });

  it('a second plan comes from the plan cache (keyed by the verified indexes\' SHA256), the same; a damaged cached plan is made again', async function () {
    const args = ['deb', 'curl', '--suite', 'bookworm', '--plan', '--json'];
    const first = await runCli(args, { env: env() });
    expect(first.code, first.stderr).to.equal(0);
    const plans = join(cache, 'elfpack', 'deb', 'plans');
    const files = readdirSync(plans).filter((f) => f.endsWith('.json'));
    expect(files.length).to.be.greaterThan(0);
    const again = await runCli(args, { env: env() });
    expect(again.stdout).to.equal(first.stdout);
    for (const f of files) writeFileSync(join(plans, f), '{"packages": [{"name": "evil"}], "notes": []}');
    const remade = await runCli(args, { env: env() });
    expect(remade.code, remade.stderr).to.equal(0);
    expect(remade.stdout).to.equal(first.stdout);
  });

  it('--exclude-package drops a package and what only it brings, with a note; the text form lists each with its chain', async function () {
    const r = await runCli(['deb', 'jq', '--suite', 'bookworm', '--plan', '--exclude-package', 'libonig5'], { env: env() });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^\d+ packages from \S+ bookworm \w+ \(signed by [0-9A-F]{16}/);
    expect(r.stdout).to.match(/\n {2}libjq1 \S+ \([\d.]+ [kM]B\) ← jq\n/);
    expect(r.stdout).to.not.match(/\n {2}libonig5 /);
    expect(r.stdout).to.match(/note: .*libonig5/);
  });

  it('an unknown package, a made-up architecture, and a suite that is not there are one line each', async function () {
    const unknown = await runCli(['deb', 'jqq', '--suite', 'bookworm', '--plan'], { env: env() });
    expect([unknown.code, unknown.stderr.trim().split('\n').filter((l) => !l.startsWith('elfpack: reading')).length]).to.deep.equal([1, 1]);
    expect(unknown.stderr).to.match(/jqq: no such package \(did you mean jq/);
    const arch = await runCli(['deb', 'jq', '--suite', 'bookworm', '--arch', 'mips', '--plan', '--mirror', 'http://deb.debian.org/debian'], { env: env() });
    expect(arch.code).to.not.equal(0);
    expect(arch.stderr).to.match(/mips.*(amd64|arm64)/);
    const nosuite = await runCli(['deb', 'jq', '--suite', 'no-such-suite', '--plan'], { env: env() });
    expect(nosuite.code).to.not.equal(0);
    expect(nosuite.stderr.trim().split('\n').pop()).to.match(/no-such-suite/);
  });
});
