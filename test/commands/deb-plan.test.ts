// elfpack deb --plan against the real Debian archive this machine reaches (through the host's apt
// sources): the packages apt would install, for another architecture too, and the clear errors.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
    expect(r.stdout).to.match(/\n {2}libjq1 \S+ (\(bookworm-\S+\) )?\([\d.]+ [kM]B\) ← jq\n/);
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

/** What apt-cache policy says of packages (one run): each one's candidate, and each version's sources as "URI SUITE". */
function aptPolicy(pkgs: string[]): Map<string, { candidate: string; versions: Map<string, string[]> }> {
  const r = spawnSync('apt-cache', ['policy', ...pkgs], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  expect(r.status, r.stderr).to.equal(0);
  const out = new Map<string, { candidate: string; versions: Map<string, string[]> }>();
  let pkg: { candidate: string; versions: Map<string, string[]> } | undefined;
  let at: string[] | undefined;
  for (const line of r.stdout.split('\n')) {
    const name = /^(\S+):$/.exec(line);
    if (name) out.set(name[1], (pkg = { candidate: '', versions: new Map() }));
    const cand = /^ {2}Candidate: (\S+)$/.exec(line);
    if (cand && pkg) pkg.candidate = cand[1];
    const v = /^ (?:\*\*\*| {3}) (\S+) -?\d+$/.exec(line);
    if (v && pkg) pkg.versions.set(v[1], (at = []));
    const f = /^ {8}-?\d+ (\S+) ([^/\s]+(?:\/updates)?)\/\S+ \S+ Packages$/.exec(line);
    if (f && at) at.push(`${f[1].replace(/\/?$/, '/')} ${f[2]}`);
  }
  return out;
}

/** apt-get install -s --no-install-recommends into an empty root: "name=version" of each Inst line. */
function aptPlan(status: string, request: string): string[] {
  const r = spawnSync('apt-get', ['install', '-s', '--no-install-recommends', '-o', 'Debug::NoLocking=1', '-o', `Dir::State::status=${status}`, request], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  expect(r.status, r.stderr).to.equal(0);
  return [...r.stdout.matchAll(/^Inst (\S+) \((\S+) /gm)].map((m) => `${m[1]}=${m[2]}`).sort();
}

const APT_LISTS = '/var/lib/apt/lists';

describe('elfpack deb --plan across suites: -updates and -security as apt reads them', function () {
  this.timeout(180_000);
  let cache: string;
  let status: string;
  const env = () => ({ XDG_CACHE_HOME: cache });
  const planOf = async (args: string[]) => {
    const r = await runCli(['deb', '--suite', 'bookworm', ...args, '--plan', '--json'], { env: env() });
    expect(r.code, r.stderr).to.equal(0);
    return JSON.parse(r.stdout) as { suite: string; mirror: string; signers: string[]; sources: { mirror: string; suite: string; signers: string[] }[]; packages: { name: string; version: string; suite: string }[]; notes: string[] };
  };

  before(async function () {
    if (!haveCommand('gpgv') || !existsSync(DEFAULT_KEYRING)) skipOrFail(this, 'gpgv or the Debian archive keyring is missing (make deps installs them)');
    if (!haveCommand('apt-get')) skipOrFail(this, 'apt-get is not installed (a Debian host)');
    const sources = spawnSync('apt-get', ['indextargets', '--format', '$(CODENAME)', 'Identifier: Packages'], { encoding: 'utf8' }).stdout ?? '';
    if (!/bookworm-security/.test(sources)) skipOrFail(this, "the host's apt sources have no bookworm-security, or its lists are missing (apt-get update)");
    cache = mkdtempSync(join(tmpdir(), 'elfpack-deb-suites-'));
    status = join(cache, 'status');
    writeFileSync(status, ''); // apt plans for an empty root, as elfpack deb builds one
    const probe = await runCli(['deb', 'jq', '--plan', '--json', '--suite', 'bookworm'], { env: env() });
    if (probe.code !== 0 && /DEB_UNREACHABLE|could not be reached|no answer|ENOTFOUND|ECONNREFUSED/i.test(probe.stderr)) skipOrFail(this, `the Debian archive is unreachable: ${probe.stderr.trim()}`);
    expect(probe.code, probe.stderr).to.equal(0);
    // apt's answers count only when its lists are the archive's current ones: the same signed Date as those elfpack just read.
    const lists = join(cache, 'elfpack', 'deb', 'lists');
    const date = (f: string) => /^Date: (.*)$/m.exec(readFileSync(f, 'utf8'))?.[1];
    const stale = readdirSync(lists).filter((f) => f.endsWith('_InRelease') && existsSync(join(APT_LISTS, f)) && date(join(APT_LISTS, f)) !== date(join(lists, f)));
    if (stale.length) skipOrFail(this, `apt's lists are not the archive's current ones (${stale.join(', ')}): run apt-get update`);
  });
  after(() => { if (cache) rmSync(cache, { recursive: true, force: true }); });

  it('the sources: the main suite first (the top-level fields), then -updates and -security from their own archives, each signed; a note says which and that backports are not', async () => {
    const plan = await planOf(['jq']);
    expect(plan.sources.map((s) => s.suite)).to.include.members(['bookworm', 'bookworm-security']);
    expect(plan.sources[0]).to.deep.equal({ mirror: plan.mirror, suite: 'bookworm', signers: plan.signers });
    const security = plan.sources.find((s) => s.suite === 'bookworm-security')!;
    expect(security.mirror).to.match(/debian-security\/$/);
    for (const s of plan.sources) expect(s.signers.length, s.suite).to.be.greaterThan(0);
    expect(plan.notes[0]).to.match(/^suites read \(as the host's apt sources list them\): bookworm, .*bookworm-security.*; not bookworm-backports/);
  });

  it('--mirror reads the suite and its -updates there, and says security updates are not read; --suite twice reads exactly those', async () => {
    const mirror = await planOf(['jq', '--mirror', 'http://deb.debian.org/debian']);
    expect(mirror.sources.map((s) => `${s.suite} ${s.mirror}`)).to.deep.equal(['bookworm http://deb.debian.org/debian/', 'bookworm-updates http://deb.debian.org/debian/']);
    expect(mirror.notes[0]).to.match(/not bookworm-security, another archive: security updates are missing/);
    expect(mirror.packages.every((p) => p.suite !== 'bookworm-security')).to.equal(true);
    const two = await planOf(['jq', '--suite', 'bookworm-security']);
    expect(two.sources.map((s) => s.suite)).to.deep.equal(['bookworm', 'bookworm-security']);
    expect(two.notes[0]).to.match(/^suites read \(exactly those given with --suite\)/);
  });

  for (const pkg of ['curl', 'tzdata']) {
    it(`${pkg}: the versions apt-get install -s takes, each from a suite apt-cache policy lists for that version`, async () => {
      const plan = await planOf([pkg]);
      expect(plan.packages.map((p) => `${p.name}=${p.version}`).sort()).to.deep.equal(aptPlan(status, pkg));
      const mirrorOf = new Map(plan.sources.map((s) => [s.suite, s.mirror]));
      const policy = aptPolicy(plan.packages.map((p) => p.name));
      for (const p of plan.packages) expect(policy.get(p.name)?.versions.get(p.version), p.name).to.include(`${mirrorOf.get(p.suite)} ${p.suite}`);
    });
  }

  it('a package whose candidate apt takes from -security or -updates comes from there, and the text plan names that suite', async function () {
    const { candidate, versions } = aptPolicy(['libssl3']).get('libssl3')!;
    const from = (versions.get(candidate) ?? []).map((s) => s.split(' ')[1]).filter((s) => s !== 'bookworm');
    if (!from.length) skipOrFail(this, `apt takes libssl3 ${candidate} from bookworm itself: nothing to compare across suites`);
    const plan = await planOf(['libssl3']);
    expect(plan.packages.find((p) => p.name === 'libssl3')).to.deep.include({ version: candidate, suite: from[0] });
    const text = await runCli(['deb', 'libssl3', '--suite', 'bookworm', '--plan'], { env: env() });
    expect(text.stdout).to.include(`\n  libssl3 ${candidate} (${from[0]}) (`);
  });

  it('NAME=VERSION and NAME/SUITE choose as apt-get does; a version or suite that is not there is one line', async () => {
    const versions = [...aptPolicy(['libssl3']).get('libssl3')!.versions.entries()].filter(([, s]) => s.length);
    const oldest = versions[versions.length - 1][0];
    expect((await planOf([`libssl3=${oldest}`])).packages.map((p) => `${p.name}=${p.version}`).sort()).to.deep.equal(aptPlan(status, `libssl3=${oldest}`));
    for (const suite of ['bookworm', 'bookworm-updates']) {
      if (!versions.some(([, s]) => s.some((x) => x.endsWith(` ${suite}`)))) continue;
      const plan = await planOf([`libssl3/${suite}`]);
      expect(plan.packages.map((p) => `${p.name}=${p.version}`).sort(), suite).to.deep.equal(aptPlan(status, `libssl3/${suite}`));
      expect(plan.packages.find((p) => p.name === 'libssl3')!.suite).to.equal(suite);
    }
    const noVersion = await runCli(['deb', 'libssl3=0.1', '--suite', 'bookworm', '--plan'], { env: env() });
    expect(noVersion.code).to.equal(1);
    expect(noVersion.stderr.trim().split('\n').pop()).to.match(/^elfpack: libssl3=0\.1: no version 0\.1 of libssl3 \(versions: \S+/);
    const noSuite = await runCli(['deb', 'libssl3/sid', '--suite', 'bookworm', '--plan'], { env: env() });
    expect(noSuite.stderr.trim().split('\n').pop()).to.match(/^elfpack: libssl3\/sid: suite sid is not read \(only bookworm, /);
  });
});
