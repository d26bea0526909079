// resolve-deps.ts's candidate choice across suites (apt's pin priorities, then the version) and
// the requests apt-get takes besides a name: NAME=VERSION and NAME/SUITE.
import { expect } from 'chai';
import { ElfpackError } from '../../src/errors.js';
import { resolvePackages, type ResolveResult } from '../../src/deb/resolve-deps.js';
import { buildUniverse, pinPriorityOf, type IndexSource } from '../../src/deb/universe.js';
import { records } from '../support/deb-universe.js';

const src = (suite: string, priority = 500, aliases: string[] = []): IndexSource => ({ mirror: 'http://deb.example/debian/', suite, priority, aliases });
const MAIN = src('bookworm', 500, ['stable']);
const UPDATES = src('bookworm-updates', 500, ['stable-updates']);
const SECURITY = { ...src('bookworm-security', 500, ['stable-security']), mirror: 'http://deb.example/debian-security/' };
const BACKPORTS = src('bookworm-backports', 100, ['stable-backports']);
const EXPERIMENTAL = src('experimental', 1);

const got = (r: ResolveResult) => r.packages.map((p) => `${p.record.package}=${p.record.version}`).sort();

function resolveError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ElfpackError);
    expect((err as Error).message).not.to.include('\n');
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

describe('deb/resolve-deps: candidates across suites', () => {
  const u = buildUniverse([
    records(['Package: app\nVersion: 1.0-1\nDepends: libx (>= 1.0)', 'Package: libx\nVersion: 1.0-1', 'Package: tool\nVersion: 2.0-1']),
    records(['Package: libx\nVersion: 1.0-1+deb12u1']),
    records(['Package: libx\nVersion: 1.0-1+deb12u2', 'Package: tool\nVersion: 2.0-1']),
    records(['Package: libx\nVersion: 2.0-1~bpo12+1', 'Package: app\nVersion: 2.0-1~bpo12+1\nDepends: libx (>= 2.0)', 'Package: tool\nVersion: 3.0-1~bpo12+1']),
    records(['Package: tool\nVersion: 9.0-1', 'Package: onlyexp\nVersion: 1.0']),
  ], [MAIN, UPDATES, SECURITY, BACKPORTS, EXPERIMENTAL]);

  it('the highest version among the suites of priority 500: security\'s over updates\' and the release\'s', () => {
    expect(got(resolvePackages(u, ['app'], { arch: 'amd64' }))).to.deep.equal(['app=1.0-1', 'libx=1.0-1+deb12u2']);
  });

  it('a higher version at a lower priority (backports 100, experimental 1) is not the candidate; one only there is', () => {
    expect(got(resolvePackages(u, ['tool'], { arch: 'amd64' }))).to.deep.equal(['tool=2.0-1']);
    expect(got(resolvePackages(u, ['onlyexp'], { arch: 'amd64' }))).to.deep.equal(['onlyexp=1.0']);
  });

  it('the same version in several suites is one record, fetched from the first, at the highest of their priorities', () => {
    const tool = u.byName.get('tool')!.find((r) => r.version === '2.0-1')!;
    expect(u.sources.get(tool)!.map((s) => s.suite)).to.deep.equal(['bookworm', 'bookworm-security']);
    const twice = buildUniverse([records(['Package: a\nVersion: 1']), records(['Package: a\nVersion: 1'])], [EXPERIMENTAL, MAIN]);
    expect(pinPriorityOf(twice, twice.byName.get('a')![0])).to.equal(500);
    // Without sources (one index, tests, a caller's own records): apt's default.
    expect(pinPriorityOf(buildUniverse([records(['Package: a'])]), buildUniverse([records(['Package: a'])]).byName.get('a')![0])).to.equal(500);
  });

  it('NAME=VERSION takes that version, and a dependent takes it too; a version not there lists those that are', () => {
    expect(got(resolvePackages(u, ['app', 'libx=1.0-1+deb12u1'], { arch: 'amd64' }))).to.deep.equal(['app=1.0-1', 'libx=1.0-1+deb12u1']);
    expect(got(resolvePackages(u, ['tool=9.0-1'], { arch: 'amd64' }))).to.deep.equal(['tool=9.0-1']);
    expect(got(resolvePackages(u, ['tool:amd64=3.0-1~bpo12+1'], { arch: 'amd64' }))).to.deep.equal(['tool=3.0-1~bpo12+1']);
    expect(resolveError(() => resolvePackages(u, ['libx=1.5'], { arch: 'amd64' }))).to.equal('libx=1.5: no version 1.5 of libx (versions: 2.0-1~bpo12+1, 1.0-1+deb12u2, 1.0-1+deb12u1, 1.0-1)');
    expect(resolveError(() => resolvePackages(u, ['nothere=1'], { arch: 'amd64' }))).to.match(/^nothere: no such package/);
    // An epoch's colon is part of the version, not an architecture.
    const epoch = buildUniverse([records(['Package: z\nVersion: 1:1.2-1', 'Package: z\nVersion: 1:1.3-1'])], [MAIN]);
    expect(got(resolvePackages(epoch, ['z=1:1.2-1'], { arch: 'amd64' }))).to.deep.equal(['z=1:1.2-1']);
  });

  it('NAME/SUITE takes that suite\'s highest version, named as the sources or its Release do; its versioned dependencies follow it there (apt\'s SetCandidateRelease)', () => {
    expect(got(resolvePackages(u, ['libx/bookworm'], { arch: 'amd64' }))).to.deep.equal(['libx=1.0-1']);
    expect(got(resolvePackages(u, ['libx/stable-updates'], { arch: 'amd64' }))).to.deep.equal(['libx=1.0-1+deb12u1']);
    // app from backports needs libx (>= 2.0), which only backports has: it is taken from there.
    expect(got(resolvePackages(u, ['app/bookworm-backports'], { arch: 'amd64' }))).to.deep.equal(['app=2.0-1~bpo12+1', 'libx=2.0-1~bpo12+1']);
    // A dependency the usual candidate meets stays as it is.
    expect(got(resolvePackages(u, ['app/bookworm'], { arch: 'amd64' }))).to.deep.equal(['app=1.0-1', 'libx=1.0-1+deb12u2']);
  });

  it('NAME/SUITE of a suite not read, or of a package not in it, is one line saying what there is', () => {
    expect(resolveError(() => resolvePackages(u, ['app/sid'], { arch: 'amd64' }))).to.equal('app/sid: suite sid is not read (only bookworm, bookworm-updates, bookworm-security, bookworm-backports, experimental); name the suites with --suite');
    expect(resolveError(() => resolvePackages(u, ['app/bookworm-security'], { arch: 'amd64' }))).to.equal('app/bookworm-security: app is not in bookworm-security (versions: 2.0-1~bpo12+1 in bookworm-backports, 1.0-1 in bookworm)');
    expect(resolveError(() => resolvePackages(u, ['app/'], { arch: 'amd64' }))).to.equal('app/: not NAME, NAME=VERSION or NAME/SUITE');
    expect(resolveError(() => resolvePackages(u, ['app:arm64/bookworm'], { arch: 'amd64' }))).to.match(/^app:arm64\/bookworm: another architecture than amd64/);
  });
});
