// Filling the image tree from a root: links kept on the way, trees copied as they are, exclude
// globs, placement through the tree's own links; image names checked against the spec's grammar.
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageTreeBuilder, globMatcher } from '../../src/image/image-tree.js';
import { HostRoot } from '../../src/root/host-root.js';

describe('image-tree: from a root to the image', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'elfpack-tree-'));
    mkdirSync(join(dir, 'usr/lib/py/test'), { recursive: true });
    mkdirSync(join(dir, 'usr/lib/py/pkg/__pycache__'), { recursive: true });
    writeFileSync(join(dir, 'usr/lib/py/os.py'), 'x');
    writeFileSync(join(dir, 'usr/lib/py/test/t.py'), 'x');
    writeFileSync(join(dir, 'usr/lib/py/pkg/__pycache__/a.pyc'), 'x');
    writeFileSync(join(dir, 'usr/lib/py/pkg/a.py'), 'x');
    symlinkSync('usr/lib', join(dir, 'lib'));
    symlinkSync('/etc/shadow', join(dir, 'usr/lib/py/escape'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('copies a tree through a link, keeping the link and the links inside as links', () => {
    const b = new ImageTreeBuilder(new HostRoot(dir));
    expect(b.addRootPath('/lib/py', 'include', { exclude: globMatcher(['**/test/**', '**/__pycache__/**']) })).to.equal('/usr/lib/py');
    const paths = b.tree.sorted().map((e) => e.path);
    expect(paths).to.deep.equal(['/', '/lib', '/usr', '/usr/lib', '/usr/lib/py', '/usr/lib/py/escape', '/usr/lib/py/os.py', '/usr/lib/py/pkg', '/usr/lib/py/pkg/a.py']);
    expect(b.tree.get('/usr/lib/py/escape')).to.deep.include({ type: 'symlink', target: '/etc/shadow' });
    // /etc/shadow is the root's (this directory's), which has none: the link is said to dangle.
    expect(b.danglingLinkWarnings()).to.deep.equal(['dangling link /usr/lib/py/escape → /etc/shadow (no such file in the root): packed as it is, it will not resolve in the image']);
  });

  it('places a path through the tree\'s own links', () => {
    const b = new ImageTreeBuilder(new HostRoot(dir));
    b.addRootPath('/lib/py/os.py', 'x');
    expect(b.placeInTree('/lib/py/new.so')).to.equal('/usr/lib/py/new.so');
    expect(b.placeInTree('/opt/x/y')).to.equal('/opt/x/y');
  });

  it('refuses a file over a directory, with the path named', () => {
    const b = new ImageTreeBuilder(new HostRoot(dir));
    b.tree.addDir('/a');
    expect(() => b.tree.addSymlink('/a', 'x')).to.throw(/already has a dir/);
  });

  it('globs: * stays in a name, ** spans names, a trailing /** takes the directory too', () => {
    const m = globMatcher(['**/test/**', '*.pyc', '/usr/*/x']);
    expect(m('/usr/lib/test')).to.equal(true);
    expect(m('/usr/lib/test/a/b')).to.equal(true);
    expect(m('/usr/lib/testing/a')).to.equal(false);
    expect(m('/a.pyc')).to.equal(true);
    expect(m('/usr/a.pyc')).to.equal(false);
    expect(m('/usr/lib/x')).to.equal(true);
    expect(m('/usr/lib/y/x')).to.equal(false);
  });
});

describe('image-tree: links out of an included tree', () => {
  let dir: string;
  const root = () => new HostRoot(dir);
  const paths = (b: ImageTreeBuilder) => b.tree.sorted().map((e) => e.path);
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'elfpack-links-'));
    for (const d of ['app/lib', 'etc/app', 'usr/share/app/data', 'opt/a', 'opt/b']) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, 'app/lib/own.so'), 'x');
    writeFileSync(join(dir, 'etc/app/app.cfg'), 'cfg');
    writeFileSync(join(dir, 'usr/share/app/data/d.txt'), 'd');
    writeFileSync(join(dir, 'etc/app/unrelated'), 'u');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a link to a file outside brings the file; a link inside stays a link with nothing added', () => {
    symlinkSync('/etc/app/app.cfg', join(dir, 'app/lib/app.cfg'));
    symlinkSync('own.so', join(dir, 'app/lib/own.so.1'));
    const b = new ImageTreeBuilder(root());
    b.addRootPath('/app', 'include');
    expect(paths(b)).to.deep.equal(['/', '/app', '/app/lib', '/app/lib/app.cfg', '/app/lib/own.so', '/app/lib/own.so.1', '/etc', '/etc/app', '/etc/app/app.cfg']);
    expect(b.followedLinkNotes()).to.deep.equal(['1 target(s) of links pointing out of included trees: /app/lib/app.cfg → /etc/app/app.cfg']);
    expect(b.danglingLinkWarnings()).to.deep.equal([]);
  });

  it('a link to a directory outside brings the whole directory, through the links on the way, and follows its links in turn', () => {
    // /app/lib/share → /usr/app-share (a link) → share/app; inside it, a link back out to /etc/app.
    symlinkSync('share/app', join(dir, 'usr/app-share'));
    symlinkSync('../../../usr/app-share', join(dir, 'app/lib/share'));
    symlinkSync('/etc/app/app.cfg', join(dir, 'usr/share/app/data/cfg'));
    const b = new ImageTreeBuilder(root());
    b.addRootPath('/app', 'include');
    expect(b.tree.get('/usr/app-share')).to.deep.include({ type: 'symlink', target: 'share/app' });
    expect(b.tree.get('/usr/share/app/data/d.txt')?.type).to.equal('file');
    expect(b.tree.get('/etc/app/app.cfg')?.type).to.equal('file');
    expect(b.tree.get('/etc/app/unrelated')).to.equal(undefined);
    expect(b.followedLinks.map((l) => [l.path, l.resolved])).to.deep.equal([
      ['/app/lib/share', '/usr/share/app'],
      ['/usr/share/app/data/cfg', '/etc/app/app.cfg'],
    ]);
  });

  it('a cycle of directories linking to each other ends, each copied once', () => {
    writeFileSync(join(dir, 'opt/a/fa'), 'a');
    writeFileSync(join(dir, 'opt/b/fb'), 'b');
    symlinkSync('/opt/b', join(dir, 'opt/a/to-b'));
    symlinkSync('../a', join(dir, 'opt/b/to-a'));
    const b = new ImageTreeBuilder(root());
    b.addRootPath('/opt/a', 'include');
    expect(paths(b)).to.deep.equal(['/', '/opt', '/opt/a', '/opt/a/fa', '/opt/a/to-b', '/opt/b', '/opt/b/fb', '/opt/b/to-a']);
    expect(b.followedLinks.map((l) => l.resolved)).to.deep.equal(['/opt/b']);
  });

  it('a link to "/" or to a directory above the tree is kept, and the root is not copied', () => {
    symlinkSync('/', join(dir, 'app/lib/rootfs'));
    symlinkSync('..', join(dir, 'app/lib/up'));
    const b = new ImageTreeBuilder(root());
    b.addRootPath('/app/lib', 'include');
    expect(paths(b)).to.deep.equal(['/', '/app', '/app/lib', '/app/lib/own.so', '/app/lib/rootfs', '/app/lib/up']);
    expect(b.followedLinks).to.deep.equal([]);
    expect(b.danglingLinks).to.deep.equal([]);
  });

  it('dangling links are packed and each is said with its target and why: missing, a loop, excluded', () => {
    symlinkSync('/etc/app/gone.cfg', join(dir, 'app/lib/gone'));
    symlinkSync('loop2', join(dir, 'app/lib/loop1'));
    symlinkSync('loop1', join(dir, 'app/lib/loop2'));
    symlinkSync('/usr/share/app/data', join(dir, 'app/lib/data'));
    symlinkSync('/etc/app/app.cfg/x', join(dir, 'app/lib/notdir'));
    const b = new ImageTreeBuilder(root());
    b.addRootPath('/app', 'include', { exclude: globMatcher(['/usr/share/app/**']) });
    for (const l of ['gone', 'loop1', 'loop2', 'data', 'notdir']) expect(b.tree.get(`/app/lib/${l}`)?.type, l).to.equal('symlink');
    expect(b.tree.get('/usr/share/app/data')).to.equal(undefined);
    const w = b.danglingLinkWarnings().join('\n');
    expect(w).to.include('dangling link /app/lib/gone → /etc/app/gone.cfg (no such file in the root)');
    expect(w).to.match(/dangling link \/app\/lib\/loop1 → loop2 \(too many levels of symbolic links/);
    expect(w).to.include('dangling link /app/lib/data → /usr/share/app/data (/usr/share/app/data is left out by --exclude)');
    expect(w).to.include('dangling link /app/lib/notdir → /etc/app/app.cfg/x (a component of the target is a file)');
    expect(b.danglingLinks).to.have.length(5);
  });

  it('many dangling links: ten named, the rest counted', () => {
    for (let i = 0; i < 13; i++) symlinkSync(`/nowhere/${i}`, join(dir, `app/lib/l${String(i).padStart(2, '0')}`));
    const b = new ImageTreeBuilder(root());
    b.addRootPath('/app', 'include');
    const w = b.danglingLinkWarnings();
    expect(w).to.have.length(11);
    expect(w[10]).to.equal('and 3 more dangling links in included trees');
  });

  it('links to /proc, /sys and /dev are the runtime\'s: kept, neither followed nor called dangling', () => {
    symlinkSync('/proc/self/mounts', join(dir, 'app/lib/mtab'));
    symlinkSync('/dev/null', join(dir, 'app/lib/null'));
    const b = new ImageTreeBuilder(root());
    b.addRootPath('/app', 'include');
    expect(b.tree.get('/app/lib/mtab')).to.deep.include({ type: 'symlink', target: '/proc/self/mounts' });
    expect([b.followedLinks, b.danglingLinks]).to.deep.equal([[], []]);
  });

  it('a link out of a tree leads only into the root, never to the host (an absolute target restarts at the root)', () => {
    // The host has /etc/passwd; the root (this directory) does not.
    symlinkSync('/etc/passwd', join(dir, 'app/lib/pw'));
    symlinkSync('../../../../../../etc/passwd', join(dir, 'app/lib/pw2'));
    const b = new ImageTreeBuilder(root());
    b.addRootPath('/app', 'include');
    expect(b.tree.get('/etc/passwd')).to.equal(undefined);
    expect(b.danglingLinks.map((l) => l.path)).to.deep.equal(['/app/lib/pw', '/app/lib/pw2']);
  });
});
