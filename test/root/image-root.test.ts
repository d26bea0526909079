// Roots read from images without a daemon: layers applied in order with whiteouts, gzip layers
// unpacked into the cache, and hostile streams refused or answered inside the index; then the
// real thing: an image made with `docker import`, saved with `docker save`, packed from.
import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { FsIndex } from '../../src/root/fs-index.js';
import { openImageRoot } from '../../src/root/image-root.js';
import { resolveInRoot } from '../../src/root/resolve-path.js';
import { fixture, runCli } from '../support/helpers.js';
import { ociImage, tarOf, writeLayout } from '../support/image-builder.js';
import { dockerRmi, dockerRun, needEngine, run } from '../support/engine.js';

/** An OCI layout directory with these layers (Buffers, gzip or not). */
function ociLayout(dir: string, layers: Buffer[]): string {
  return writeLayout(dir, ociImage(layers).files);
}

describe('image-root: an image\'s filesystem without a daemon', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'elfpack-img-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('applies layers in order: whiteouts delete, an opaque directory keeps only its own layer, gzip layers unpack into the cache', async () => {
    const lower = tarOf([
      { name: 'etc/', type: '5' }, { name: 'etc/a', body: 'A' }, { name: 'etc/b', body: 'B' },
      { name: 'opt/', type: '5' }, { name: 'opt/old', body: 'old' }, { name: 'lib', type: '2', link: 'usr/lib' },
    ]);
    const upper = tarOf([{ name: 'etc/.wh.a' }, { name: 'opt/new', body: 'new' }, { name: 'opt/.wh..wh..opq' }, { name: 'etc/b', body: 'B2' }]);
    const cache = join(dir, 'cache');
    const root = await openImageRoot(ociLayout(join(dir, 'img'), [lower, gzipSync(upper)]), { cacheDir: cache });
    expect(root.kind('/etc/a')).to.equal(undefined);
    expect(root.readdir('/opt')).to.deep.equal(['new']);
    const b = root.open('/etc/b');
    expect(b.read(0, 2, 'x').toString()).to.equal('B2');
    b.close();
    expect(root.readlink('/lib')).to.equal('usr/lib');
    expect(readdirSync(join(cache, 'layers'))).to.have.length(1);
  });

  it('a hostile layer is answered inside the index: "..", absolute and //// names, a file through a symlink, hard links out, devices', async () => {
    const layer = tarOf([
      { name: '../evil', body: 'x' }, { name: '/abs', body: 'abs' }, { name: '////slashes', body: 's' },
      { name: 'lnk', type: '2', link: '/etc' }, { name: 'lnk/passwd', body: 'pwned' },
      { name: 'hard', type: '1', link: '../../etc/shadow' }, { name: 'tty', type: '3' },
      { name: 'up', type: '2', link: '../../../../..' },
    ]);
    const root = await openImageRoot(ociLayout(join(dir, 'img'), [layer]), {});
    expect(root.index.paths().sort()).to.deep.equal(['/', '/abs', '/lnk', '/slashes', '/tty', '/up']);
    expect(root.index.rejected.map((r) => r.why)).to.deep.equal(['a name with ".."', 'placed through a symlink or a file', 'a hard link to ../../etc/shadow which the archive does not hold']);
    expect(root.kind('/tty')).to.equal('char');
    expect(() => root.open('/tty')).to.throw(/character device/);
    // A link up and out resolves to the index's own root.
    expect(resolveInRoot(root, '/up/abs').path).to.equal('/abs');
    expect(readdirSync(join(dir, 'img'))).to.deep.equal(['blobs', 'index.json', 'oci-layout']);
  });

  it('a truncated stream, a huge pax header and too many entries are refused with one clear error', async () => {
    const whole = tarOf([{ name: 'a', body: 'x'.repeat(5000) }]);
    const cases: [Buffer, RegExp, number?][] = [
      [whole.subarray(0, 2048), /truncated/],
      [tarOf([{ name: 'PaxHeaders/a', type: 'x', size: 64 << 20, body: '' }], false), /not a readable tar/],
      [tarOf(Array.from({ length: 300 }, (_, i) => ({ name: `f${i}`, body: '' }))), /more than 200 entries/, 200],
    ];
    for (const [i, [bytes, msg, max]] of cases.entries()) {
      let err: Error | undefined;
      await openImageRoot(ociLayout(join(dir, `img${i}`), [bytes]), { maxEntries: max }).catch((e: Error) => { err = e; });
      expect(err?.message, String(i)).to.match(msg);
    }
  });

  it('a layer is applied in bounded memory: the index keeps offsets, not bytes', async () => {
    const idx = new FsIndex();
    const file = join(dir, 'l.tar');
    writeFileSync(file, tarOf([{ name: 'big', body: 'z'.repeat(3 << 20) }]));
    await idx.applyLayer(file);
    expect(idx.get('/big')).to.deep.include({ type: 'file', size: 3 << 20, data: { file, offset: 512 } });
  });
});

describe('image-root: docker save of an imported image, packed from without the daemon', function () {
  this.timeout(180_000);
  it('ldd and pack read a `docker save` tar; the packed image runs', async function () {
    needEngine(this);
    const dir = mkdtempSync(join(tmpdir(), 'elfpack-save-'));
    try {
      const rootfs = join(dir, 'rootfs');
      expect((await runCli([fixture(this, 'cxx/hello-cxx'), '--as', '/usr/local/bin/app', '--rootfs', rootfs, '--bare'])).code).to.equal(0);
      expect(run('sh', ['-c', `tar -C ${rootfs} -c . | docker import - elfpack-test-builder:1`]).status).to.equal(0);
      expect(run('docker', ['save', '-o', join(dir, 'saved.tar'), 'elfpack-test-builder:1']).status).to.equal(0);
      const l = await runCli(['ldd', '--root', join(dir, 'saved.tar'), '/usr/local/bin/app']);
      expect(l.code, l.stderr).to.equal(0);
      expect(l.stdout).to.match(/libstdc\+\+\.so\.6 => \/\S+libstdc\+\+\.so\.6/);
      const p = await runCli(['/usr/local/bin/app', '--root', join(dir, 'saved.tar'), '--out', join(dir, 'out.tar'), '--tag', 'elfpack-test-fromsave:1'], { env: { XDG_CACHE_HOME: join(dir, 'cache') } });
      expect(p.code, p.stderr).to.equal(0);
      expect(run('docker', ['load', '-i', join(dir, 'out.tar')]).status).to.equal(0);
      expect(dockerRun('elfpack-test-fromsave:1').stdout.toString()).to.equal('hello from c++ (caught)\n');
    } finally {
      dockerRmi('elfpack-test-fromsave:1');
      dockerRmi('elfpack-test-builder:1');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
