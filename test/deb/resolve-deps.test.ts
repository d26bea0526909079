import { expect } from 'chai';
import { ElfpackError } from '../../src/errors.js';
import { MAX_WHY, resolvePackages, type ResolveResult } from '../../src/deb/resolve-deps.js';
import { installOrder } from '../../src/deb/install-order.js';
import { buildUniverse } from '../../src/deb/universe.js';
import { records, universe } from '../support/deb-universe.js';

const names = (r: ResolveResult) => r.packages.map((p) => p.record.package);
const set = (r: ResolveResult) => names(r).slice().sort();

function resolveError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ElfpackError);
    expect((err as ElfpackError).code).to.equal('DEB_RESOLVE');
    expect((err as Error).message).not.to.include('\n');
    return (err as Error).message;
  }
  throw new Error('expected a DEB_RESOLVE error');
}

describe('deb/resolve-deps', () => {
  it('follows Depends and Pre-Depends, not Recommends; lists dependencies first, each with why it is there', () => {
    const u = universe('Package: app\nPre-Depends: pre\nDepends: lib\nRecommends: extra', 'Package: lib\nDepends: libc', 'Package: libc', 'Package: pre', 'Package: extra');
    const r = resolvePackages(u, ['app'], { arch: 'amd64' });
    expect(names(r)).to.deep.equal(['libc', 'lib', 'pre', 'app']);
    expect(r.packages.find((p) => p.record.package === 'libc')!.why).to.deep.equal(['app', 'lib', 'libc']);
    expect(r.packages.find((p) => p.record.package === 'app')!.dependsOn).to.deep.equal(['lib', 'pre']);
  });

  it('Essential and Priority: required packages are not added when nothing depends on them (an empty root)', () => {
    const u = universe('Package: app', 'Package: base-files\nEssential: yes\nPriority: required', 'Package: dash\nPriority: required');
    expect(set(resolvePackages(u, ['app'], { arch: 'amd64' }))).to.deep.equal(['app']);
  });

  it('alternatives: the first that can be installed, unless a later one is already in the set', () => {
    const u = universe('Package: app\nDepends: a | b', 'Package: a', 'Package: b', 'Package: other\nDepends: b');
    expect(set(resolvePackages(u, ['app'], { arch: 'amd64' }))).to.deep.equal(['a', 'app']);
    // other pulled b in first, so app's "a | b" is already met.
    expect(set(resolvePackages(u, ['other', 'app'], { arch: 'amd64' }))).to.deep.equal(['app', 'b', 'other']);
  });

  it('an alternative whose own dependencies cannot be met is passed over for the next', () => {
    const u = universe('Package: app\nDepends: a | b', 'Package: a\nDepends: missing', 'Package: b');
    expect(set(resolvePackages(u, ['app'], { arch: 'amd64' }))).to.deep.equal(['app', 'b']);
  });

  it('a real package of the name goes before providers of it', () => {
    const u = universe('Package: app\nDepends: mail', 'Package: mail', 'Package: postfix\nProvides: mail\nPriority: important');
    expect(set(resolvePackages(u, ['app'], { arch: 'amd64' }))).to.deep.equal(['app', 'mail']);
  });

  it('several providers: one already chosen, else Essential, else the highest Priority, ties by name', () => {
    const providers = ['Package: gawk\nProvides: awk\nPriority: optional', 'Package: mawk\nProvides: awk\nPriority: required', 'Package: zawk\nProvides: awk\nPriority: required', 'Package: app\nDepends: awk'];
    expect(set(resolvePackages(universe(...providers), ['app'], { arch: 'amd64' }))).to.deep.equal(['app', 'mawk']);
    expect(set(resolvePackages(universe(...providers), ['gawk', 'app'], { arch: 'amd64' }))).to.deep.equal(['app', 'gawk']);
    const essential = universe(...providers, 'Package: busybox\nProvides: awk\nPriority: optional\nEssential: yes');
    expect(set(resolvePackages(essential, ['app'], { arch: 'amd64' }))).to.deep.equal(['app', 'busybox']);
  });

  it('a versioned dependency is met by a versioned provide only', () => {
    const u = universe('Package: app\nDepends: libx (>= 2)', 'Package: old\nProvides: libx', 'Package: new\nProvides: libx (= 2.1)');
    expect(set(resolvePackages(u, ['app'], { arch: 'amd64' }))).to.deep.equal(['app', 'new']);
    const unversioned = universe('Package: app\nDepends: libx (>= 2)', 'Package: old\nProvides: libx');
    expect(resolveError(() => resolvePackages(unversioned, ['app'], { arch: 'amd64' }))).to.equal('app → libx (>= 2): only old provides libx (unversioned)');
  });

  it('the highest version of a package among the indexes is the candidate (a -security update over the release)', () => {
    const u = buildUniverse([records(['Package: app\nVersion: 1.0-1', 'Package: lib\nVersion: 1.0']), records(['Package: app\nVersion: 1.0-1+deb12u1\nDepends: lib (>= 1.0)'])]);
    const r = resolvePackages(u, ['app'], { arch: 'amd64' });
    expect(r.packages.map((p) => `${p.record.package}=${p.record.version}`)).to.deep.equal(['lib=1.0', 'app=1.0-1+deb12u1']);
  });

  it('an unsatisfiable dependency names the chain and what is there instead', () => {
    const u = universe('Package: python3\nDepends: python3.11', 'Package: python3.11\nDepends: libfoo (>= 2)', 'Package: libfoo\nVersion: 1.0');
    expect(resolveError(() => resolvePackages(u, ['python3'], { arch: 'amd64' }))).to.equal('python3 → python3.11 → libfoo (>= 2): only 1.0 available');
    const none = universe('Package: app\nDepends: nothere | alsonot');
    expect(resolveError(() => resolvePackages(none, ['app'], { arch: 'amd64' }))).to.equal('app → nothere: no such package; alsonot: no such package');
  });

  it('an unknown package suggests close names', () => {
    const u = universe('Package: jq', 'Package: jo', 'Package: curl');
    expect(resolveError(() => resolvePackages(u, ['jqq'], { arch: 'amd64' }))).to.equal('jqq: no such package (did you mean jq, jo?)');
    expect(resolveError(() => resolvePackages(u, ['zzzzzzz'], { arch: 'amd64' }))).to.equal('zzzzzzz: no such package');
  });

  it('a package (or a dependency) built only for another architecture says so', () => {
    const u = buildUniverse([records(['Package: app\nDepends: tool', 'Package: x86only']), records(['Package: tool', 'Package: app\nDepends: tool'], 'arm64')]);
    expect(resolveError(() => resolvePackages(u, ['x86only'], { arch: 'arm64' }))).to.equal('x86only: not built for arm64 (only amd64)');
    expect(resolveError(() => resolvePackages(u, ['app'], { arch: 'amd64' }))).to.equal('app → tool: not built for amd64 (only arm64)');
    expect(set(resolvePackages(u, ['app'], { arch: 'arm64' }))).to.deep.equal(['app', 'tool']);
    expect(resolveError(() => resolvePackages(u, ['app:i386'], { arch: 'amd64' }))).to.match(/^app:i386: another architecture than amd64/);
  });

  it('Architecture: all packages go with every architecture', () => {
    const u = buildUniverse([records(['Package: app\nDepends: data']), records(['Package: data'], 'all')]);
    expect(set(resolvePackages(u, ['app'], { arch: 'amd64' }))).to.deep.equal(['app', 'data']);
  });

  it('Multi-Arch: ":any" is met by an allowed or foreign package (or their provides), not by a plain one; another architecture is unsupported', () => {
    const u = universe('Package: app\nDepends: python3:any', 'Package: python3\nMulti-Arch: allowed');
    expect(set(resolvePackages(u, ['app'], { arch: 'amd64' }))).to.deep.equal(['app', 'python3']);
    const plain = universe('Package: app\nDepends: perl:any', 'Package: perl');
    expect(resolveError(() => resolvePackages(plain, ['app'], { arch: 'amd64' }))).to.equal('app → perl:any: perl is neither Multi-Arch: allowed nor foreign');
    const foreign = universe('Package: app\nDepends: awk:any, make:any', 'Package: mawk\nMulti-Arch: foreign\nProvides: awk', 'Package: make\nMulti-Arch: foreign');
    expect(set(resolvePackages(foreign, ['app'], { arch: 'amd64' }))).to.deep.equal(['app', 'make', 'mawk']);
    const same = universe('Package: app\nDepends: libz:amd64, libc:native', 'Package: libz\nMulti-Arch: same', 'Package: libc\nMulti-Arch: same');
    expect(set(resolvePackages(same, ['app'], { arch: 'amd64' }))).to.deep.equal(['app', 'libc', 'libz']);
    const cross = universe('Package: app\nDepends: libz:i386', 'Package: libz\nMulti-Arch: same');
    expect(resolveError(() => resolvePackages(cross, ['app'], { arch: 'amd64' }))).to.match(/^app → libz:i386: a dependency on another architecture \(not supported/);
  });

  it('exclude drops a package and what only it pulls in; dependencies on it (or on what it provides) count as met, and are noted', () => {
    const u = universe('Package: python3\nDepends: libpython, perl-base | perl', 'Package: libpython\nDepends: perlapi', 'Package: perl-base\nProvides: perlapi\nDepends: perl-modules', 'Package: perl-modules', 'Package: perl');
    const all = resolvePackages(u, ['python3'], { arch: 'amd64' });
    expect(set(all)).to.deep.equal(['libpython', 'perl-base', 'perl-modules', 'python3']);
    const r = resolvePackages(u, ['python3'], { arch: 'amd64', exclude: ['perl-base'] });
    expect(set(r)).to.deep.equal(['libpython', 'python3']);
    expect(r.notes).to.deep.equal(['python3 → libpython → perlapi: excluded, counted as met', 'python3 → perl-base | perl: excluded, counted as met']);
    expect(resolveError(() => resolvePackages(u, ['perl-base'], { arch: 'amd64', exclude: ['perl-base'] }))).to.equal('perl-base: both requested and excluded');
  });

  it('a requested virtual package is its only provider (noted), and an error when it has several', () => {
    const one = universe('Package: mawk\nProvides: awk');
    const r = resolvePackages(one, ['awk'], { arch: 'amd64' });
    expect(set(r)).to.deep.equal(['mawk']);
    expect(r.notes).to.deep.equal(['awk is a virtual package: selecting mawk, its only provider']);
    const two = universe('Package: mawk\nProvides: awk\nPriority: required', 'Package: gawk\nProvides: awk\nPriority: optional');
    expect(resolveError(() => resolvePackages(two, ['awk'], { arch: 'amd64' }))).to.equal('awk: a virtual package provided by mawk, gawk: request one of them');
  });

  it('dependency cycles end (libc6 and libgcc-s1 need each other) and the order stays deterministic', () => {
    const u = universe('Package: libc6\nDepends: libgcc-s1', 'Package: libgcc-s1\nDepends: libc6, gcc-base', 'Package: gcc-base', 'Package: app\nDepends: libc6');
    const r = resolvePackages(u, ['app'], { arch: 'amd64' });
    expect(names(r)).to.deep.equal(['gcc-base', 'libc6', 'libgcc-s1', 'app']);
  });

  it('installOrder: dependencies first, ties by name, a cycle\'s members together by name', () => {
    expect(installOrder(new Map([['c', []], ['b', ['c']], ['a', ['c']], ['z', ['y']], ['y', ['z']]]))).to.deep.equal(['c', 'a', 'b', 'y', 'z']);
  });

  it('a long chain resolves without recursion (the stack is the program\'s, not the input\'s)', () => {
    const n = 20_000;
    const u = universe(...Array.from({ length: n }, (_, i) => `Package: p${i}${i + 1 < n ? `\nDepends: p${i + 1}` : ''}`));
    const r = resolvePackages(u, ['p0'], { arch: 'amd64' });
    expect(r.packages).to.have.length(n);
    expect(names(r)[0]).to.equal(`p${n - 1}`);
    expect(r.packages[0].why).to.have.length(MAX_WHY);
    expect(r.packages[0].why.slice(0, 3)).to.deep.equal(['p0', '…', `p${n - MAX_WHY + 2}`]);
  });
});
