// buildDebRoot saves the root it made, whole, by the .debs' SHA256s: the same .debs again give the
// same root from one file (without the .debs), other .debs or another order do not hit, and a
// damaged saved root is ignored and made again.
import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { buildDebRoot, openSavedDebRoot, type DebRoot } from '../../src/deb/deb-root.js';
import { makeDeb, makeTar } from '../support/debs.js';
import { needCommand } from '../support/helpers.js';

describe('deb/deb-root-cache: a built root saved whole, keyed by the .debs', function () {
  this.timeout(60_000);
  let dir: string;
  let debs: { path: string; sha256: string }[];
  const opts = () => ({ cacheDir: join(dir, 'cache'), arch: 'amd64' });
  const roots = () => join(dir, 'cache', 'deb-root', 'roots');
  const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
  /** Every path with its type and target, and the root's warnings and packages. */
  const listing = (r: DebRoot) => ({
    index: r.index.snapshot().map((e) => JSON.stringify(e)),
    warnings: r.warnings,
    packages: r.packages.map((p) => `${p.name} ${p.version} ${p.arch}`),
  });

  beforeEach(async function () {
    needCommand(this, 'ar');
    dir = mkdtempSync(join(tmpdir(), 'elfpack-debroot-cache-'));
    const tar = async (items: Parameters<typeof makeTar>[0]) => ({ name: 'data.tar.gz', bytes: gzipSync(await makeTar(items)) });
    const a = await makeDeb(join(dir, 'a.deb'), await tar([{ name: './usr/', type: 'directory' }, { name: './usr/lib/', type: 'directory' }, { name: './usr/lib/x86_64-linux-gnu/', type: 'directory' }, { name: './usr/lib/x86_64-linux-gnu/libfoo.so.1', content: 'not an ELF' }, { name: './opt/thing/', type: 'directory' }]), { name: 'pkg-a' });
    const b = await makeDeb(join(dir, 'b.deb'), await tar([{ name: './opt/', type: 'directory' }, { name: './opt/thing', content: 'a file over a directory' }, { name: './usr/bin/', type: 'directory' }, { name: './usr/bin/prog', content: 'x', mode: 0o755 }]), { name: 'pkg-b', postinst: 'update-alternatives --install /usr/bin/p p /usr/bin/prog 10\n' });
    debs = [a, b].map((path) => ({ path, sha256: sha(path) }));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('the second build is the saved root: the same entries, warnings and packages, even with the .debs gone', async () => {
    const first = await buildDebRoot(debs, opts());
    expect(readdirSync(roots())).to.have.length(1);
    expect(first.warnings).to.deep.equal(['pkg-b: /opt/thing: a file replaces the directory of pkg-a (dpkg would refuse)']);
    expect(first.readlink('/usr/bin/p')).to.equal('/etc/alternatives/p');
    for (const d of debs) rmSync(d.path);
    const saved = openSavedDebRoot(debs, opts())!;
    expect(saved, 'a saved root').to.not.equal(undefined);
    expect(listing(saved)).to.deep.equal(listing(first));
    expect(saved.packages.map((p) => p.path)).to.deep.equal(debs.map((d) => d.path));
    const again = await buildDebRoot(debs, opts()); // the SHA256s given: the missing files are not read
    expect(listing(again)).to.deep.equal(listing(first));
    const src = saved.open('/usr/lib/x86_64-linux-gnu/libfoo.so.1');
    expect(src.read(0, 10, 'test').toString()).to.equal('not an ELF');
    src.close();
  });

  it('without SHA256s the .debs are hashed for the key, and hit the same saved root', async () => {
    const first = await buildDebRoot(debs, opts());
    const again = await buildDebRoot(debs.map((d) => ({ path: d.path })), opts());
    expect(listing(again)).to.deep.equal(listing(first));
    expect(readdirSync(roots())).to.have.length(1);
  });

  it('another order, another .deb, another architecture or a changed data tar is not the saved root', async () => {
    await buildDebRoot(debs, opts());
    expect(openSavedDebRoot([...debs].reverse(), opts())).to.equal(undefined);
    expect(openSavedDebRoot([debs[0]], opts())).to.equal(undefined);
    expect(openSavedDebRoot(debs, { ...opts(), arch: 'arm64' })).to.equal(undefined);
    expect(openSavedDebRoot(debs, { ...opts(), maxEntries: 10_000 })).to.equal(undefined);
    expect(openSavedDebRoot(debs, opts())).to.not.equal(undefined);
    // The data tars the index points into are checked (size and mtime): one rewritten, the root is made again.
    const data = join(dir, 'cache', 'deb-data');
    const tar = join(data, readdirSync(data)[0]);
    writeFileSync(tar, Buffer.concat([readFileSync(tar), Buffer.alloc(512)]));
    expect(openSavedDebRoot(debs, opts())).to.equal(undefined);
  });

  it('a relative cache directory: the saved root still opens from another working directory; a SHA256 that is not one is a usage error', async () => {
    const cwd = process.cwd();
    try {
      process.chdir(dir);
      const first = await buildDebRoot(debs, { cacheDir: 'rel-cache', arch: 'amd64' });
      process.chdir('/');
      const saved = openSavedDebRoot(debs, { cacheDir: join(dir, 'rel-cache'), arch: 'amd64' })!;
      expect(saved, 'a saved root').to.not.equal(undefined);
      expect(saved.lstat('/usr/lib/x86_64-linux-gnu/libfoo.so.1')).to.include({ type: 'file', size: 10 });
      expect(listing(saved).warnings).to.deep.equal(listing(first).warnings);
    } finally {
      process.chdir(cwd);
    }
    expect(() => openSavedDebRoot([{ sha256: 'abc' }], opts())).to.throw('SHA256 "abc" is not 64 hex digits');
  });

  it('a truncated or garbled saved root is ignored, made again and saved again', async () => {
    const first = await buildDebRoot(debs, opts());
    const file = join(roots(), readdirSync(roots())[0]);
    const bytes = readFileSync(file);
    for (const damaged of [bytes.subarray(0, bytes.length >> 1), Buffer.from(bytes.toString('latin1').replace('pkg-b', 'pkg-c'), 'latin1'), Buffer.from('{}')]) {
      writeFileSync(file, damaged);
      expect(openSavedDebRoot(debs, opts())).to.equal(undefined);
      const again = await buildDebRoot(debs, opts());
      expect(listing(again)).to.deep.equal(listing(first));
      expect(readFileSync(file)).to.deep.equal(bytes);
    }
  });
});
