// zstd images as the real tools make them (skopeo copy --dest-compress-format zstd, as an OCI
// archive and as a layout directory) are roots: ldd --root and doctor read them, and pack --root
// packs from them an image the engine runs.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerLoad, dockerRmi, dockerRun, needEngine, run } from '../support/engine.js';
import { fixture, needCommand, runCli } from '../support/helpers.js';

describe('oci: zstd images made by skopeo are roots for ldd, pack and doctor', function () {
  this.timeout(180_000);
  let dir: string;
  const tags: string[] = [];
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'elfpack-zstd-img-')); });
  afterEach(() => {
    for (const t of tags.splice(0)) dockerRmi(t);
    rmSync(dir, { recursive: true, force: true });
  });

  it('an OCI archive and a layout directory with a zstd layer: ldd and doctor read them, and pack --root makes an image that runs', async function () {
    needCommand(this, 'skopeo');
    needEngine(this);
    const plain = join(dir, 'plain.tar');
    const made = await runCli([fixture(this, 'cxx/hello-cxx'), '--as', '/usr/local/bin/app', '--bare', '--out', plain, '--tag', `elfpack-test-zstd-base:${process.pid}`]);
    expect(made.code, made.stderr).to.equal(0);
    const archive = join(dir, 'zstd.tar');
    const layout = join(dir, 'zstd-layout');
    for (const dest of [`oci-archive:${archive}`, `oci:${layout}:1`]) {
      const r = run('skopeo', ['copy', '-q', '--dest-compress-format', 'zstd', `docker-archive:${plain}`, dest]);
      expect(r.status, r.stderr).to.equal(0);
    }
    // What skopeo wrote is zstd: the media type, and the magic of the layer blob.
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
    const manifest = JSON.parse(readFileSync(join(layout, 'blobs/sha256', index.manifests[0].digest.slice(7)), 'utf8'));
    // Every layer of the split (image/layers.ts): the image root reads several zstd layers.
    expect(manifest.layers.length).to.be.above(1);
    expect(new Set(manifest.layers.map((l: { mediaType: string }) => l.mediaType))).to.deep.equal(new Set(['application/vnd.oci.image.layer.v1.tar+zstd']));
    expect(readFileSync(join(layout, 'blobs/sha256', manifest.layers[0].digest.slice(7))).subarray(0, 4).toString('hex')).to.equal('28b52ffd');

    const env = { XDG_CACHE_HOME: join(dir, 'cache') };
    for (const root of [archive, layout]) {
      const l = await runCli(['ldd', '--root', root, '/usr/local/bin/app'], { env });
      expect(l.code, l.stderr).to.equal(0);
      expect(l.stdout).to.match(/libstdc\+\+\.so\.6 => \/\S+libstdc\+\+\.so\.6/);
      const d = await runCli(['doctor', root, '--json'], { env });
      expect(d.code, d.stderr).to.equal(0);
      expect(JSON.parse(d.stdout)).to.include({ starts: true }).and.have.property('command').that.deep.equals(['/usr/local/bin/app']);
    }

    const tag = `elfpack-test-zstd-root:${process.pid}`;
    const p = await runCli(['/usr/local/bin/app', '--root', archive, '--out', join(dir, 'out.tar'), '--tag', tag], { env });
    expect(p.code, p.stderr).to.equal(0);
    tags.push(dockerLoad(join(dir, 'out.tar')));
    expect(dockerRun(tag).stdout.toString()).to.equal('hello from c++ (caught)\n');
  });
});
