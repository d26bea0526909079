import { expect } from 'chai';
import { DbReader } from '../../src/root/db-files.js';
import { readApkDb } from '../../src/root/apk-db.js';
import { makeRoot, type FakeRoot } from '../support/fake-root.js';

const INSTALLED = [
  'C:Q1abc=', 'P:musl', 'V:1.2.5-r0', 'A:x86_64', 'L:MIT', 'o:musl', 'D:',
  'F:lib', 'R:ld-musl-x86_64.so.1', 'a:0:0:755', 'Z:Q1sum1=', 'R:libc.musl-x86_64.so.1', 'Z:Q1sum2=',
  '',
  'P:busybox', 'V:1.36.1-r29', 'A:x86_64', 'L:GPL-2.0-only', 'o:busybox',
  'F:bin', 'M:0:0:755', 'R:busybox', 'Z:Q1sum3=',
  '',
].join('\n');

describe('root/apk-db', () => {
  let r: FakeRoot;
  afterEach(() => r?.cleanup());

  it('reads each package (P, V, A, L, o) and owns its F:/R: files by real path, with their Z: checksums', () => {
    r = makeRoot({ '/lib/apk/db/installed': INSTALLED, '/lib/ld-musl-x86_64.so.1': 'musl', '/bin/busybox': 'bb' });
    const db = readApkDb(new DbReader(r.root))!;
    expect(db.path).to.equal('/lib/apk/db/installed');
    expect(db.packages.map((p) => [p.name, p.version, p.arch, p.license, p.source])).to.deep.equal([
      ['musl', '1.2.5-r0', 'x86_64', 'MIT', 'musl'], ['busybox', '1.36.1-r29', 'x86_64', 'GPL-2.0-only', 'busybox'],
    ]);
    expect(db.packages[0].header).to.deep.equal(['C:Q1abc=', 'P:musl', 'V:1.2.5-r0', 'A:x86_64', 'L:MIT', 'o:musl', 'D:']);
    const found = db.owners(new Set(['/lib/ld-musl-x86_64.so.1', '/bin/busybox', '/etc/passwd']));
    expect([...found].map(([p, o]) => [p, o.map((x) => `${x.pkg.name} ${x.checksum}`)])).to.deep.equal([
      ['/lib/ld-musl-x86_64.so.1', ['musl Q1sum1=']], ['/bin/busybox', ['busybox Q1sum3=']],
    ]);
    expect(db.warnings).to.deep.equal([]);
  });

  it('a directory the database names through a link owns the file at its real path (a merged /usr)', () => {
    r = makeRoot({ '/usr/lib/apk/db/installed': INSTALLED, '/lib': { link: 'usr/lib' }, '/usr/lib/ld-musl-x86_64.so.1': 'musl' });
    const db = readApkDb(new DbReader(r.root))!;
    expect(db.path).to.equal('/lib/apk/db/installed'); // found through the link, named as asked
    expect([...db.owners(new Set(['/usr/lib/ld-musl-x86_64.so.1'])).keys()]).to.deep.equal(['/usr/lib/ld-musl-x86_64.so.1']);
  });

  it('a malformed entry is a warning naming the file and its line; the other packages are kept', () => {
    r = makeRoot({ '/lib/apk/db/installed': `P:bad\nV:1\nR:orphan\n\nP:nover\n\n${INSTALLED}` });
    const db = readApkDb(new DbReader(r.root))!;
    expect(db.packages.map((p) => p.name)).to.deep.equal(['musl', 'busybox']);
    expect(db.warnings).to.deep.equal([
      '/lib/apk/db/installed: line 1: R: before any F:: left out',
      '/lib/apk/db/installed: line 5: a package without P: or V:: left out',
    ]);
  });

  it('no installed database: none', () => {
    r = makeRoot({ '/etc/apk/world': 'musl\n' });
    expect(readApkDb(new DbReader(r.root))).to.equal(undefined);
  });
});
