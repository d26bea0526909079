// Filling the image tree from a root: links kept on the way, trees copied as they are, exclude
// globs, placement through the tree's own links; image names checked against the spec's grammar.
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageTreeBuilder, globMatcher } from '../../src/image/image-tree.js';
import { parseTag } from '../../src/image/image.js';
import { normalizePort } from '../../src/image/config.js';
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

  it('image names follow the distribution grammar', () => {
    expect(parseTag('app')).to.deep.equal({ repository: 'app', tag: 'latest', full: 'app:latest' });
    expect(parseTag('localhost:5000/team/app:1.2').full).to.equal('localhost:5000/team/app:1.2');
    expect(() => parseTag('App:1')).to.throw(/bad image name/);
    expect(() => parseTag('app:-x')).to.throw(/bad tag/);
  });

  it('ports: N means N/tcp; nonsense is refused', () => {
    expect(normalizePort('80')).to.equal('80/tcp');
    expect(normalizePort('53/udp')).to.equal('53/udp');
    expect(() => normalizePort('70000')).to.throw(/bad port/);
  });
});
