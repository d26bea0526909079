import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { addPackageMetadata } from '../../src/image/package-metadata.js';
import { ImageTreeBuilder } from '../../src/image/image-tree.js';
import type { FileTree } from '../../src/image/file-tree.js';
import { makeRoot, type FakeRoot } from '../support/fake-root.js';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const q1 = (s: string) => `Q1${createHash('sha1').update(s).digest('base64')}`;
const LIB = '/usr/lib/x86_64-linux-gnu';
const DEP5 = 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nCopyright: someone\nLicense: BSD-3-clause\n';

/** The text of a file elfpack wrote into the tree. */
function content(tree: FileTree, path: string): string {
  const e = tree.get(path);
  if (e?.type !== 'file' || !('content' in e.source)) throw new Error(`${path}: not a written file`);
  return e.source.content.toString();
}

/** A Debian-like root: a program, a library named through /lib (merged /usr), base-files, an unrelated package. */
function debianRoot(): FakeRoot {
  return makeRoot({
    '/lib': { link: 'usr/lib' },
    '/usr/bin/app': 'app-bytes',
    '/usr/bin/other': 'other-bytes',
    [`${LIB}/libfoo.so.1.2`]: 'foo-bytes',
    [`${LIB}/libfoo.so.1`]: { link: 'libfoo.so.1.2' },
    '/usr/lib/os-release': 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n',
    '/etc/os-release': { link: '../usr/lib/os-release' },
    '/etc/debian_version': '12.11\n',
    // libfoo1's doc directory links to its source's common package, which owns the copyright file.
    '/usr/share/doc/libfoo1': { link: 'foo-common' },
    '/usr/share/doc/foo-common/copyright': DEP5,
    '/usr/share/doc/app/copyright': 'free-form: not machine-readable\n',
    '/var/lib/dpkg/status': [
      'Package: app\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: 1:2.0-1\nConffiles:\n /etc/app.conf 0123456789abcdef0123456789abcdef\nDescription: the app\n long description\n',
      'Package: libfoo1\nStatus: install ok installed\nMulti-Arch: same\nArchitecture: amd64\nSource: foo\nVersion: 1.2-3+b1\n',
      'Package: foo-common\nStatus: install ok installed\nArchitecture: all\nSource: foo\nVersion: 1.2-3\n',
      'Package: base-files\nStatus: install ok installed\nArchitecture: amd64\nVersion: 12.4\n',
      'Package: other\nStatus: install ok installed\nArchitecture: amd64\nVersion: 9\n',
    ].join('\n'),
    '/var/lib/dpkg/info/app.list': '/.\n/usr\n/usr/bin\n/usr/bin/app\n/usr/share/doc/app/copyright\n',
    // The md5 dpkg recorded is taken as it is for a file at its own path (this one is deliberately not the file's).
    '/var/lib/dpkg/info/app.md5sums': `${md5('as installed')}  usr/bin/app\n`,
    '/var/lib/dpkg/info/libfoo1:amd64.list': '/lib/x86_64-linux-gnu/libfoo.so.1.2\n/lib/x86_64-linux-gnu/libfoo.so.1\n/usr/share/doc/libfoo1\n',
    '/var/lib/dpkg/info/libfoo1:amd64.md5sums': `${md5('foo-bytes')}  lib/x86_64-linux-gnu/libfoo.so.1.2\n`,
    '/var/lib/dpkg/info/foo-common.list': '/usr/share/doc/foo-common\n/usr/share/doc/foo-common/copyright\n',
    '/var/lib/dpkg/info/base-files.list': '/etc/debian_version\n/usr/lib/os-release\n/etc/os-release\n',
    '/var/lib/dpkg/info/other.list': '/usr/bin/other\n',
  });
}

describe('image/package-metadata', () => {
  let r: FakeRoot;
  afterEach(() => r?.cleanup());

  it('writes status.d/NAME (the record without dpkg\'s state) and NAME.md5sums for the packages owning image files only', () => {
    r = debianRoot();
    const b = new ImageTreeBuilder(r.root);
    b.addRootFile('/usr/bin/app', 'program');
    b.addRootPath('/lib/x86_64-linux-gnu/libfoo.so.1', 'library');
    b.addContent('/etc/passwd', Buffer.from('root:x:0:0::/root:/sbin/nologin\n'), 0o644, 'users');
    const m = addPackageMetadata(b, r.root);
    expect(m.warnings).to.deep.equal([]);
    expect(b.tree.children('/var/lib/dpkg/status.d').sort()).to.deep.equal([
      'app', 'app.md5sums', 'base-files', 'base-files.md5sums', 'foo-common', 'foo-common.md5sums', 'libfoo1', 'libfoo1.md5sums',
    ]);
    expect(content(b.tree, '/var/lib/dpkg/status.d/app')).to.equal('Package: app\nPriority: optional\nArchitecture: amd64\nVersion: 1:2.0-1\nDescription: the app\n long description\n');
    expect(content(b.tree, '/var/lib/dpkg/status.d/app.md5sums')).to.equal(`${md5('as installed')}  usr/bin/app\n${md5('free-form: not machine-readable\n')}  usr/share/doc/app/copyright\n`);
    // Listed as /lib/…, present at /usr/lib/…: the image's path, the recorded md5.
    expect(content(b.tree, '/var/lib/dpkg/status.d/libfoo1.md5sums')).to.equal(`${md5('foo-bytes')}  usr/lib/x86_64-linux-gnu/libfoo.so.1.2\n`);
    expect(content(b.tree, '/var/lib/dpkg/status.d/base-files.md5sums')).to.equal(`${md5('12.11\n')}  etc/debian_version\n${md5(readOsRelease())}  usr/lib/os-release\n`);
    // os-release as the root has it: the link and its target.
    expect(b.tree.get('/etc/os-release')).to.deep.include({ type: 'symlink', target: '../usr/lib/os-release' });
    expect(b.tree.get('/usr/share/doc/libfoo1')).to.deep.include({ type: 'symlink', target: 'foo-common' });

    expect(m.packages.db).to.equal('dpkg');
    expect(m.packages.distro).to.deep.equal({ id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' });
    expect(m.packages.packages).to.deep.equal([
      { name: 'app', version: '1:2.0-1', arch: 'amd64', purl: 'pkg:deb/debian/app@1:2.0-1?arch=amd64&distro=debian-12', files: ['/usr/bin/app', '/usr/share/doc/app/copyright'] },
      { name: 'base-files', version: '12.4', arch: 'amd64', purl: 'pkg:deb/debian/base-files@12.4?arch=amd64&distro=debian-12', files: ['/etc/debian_version', '/usr/lib/os-release'] },
      { name: 'foo-common', version: '1.2-3', arch: 'all', source: 'foo', licenses: ['BSD-3-clause'], purl: 'pkg:deb/debian/foo-common@1.2-3?arch=all&distro=debian-12', files: ['/usr/share/doc/foo-common/copyright'] },
      { name: 'libfoo1', version: '1.2-3+b1', arch: 'amd64', source: 'foo', licenses: ['BSD-3-clause'], purl: 'pkg:deb/debian/libfoo1@1.2-3+b1?arch=amd64&distro=debian-12', files: [`${LIB}/libfoo.so.1.2`] },
    ]);
    expect(m.packages.unowned).to.deep.equal(['/etc/passwd', ...['app', 'base-files', 'foo-common', 'libfoo1'].flatMap((n) => [`/var/lib/dpkg/status.d/${n}`, `/var/lib/dpkg/status.d/${n}.md5sums`])]);
    expect(m.added).to.deep.equal(['package metadata for 4 package(s) (/var/lib/dpkg/status.d, /usr/share/doc/*/copyright; /etc/os-release: Debian GNU/Linux 12 (bookworm)); 1 other file(s) of the image belong to no package: /etc/passwd']);
    // Every regular file of the image is a package's or unowned.
    const files = b.tree.sorted().filter((e) => e.type === 'file').map((e) => e.path);
    expect([...m.packages.packages.flatMap((p) => p.files), ...m.packages.unowned].sort()).to.deep.equal(files);
  });

  it('a file moved with --as is listed at its image path with an md5 of its own bytes', () => {
    r = debianRoot();
    const b = new ImageTreeBuilder(r.root);
    b.addRootFile('/usr/bin/app', 'program', '/app');
    addPackageMetadata(b, r.root);
    expect(content(b.tree, '/var/lib/dpkg/status.d/app.md5sums')).to.match(new RegExp(`^${md5('app-bytes')}  app\n`));
  });

  it('two architectures of one package name get status.d/NAME:ARCH each', () => {
    r = makeRoot({
      '/usr/lib/x86_64-linux-gnu/libz.so.1': 'z64', '/usr/lib/i386-linux-gnu/libz.so.1': 'z32',
      '/var/lib/dpkg/status': 'Package: libz\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n\nPackage: libz\nStatus: install ok installed\nArchitecture: i386\nVersion: 1\n',
      '/var/lib/dpkg/info/libz:amd64.list': '/usr/lib/x86_64-linux-gnu/libz.so.1\n',
      '/var/lib/dpkg/info/libz:i386.list': '/usr/lib/i386-linux-gnu/libz.so.1\n',
    });
    const b = new ImageTreeBuilder(r.root);
    b.addRootFile('/usr/lib/x86_64-linux-gnu/libz.so.1', 'library');
    b.addRootFile('/usr/lib/i386-linux-gnu/libz.so.1', 'library');
    const m = addPackageMetadata(b, r.root);
    expect(b.tree.children('/var/lib/dpkg/status.d').sort()).to.deep.equal(['libz:amd64', 'libz:amd64.md5sums', 'libz:i386', 'libz:i386.md5sums']);
    expect(content(b.tree, '/var/lib/dpkg/status.d/libz:i386.md5sums')).to.equal(`${md5('z32')}  usr/lib/i386-linux-gnu/libz.so.1\n`);
    // No os-release in the root: the namespace is Debian's, with no distro qualifier.
    expect(m.packages.packages.map((p) => p.purl)).to.deep.equal(['pkg:deb/debian/libz@1?arch=amd64', 'pkg:deb/debian/libz@1?arch=i386']);
  });

  it('when no image file belongs to a package, nothing is written and every file is unowned', () => {
    r = debianRoot();
    r.add({ '/opt/mine': 'mine' });
    const b = new ImageTreeBuilder(r.root);
    b.addRootFile('/opt/mine', 'program');
    const m = addPackageMetadata(b, r.root);
    expect(b.tree.get('/var/lib/dpkg')).to.equal(undefined);
    expect(b.tree.get('/etc/os-release')).to.equal(undefined);
    expect(m).to.deep.equal({ packages: { db: 'dpkg', distro: { id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' }, packages: [], unowned: ['/opt/mine'] }, added: [], warnings: [] });
  });

  it('a root without a package database: no metadata, every file unowned', () => {
    r = makeRoot({ '/bin/x': 'x' });
    const b = new ImageTreeBuilder(r.root);
    b.addRootFile('/bin/x', 'program');
    expect(addPackageMetadata(b, r.root)).to.deep.equal({ packages: { packages: [], unowned: ['/bin/x'] }, added: [], warnings: [] });
  });

  it('an Alpine root: lib/apk/db/installed with the owning packages, each listing only its files in the image', () => {
    r = makeRoot({
      '/lib/ld-musl-x86_64.so.1': 'musl-bytes', '/lib/libc.musl-x86_64.so.1': { link: 'ld-musl-x86_64.so.1' },
      '/usr/bin/hello': 'hello-bytes', '/bin/busybox': 'bb',
      '/etc/os-release': 'ID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n', '/etc/alpine-release': '3.20.3\n',
      '/lib/apk/db/installed': [
        'C:Q1aaa=', 'P:musl', 'V:1.2.5-r0', 'A:x86_64', 'L:MIT', 'o:musl',
        'F:lib', 'R:ld-musl-x86_64.so.1', 'a:0:0:755', 'Z:Q1recorded=', 'R:libc.musl-x86_64.so.1', 'a:0:0:777', 'Z:Q1link=',
        '',
        'P:hello', 'V:1-r0', 'A:x86_64', 'L:GPL-2.0-or-later', 'F:usr/bin', 'R:hello', 'Z:Q1hello=',
        '',
        'P:busybox', 'V:1.36.1-r29', 'A:x86_64', 'F:bin', 'R:busybox',
        '',
        'P:alpine-baselayout-data', 'V:3.6.5-r0', 'A:x86_64', 'F:etc', 'R:os-release', 'R:alpine-release',
        '',
      ].join('\n'),
    });
    const b = new ImageTreeBuilder(r.root);
    b.addRootFile('/usr/bin/hello', 'program', '/hello'); // moved: its checksum is computed
    b.addRootFile('/lib/ld-musl-x86_64.so.1', 'interpreter');
    const m = addPackageMetadata(b, r.root);
    expect(content(b.tree, '/lib/apk/db/installed')).to.equal([
      'C:Q1aaa=', 'P:musl', 'V:1.2.5-r0', 'A:x86_64', 'L:MIT', 'o:musl', 'F:lib', 'R:ld-musl-x86_64.so.1', 'a:0:0:755', 'Z:Q1recorded=',
      '',
      'P:hello', 'V:1-r0', 'A:x86_64', 'L:GPL-2.0-or-later', 'F:', 'R:hello', `Z:${q1('hello-bytes')}`,
      '',
      'P:alpine-baselayout-data', 'V:3.6.5-r0', 'A:x86_64', 'F:etc', 'R:alpine-release', `Z:${q1('3.20.3\n')}`, 'R:os-release', `Z:${q1('ID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n')}`,
      '', '',
    ].join('\n'));
    expect(m.packages.packages.map((p) => [p.name, p.purl, p.licenses, p.files])).to.deep.equal([
      ['alpine-baselayout-data', 'pkg:apk/alpine/alpine-baselayout-data@3.6.5-r0?arch=x86_64&distro=alpine-3.20.3', undefined, ['/etc/alpine-release', '/etc/os-release']],
      ['hello', 'pkg:apk/alpine/hello@1-r0?arch=x86_64&distro=alpine-3.20.3', ['GPL-2.0-or-later'], ['/hello']],
      ['musl', 'pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.3', ['MIT'], ['/lib/ld-musl-x86_64.so.1']],
    ]);
    expect(m.packages.unowned).to.deep.equal(['/lib/apk/db/installed']);
  });
});

function readOsRelease(): string {
  return 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n';
}
