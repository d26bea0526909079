// resolvePackages against apt itself: the same indexes apt uses on this host, an empty dpkg status
// (apt plans for an empty root), and `apt-get install -s --no-install-recommends` per package.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parsePackagesIndex, type PackageRecord } from '../../src/deb/packages-index.js';
import { resolvePackages, type ResolveResult } from '../../src/deb/resolve-deps.js';
import { buildUniverse, type PackageUniverse } from '../../src/deb/universe.js';
import { satisfiesRelation } from '../../src/deb/version.js';
import { haveCommand, REPO, skipOrFail } from '../support/helpers.js';

const APT_HELPER = '/usr/lib/apt/apt-helper';
const PACKAGES = ['jq', 'curl', 'python3.11', 'python3', 'nginx-light', 'imagemagick', 'openjdk-17-jre-headless', 'gnupg'];

/** The Packages files apt reads here, decompressed by apt's own helper (lz4, xz, gz: whatever apt stored). */
function hostIndexes(): { path: string; text: string }[] {
  const r = spawnSync('apt-get', ['indextargets', '--format', '$(FILENAME)', 'Identifier: Packages'], { encoding: 'utf8' });
  const paths = r.status === 0 ? r.stdout.split('\n').filter((p) => p && existsSync(p)) : [];
  return paths.map((path) => {
    const c = spawnSync(APT_HELPER, ['cat-file', path], { encoding: 'utf8', maxBuffer: 1 << 30 });
    if (c.status !== 0) throw new Error(`apt-helper cat-file ${path}: ${c.stderr}`);
    return { path, text: c.stdout };
  });
}

/** What apt would install: "name=version" from the simulation's Inst lines. */
function aptPlan(statusFile: string, pkg: string): string[] {
  const r = spawnSync('apt-get', ['install', '-s', '--no-install-recommends', '-o', 'Debug::NoLocking=1', '-o', `Dir::State::status=${statusFile}`, pkg], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  expect(r.status, r.stderr).to.equal(0);
  return [...r.stdout.matchAll(/^Inst (\S+) \((\S+) /gm)].map((m) => `${m[1]}=${m[2]}`).sort();
}

const plan = (r: ResolveResult) => r.packages.map((p) => `${p.record.package}=${p.record.version}`).sort();

/**
 * Checked apart from the resolver: every Pre-Depends and Depends of every package in the set has
 * an alternative met by the set (by name and version, or by a provide), and every package comes
 * after what it was chosen for unless they are in a cycle.
 */
function unmetIn(result: ResolveResult): string[] {
  const byName = new Map(result.packages.map((p) => [p.record.package, p.record]));
  const meets = (d: PackageRecord['depends'][0][0]) => {
    const own = byName.get(d.name);
    if (own && (!d.relation || satisfiesRelation(own.version, d.relation, d.version!))) return true;
    return result.packages.some((p) => p.record.provides.some((v) => v.name === d.name && (!d.relation || (v.version !== undefined && satisfiesRelation(v.version, d.relation, d.version!)))));
  };
  const out: string[] = [];
  for (const p of result.packages) for (const g of [...p.record.preDepends, ...p.record.depends]) if (!g.some(meets)) out.push(`${p.record.package}: ${g.map((d) => d.name).join(' | ')}`);
  return out;
}

describe('deb/resolve-deps against apt', function () {
  this.timeout(180_000);
  let universe: PackageUniverse;
  let dir: string;
  let status: string;

  before(function () {
    if (!haveCommand('apt-get') || !existsSync(APT_HELPER)) skipOrFail(this, 'apt-get is not installed (a Debian host)');
    const indexes = hostIndexes();
    if (!indexes.length) skipOrFail(this, 'apt has no Packages lists here (apt-get update)');
    universe = buildUniverse(indexes.map((i) => {
      const idx = parsePackagesIndex(i.text, i.path);
      expect(idx.warnings, i.path).to.deep.equal([]);
      return idx.records;
    }));
    dir = mkdtempSync(join(tmpdir(), 'elfpack-apt-'));
    status = join(dir, 'status');
    writeFileSync(status, ''); // no package installed: apt plans for an empty root, as elfpack deb builds one
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    universe = undefined as unknown as PackageUniverse; // hundreds of MiB: not kept for the rest of the suite
  });

  for (const pkg of PACKAGES) {
    // apt 2.6 with an empty status adds no Essential or Priority: required package that nothing depends
    // on (checked: jq's plan is 6 packages, no bash, dpkg or coreutils), so the sets match exactly.
    it(`${pkg}: the same packages and versions as apt-get install --no-install-recommends into an empty root`, function () {
      const ours = resolvePackages(universe, [pkg], { arch: 'amd64' });
      expect(plan(ours)).to.deep.equal(aptPlan(status, pkg));
      expect(unmetIn(ours)).to.deep.equal([]);
      // Nothing is there for its own sake: each package's chain starts at the request.
      expect(ours.packages.filter((p) => p.why[0] !== pkg).map((p) => p.record.package)).to.deep.equal([]);
    });
  }

  it('the list has dependencies before dependents (apt orders for dpkg runs instead: only the sets are compared)', () => {
    const r = resolvePackages(universe, ['python3'], { arch: 'amd64' });
    const at = new Map(r.packages.map((p, i) => [p.record.package, i]));
    const late = r.packages.flatMap((p) => p.dependsOn.filter((d) => at.get(d)! > at.get(p.record.package)!).map((d) => `${p.record.package} before ${d}`));
    // Only cycles may put a dependency after its dependent: libc6 ↔ libgcc-s1 is bookworm's one here.
    expect(late).to.deep.equal(['libc6 before libgcc-s1']);
    expect(r.packages.find((p) => p.record.package === 'libpython3.11-stdlib')!.why).to.deep.equal(['python3', 'python3.11', 'libpython3.11-stdlib']);
  });

  it('excluding perl-base from gnupg leaves out what only it pulled in, and says which dependencies it counted as met', () => {
    const all = resolvePackages(universe, ['gnupg'], { arch: 'amd64' });
    const r = resolvePackages(universe, ['gnupg'], { arch: 'amd64', exclude: ['perl-base'] });
    const names = new Set(r.packages.map((p) => p.record.package));
    expect(names.has('perl-base')).to.equal(false);
    expect(all.packages.some((p) => p.record.package === 'perl-base')).to.equal(true);
    expect(r.notes.length).to.be.greaterThan(0);
    for (const n of r.notes) expect(n).to.match(/ → .*perl.*: excluded, counted as met$/);
  });
});

/** Downloads dists/bookworm/main/binary-ARCH/Packages.gz once per build dir (build/deb-indexes). */
async function downloadIndex(ctx: Mocha.Context, arch: string): Promise<PackageRecord[]> {
  const cache = join(REPO, 'build', 'deb-indexes', `bookworm-main-${arch}-Packages`);
  if (!existsSync(cache)) {
    const url = `http://deb.debian.org/debian/dists/bookworm/main/binary-${arch}/Packages.gz`;
    let body: Buffer;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(120_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      body = Buffer.from(await res.arrayBuffer());
    } catch (err) {
      skipOrFail(ctx, `${url} unreachable: ${(err as Error).message}`);
    }
    mkdirSync(join(REPO, 'build', 'deb-indexes'), { recursive: true });
    writeFileSync(cache, gunzipSync(body));
  }
  const idx = parsePackagesIndex(readFileSync(cache, 'utf8'), cache);
  expect(idx.warnings).to.deep.equal([]);
  return idx.records;
}

describe('deb/resolve-deps on the archive, amd64 and arm64', function () {
  this.timeout(300_000);
  let universe: PackageUniverse;

  before(async function () {
    universe = buildUniverse([await downloadIndex(this, 'amd64'), await downloadIndex(this, 'arm64')]);
  });

  after(() => {
    universe = undefined as unknown as PackageUniverse;
  });

  for (const pkg of ['jq', 'curl', 'python3']) {
    it(`${pkg}: arm64 takes the same packages as amd64, each built for arm64 (or all), every dependency met`, () => {
      const amd = resolvePackages(universe, [pkg], { arch: 'amd64' });
      const arm = resolvePackages(universe, [pkg], { arch: 'arm64' });
      expect(arm.packages.map((p) => p.record.package)).to.deep.equal(amd.packages.map((p) => p.record.package));
      expect(arm.packages.filter((p) => !['arm64', 'all'].includes(p.record.architecture))).to.deep.equal([]);
      expect(unmetIn(arm)).to.deep.equal([]);
    });
  }
});
