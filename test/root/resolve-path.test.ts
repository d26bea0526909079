import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveInRoot } from '../../src/root/resolve-path.js';
import { ElfpackError } from '../../src/errors.js';
import { RecordingRoot } from '../support/recording-root.js';

describe('root/resolve-path: a hostile root', () => {
  let top: string;
  let dir: string;
  let root: RecordingRoot;

  before(() => {
    top = mkdtempSync(join(tmpdir(), 'elfpack-hostile-'));
    dir = join(top, 'root');
    // Outside the root: things a resolver that escapes would find.
    writeFileSync(join(top, 'secret'), 'outside');
    mkdirSync(join(dir, 'etc'), { recursive: true });
    mkdirSync(join(dir, 'b/c'), { recursive: true });
    mkdirSync(join(dir, 'a'), { recursive: true });
    writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0::/:/bin/sh\n');
    symlinkSync('../../../..', join(dir, 'lib'));
    symlinkSync('/', join(dir, 'x'));
    symlinkSync('../b/c', join(dir, 'a/link'));
    symlinkSync('foo', join(dir, 'foo'));
    symlinkSync('baz', join(dir, 'bar'));
    symlinkSync('../bak', join(dir, 'baz'));
    symlinkSync('/bar', join(dir, 'bak'));
    symlinkSync(join(top, 'secret'), join(dir, 'abs-out'));
  });
  after(() => rmSync(top, { recursive: true, force: true }));
  beforeEach(() => { root = new RecordingRoot(dir); });
  afterEach(() => expect(root.escapes(), 'host paths read outside the root').to.deep.equal([]));

  it('lib -> ../../../.. stops at the root: /lib/secret is looked for inside it', () => {
    const r = resolveInRoot(root, '/lib/secret');
    expect(r.path).to.equal('/secret');
    expect(r.missing).to.equal('ENOENT');
  });

  it('x -> / restarts at the root, not the host\'s /', () => {
    const r = resolveInRoot(root, '/x/etc/passwd');
    expect(r.path).to.equal('/etc/passwd');
    expect(r.type).to.equal('file');
    expect(r.links).to.deep.equal([{ path: '/x', target: '/' }]);
  });

  it('an absolute link to a host path is re-rooted', () => {
    const r = resolveInRoot(root, '/abs-out');
    expect(r.path).to.equal(join(top, 'secret'));
    expect(r.missing).to.equal('ENOENT');
  });

  it('a/link/.. is the parent of the link\'s target, not a (no lexical cleaning)', () => {
    expect(resolveInRoot(root, '/a/link/..').path).to.equal('/b');
  });

  it('foo -> foo is a symlink loop (ELOOP), not a hang', () => {
    expect(() => resolveInRoot(root, '/foo')).to.throw(ElfpackError).with.property('code', 'SYMLINK_LOOP');
  });

  it('bar -> baz -> ../bak -> /bar loops and ends with ELOOP', () => {
    expect(() => resolveInRoot(root, '/bar/x')).to.throw(ElfpackError).with.property('code', 'SYMLINK_LOOP');
  });

  it('a path component that is a file answers ENOTDIR', () => {
    const r = resolveInRoot(root, '/etc/passwd/x');
    expect(r.missing).to.equal('ENOTDIR');
  });

  it('.. above the root is the root', () => {
    expect(resolveInRoot(root, '/../../../etc/passwd').path).to.equal('/etc/passwd');
  });

  it('a missing component is an answer, not a crash', () => {
    expect(resolveInRoot(root, '/no/such/dir/file').missing).to.equal('ENOENT');
  });

  it('a final symlink is kept when not followed', () => {
    const r = resolveInRoot(root, '/x', { followFinal: false });
    expect(r.type).to.equal('symlink');
  });
});
