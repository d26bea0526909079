import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { truncateSync } from 'node:fs';
import { join } from 'node:path';
import { ElfpackError } from '../../src/errors.js';
import { DbReader, MAX_DB_FILE_BYTES, MAX_DB_PACKAGES } from '../../src/root/db-files.js';
import { readDpkgDb } from '../../src/root/dpkg-db.js';
import { makeRoot, type FakeRoot } from '../support/fake-root.js';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const LIB = '/usr/lib/x86_64-linux-gnu';

/** Owner names (name:checksum) of each path. */
function ownersOf(r: FakeRoot, paths: string[]) {
  const db = readDpkgDb(new DbReader(r.root))!;
  const found = db.owners(new Set(paths));
  return { db, owners: Object.fromEntries(paths.map((p) => [p, (found.get(p) ?? []).map((o) => `${o.pkg.name}${o.checksum ? `:${o.checksum}` : ''}`)])) };
}

describe('root/dpkg-db', () => {
  let r: FakeRoot;
  afterEach(() => r?.cleanup());

  it('owns files by their real path: a .list naming /lib/… owns the file a merged /usr keeps at /usr/lib/…; its md5 is the line of the .md5sums that names it', () => {
    r = makeRoot({
      '/lib': { link: 'usr/lib' },
      [`${LIB}/libfoo.so.1.2`]: 'foo',
      [`${LIB}/libfoo.so.1`]: { link: 'libfoo.so.1.2' },
      '/var/lib/dpkg/status': 'Package: libfoo1\nStatus: install ok installed\nMulti-Arch: same\nArchitecture: amd64\nVersion: 1.2-1\nSource: foo (1.2-1)\n',
      // dpkg names a Multi-Arch: same package's files NAME:ARCH.
      '/var/lib/dpkg/info/libfoo1:amd64.list': '/.\n/lib\n/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu/libfoo.so.1\n/lib/x86_64-linux-gnu/libfoo.so.1.2\n',
      '/var/lib/dpkg/info/libfoo1:amd64.md5sums': `${md5('other')}  lib/x86_64-linux-gnu/libfoo.so.1.2.3\n${md5('b')}  xlib/x86_64-linux-gnu/libfoo.so.1.2\n${md5('foo')}  lib/x86_64-linux-gnu/libfoo.so.1.2`,
    });
    const { db, owners } = ownersOf(r, [`${LIB}/libfoo.so.1.2`]);
    expect(owners).to.deep.equal({ [`${LIB}/libfoo.so.1.2`]: [`libfoo1:${md5('foo')}`] });
    expect(db.packages.map((p) => [p.name, p.version, p.arch, p.source])).to.deep.equal([['libfoo1', '1.2-1', 'amd64', 'foo']]);
    expect(db.warnings).to.deep.equal([]);
  });

  it('only installed packages own files (held ones too); a removed package\'s leftover list owns nothing', () => {
    r = makeRoot({
      '/usr/bin/a': 'a', '/usr/bin/b': 'b', '/usr/bin/c': 'c',
      '/var/lib/dpkg/status': [
        'Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n',
        'Package: b\nStatus: hold ok installed\nVersion: 1\nArchitecture: amd64\n',
        'Package: c\nStatus: deinstall ok config-files\nVersion: 1\nArchitecture: amd64\n',
      ].join('\n'),
      '/var/lib/dpkg/info/a.list': '/usr/bin/a\n', '/var/lib/dpkg/info/b.list': '/usr/bin/b\n', '/var/lib/dpkg/info/c.list': '/usr/bin/c\n',
    });
    const { owners } = ownersOf(r, ['/usr/bin/a', '/usr/bin/b', '/usr/bin/c']);
    expect(owners).to.deep.equal({ '/usr/bin/a': ['a'], '/usr/bin/b': ['b'], '/usr/bin/c': [] });
  });

  it('a diverted path is owned where dpkg put it: the diverting package keeps the name, the others own the diverted-to file', () => {
    r = makeRoot({
      '/usr/bin/tool': 'wrapper', '/usr/bin/tool.real': 'tool',
      '/var/lib/dpkg/status': 'Package: tool\nStatus: install ok installed\nVersion: 1\n\nPackage: wrapper\nStatus: install ok installed\nVersion: 1\n',
      '/var/lib/dpkg/info/tool.list': '/usr/bin/tool\n',
      '/var/lib/dpkg/info/wrapper.list': '/usr/bin/tool\n',
      '/var/lib/dpkg/diversions': '/usr/bin/tool\n/usr/bin/tool.real\nwrapper\n',
    });
    const { owners } = ownersOf(r, ['/usr/bin/tool', '/usr/bin/tool.real']);
    expect(owners).to.deep.equal({ '/usr/bin/tool': ['wrapper'], '/usr/bin/tool.real': ['tool'] });
  });

  it('a distroless root: status.d records (no Status) own the files their .md5sums list', () => {
    r = makeRoot({
      [`${LIB}/libbar.so.1`]: 'bar', '/usr/bin/x': 'x',
      '/var/lib/dpkg/status.d/libbar1': 'Package: libbar1\nVersion: 2\nArchitecture: amd64\n',
      '/var/lib/dpkg/status.d/libbar1.md5sums': `${md5('bar')}  usr/lib/x86_64-linux-gnu/libbar.so.1\n`,
      '/var/lib/dpkg/status.d/x': 'Package: x\nVersion: 3\nArchitecture: amd64\n',
      '/var/lib/dpkg/status.d/x.md5sums': `${md5('x')}  usr/bin/x\nnot an md5 line\n`,
    });
    const { db, owners } = ownersOf(r, [`${LIB}/libbar.so.1`, '/usr/bin/x']);
    expect(owners).to.deep.equal({ [`${LIB}/libbar.so.1`]: [`libbar1:${md5('bar')}`], '/usr/bin/x': [`x:${md5('x')}`] });
    expect(db.warnings).to.deep.equal(['/var/lib/dpkg/status.d/x.md5sums: 1 malformed line(s) left out']);
  });

  it('a malformed record, a record without a version and a missing .list are warnings naming the file; the rest is read', () => {
    r = makeRoot({
      '/usr/bin/a': 'a',
      '/var/lib/dpkg/status': 'Package: a\nStatus: install ok installed\nVersion: 1\n\nPackage: b\nnonsense\n\nPackage: c\nStatus: install ok installed\n\nPackage: d\nStatus: install ok installed\nVersion: 1\n',
      '/var/lib/dpkg/info/a.list': '/usr/bin/a\n',
    });
    const { db, owners } = ownersOf(r, ['/usr/bin/a']);
    expect(owners).to.deep.equal({ '/usr/bin/a': ['a'] });
    expect(db.warnings).to.have.length(3);
    expect(db.warnings[0]).to.match(/^\/var\/lib\/dpkg\/status: line 5: not a "Name: value" line/);
    expect(db.warnings[1]).to.match(/^\/var\/lib\/dpkg\/status: line 8: a record without Package or Version/);
    expect(db.warnings[2]).to.match(/^\/var\/lib\/dpkg\/info\/d\.list: missing/);
  });

  it('no status and no status.d: no dpkg database', () => {
    r = makeRoot({ '/var/lib/dpkg/info/a.list': '/a\n' });
    expect(readDpkgDb(new DbReader(r.root))).to.equal(undefined);
  });

  it(`a status file over ${MAX_DB_FILE_BYTES} bytes is one PACKAGE_DB error naming it (nothing read)`, () => {
    r = makeRoot({ '/var/lib/dpkg/status': '' });
    truncateSync(join(r.dir, 'var/lib/dpkg/status'), MAX_DB_FILE_BYTES + 1); // sparse: no disk used
    expect(() => readDpkgDb(new DbReader(r.root))).to.throw(ElfpackError).with.property('code', 'PACKAGE_DB');
    try {
      readDpkgDb(new DbReader(r.root));
    } catch (err) {
      expect((err as ElfpackError).describe()).to.match(/^\/var\/lib\/dpkg\/status: \d+ bytes, more than .*--no-package-metadata/);
    }
  });

  it(`more than ${MAX_DB_PACKAGES} records is one PACKAGE_DB error`, () => {
    r = makeRoot({ '/var/lib/dpkg/status': 'Package: p\nVersion: 1\n\n'.repeat(MAX_DB_PACKAGES + 1) });
    expect(() => readDpkgDb(new DbReader(r.root))).to.throw(ElfpackError, /more than 100000 package records/);
  });
});
