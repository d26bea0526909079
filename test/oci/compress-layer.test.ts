// compressLayer, the one call the sinks make: media types as image-spec gives them, the diff_id of
// the uncompressed tar, and layers the real readers take. An elfpack archive written with gzip
// layers (pack's default for a tar) is loaded by docker and run, read by skopeo through both
// transports and copied (which checks every digest), unpacked by umoci, loaded by podman, imported
// and run by containerd, and read back by elfpack itself; --compression picks the kind.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { compressLayer, LAYER_MEDIA_TYPES } from '../../src/oci/compress-layer.js';
import { canWriteZstd } from '../../src/oci/zstd-layer.js';
import { dockerLoad, dockerRmi, dockerRun, needEngine, needImageTools, run, skopeoInspect, umociUnpack } from '../support/engine.js';
import { fixture, haveCommand, runCli, skipOrFail } from '../support/helpers.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function collect(kind: 'gzip' | 'zstd' | 'none', input: Buffer[]) {
  const out: Buffer[] = [];
  const info = await compressLayer(kind, input, (b) => { out.push(Buffer.from(b)); });
  return { info, bytes: Buffer.concat(out) };
}

describe('oci/compress-layer: one call from a layer tar to its blob and descriptor', function () {
  this.timeout(60_000);
  const tar = Buffer.concat([Buffer.alloc(512, 'a'), Buffer.alloc(3 << 20, 'b'), Buffer.alloc(1024)]);

  it('gives the image-spec media types, the digest and size of what was written, and the diff_id of the tar', async () => {
    expect(LAYER_MEDIA_TYPES).to.deep.equal({
      none: 'application/vnd.oci.image.layer.v1.tar',
      gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
      zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
    });
    const gz = await collect('gzip', [tar.subarray(0, 1000), tar.subarray(1000)]);
    expect(gz.info).to.deep.equal({ mediaType: LAYER_MEDIA_TYPES.gzip, digest: sha(gz.bytes), size: gz.bytes.length, diffId: sha(tar), uncompressedSize: tar.length });
    expect(zlib.gunzipSync(gz.bytes).equals(tar)).to.equal(true);
    const none = await collect('none', [tar]);
    expect(none.info).to.deep.equal({ mediaType: LAYER_MEDIA_TYPES.none, digest: sha(tar), size: tar.length, diffId: sha(tar), uncompressedSize: tar.length });
    expect(none.bytes.equals(tar)).to.equal(true);
  });

  it('takes the tar writer\'s push-style producer as well as an iterable', async () => {
    const producer = async (sink: (b: Buffer) => void | Promise<void>) => { await sink(tar.subarray(0, 7)); await sink(tar.subarray(7)); };
    const out: Buffer[] = [];
    const info = await compressLayer('gzip', producer, (b) => { out.push(b); });
    expect(info.diffId).to.equal(sha(tar));
    expect(info.digest).to.equal((await collect('gzip', [tar])).info.digest);
  });

  it('zstd where this Node writes it (22.15+, deterministic across cuts); on Node 20 one line that says so', async () => {
    if (!canWriteZstd()) {
      const err = await collect('zstd', [tar]).catch((e: Error) => e);
      expect(String((err as Error).message)).to.match(/^zstd layers need Node 22\.15 or later to write \(this is v20\.[\d.]+\); use --compression gzip$/);
      return;
    }
    const a = await collect('zstd', [tar]);
    const b = await collect('zstd', [tar.subarray(0, 12345), tar.subarray(12345)]);
    expect(a.info.digest).to.equal(b.info.digest);
    expect(a.info).to.include({ mediaType: LAYER_MEDIA_TYPES.zstd, diffId: sha(tar), size: a.bytes.length });
    expect(a.bytes.subarray(0, 4).toString('hex')).to.equal('28b52ffd');
    const unzstd = (zlib as unknown as { zstdDecompressSync: (b: Buffer) => Buffer }).zstdDecompressSync;
    expect(unzstd(a.bytes).equals(tar)).to.equal(true);
  });

  it('refuses a kind it does not know', async () => {
    const err = await compressLayer('lz4' as 'gzip', [tar], () => undefined).catch((e: Error) => e);
    expect(String(err)).to.match(/compression "lz4": want gzip, zstd or none/);
  });
});

describe('oci/compress-layer: gzip layers the real readers take', function () {
  this.timeout(180_000);
  let dir: string;
  const tags: string[] = [];
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'elfpack-compress-')); });
  afterEach(() => {
    for (const t of tags.splice(0)) dockerRmi(t);
    rmSync(dir, { recursive: true, force: true });
  });

  it('docker load runs it, skopeo reads and copies it, umoci unpacks it, podman loads it, containerd imports and runs it, elfpack reads it back', async function () {
    needEngine(this);
    needImageTools(this);
    if (!haveCommand('ctr')) skipOrFail(this, 'ctr (containerd) is not installed');
    const tag = `elfpack-test-gzip:${process.pid}`;
    const packTo = async (out: string, ...flags: string[]) => {
      const made = await runCli([fixture(this, 'cxx/hello-cxx'), '--as', '/usr/local/bin/app', '--bare', '--sbom', 'none', '--out', out, '--tag', tag, '--json', ...flags]);
      expect(made.code, made.stderr).to.equal(0);
      return JSON.parse(made.stdout) as { compression: string; layerBytes: number; imageId: string };
    };
    const plain = join(dir, 'plain.tar');
    const gz = join(dir, 'gz.tar');
    const plainJson = await packTo(plain, '--compression', 'none');
    const gzJson = await packTo(gz);
    expect([plainJson.compression, gzJson.compression]).to.deep.equal(['none', 'gzip']);
    // The config (the image ID) is the same: it names the uncompressed tars by their diff_ids.
    expect(gzJson.imageId).to.equal(plainJson.imageId);
    const manifestOf = (t: string) => JSON.parse(run('skopeo', ['inspect', '--raw', `oci-archive:${t}`]).stdout) as { layers: { mediaType: string; digest: string; size: number }[] };
    // Each of the image's layers (the base, the libraries, the program: image/layers.ts) is compressed.
    const plainLayers = manifestOf(plain).layers;
    const layers = manifestOf(gz).layers.map((l, i) => ({ ...l, diffId: plainLayers[i].digest, uncompressedSize: plainLayers[i].size }));
    expect(layers.length).to.be.above(1);
    expect(layers.length).to.equal(plainLayers.length);
    for (const l of plainLayers) expect(l.mediaType).to.equal('application/vnd.oci.image.layer.v1.tar');
    for (const layer of layers) expect(layer.mediaType).to.equal('application/vnd.oci.image.layer.v1.tar+gzip');
    const total = (key: 'size' | 'uncompressedSize') => layers.reduce((n, l) => n + l[key], 0);
    expect(total('size')).to.equal(gzJson.layerBytes);
    expect(total('size')).to.be.below(total('uncompressedSize') / 1.5);

    // skopeo names a docker-archive's layers by diff_id and an OCI archive's by blob digest.
    expect(skopeoInspect('docker-archive', gz).Layers).to.deep.equal(layers.map((l) => l.diffId));
    expect(skopeoInspect('oci-archive', gz).Layers).to.deep.equal(layers.map((l) => l.digest));
    // skopeo copy checks each blob against its digest, and the layer against its diff_id, as it goes.
    for (const src of [`oci-archive:${gz}`, `docker-archive:${gz}`]) {
      const copy = run('skopeo', ['copy', '-q', src, `oci:${join(dir, 'copy')}:1`]);
      expect(copy.status, `${src}: ${copy.stderr}`).to.equal(0);
    }
    umociUnpack(gz, tag.slice(tag.lastIndexOf(':') + 1)).cleanup();
    const p = run('podman', ['load', '-i', gz]);
    expect(p.status, p.stderr).to.equal(0);
    run('podman', ['rmi', '-f', `localhost/${tag}`]);
    // docker load takes the gzip blob manifest.json names; the engine runs the image.
    tags.push(dockerLoad(gz));
    expect(dockerRun(tag).stdout.toString()).to.equal('hello from c++ (caught)\n');

    // containerd unpacks it (gunzip and diff_id check) into a snapshot, and runs it.
    const ctr = ['-a', '/run/docker/containerd/containerd.sock', '-n', `elfpack-test-${process.pid}`];
    if (run('ctr', [...ctr, 'version']).status !== 0) skipOrFail(this, 'containerd does not answer on /run/docker/containerd/containerd.sock');
    try {
      const imp = run('ctr', [...ctr, 'images', 'import', gz]);
      expect(imp.status, imp.stderr).to.equal(0);
      // Complete: the config and every layer.
      expect(run('ctr', [...ctr, 'images', 'check']).stdout).to.match(new RegExp(`complete \\(${layers.length + 1}/${layers.length + 1}\\).*true`));
      const ran = run('ctr', [...ctr, 'run', '--rm', tag, `elfpack-test-${process.pid}`]);
      expect(ran.stdout, ran.stderr).to.equal('hello from c++ (caught)\n');
    } finally {
      run('ctr', [...ctr, 'images', 'rm', '--sync', tag]);
      run('ctr', ['-a', '/run/docker/containerd/containerd.sock', 'namespaces', 'rm', `elfpack-test-${process.pid}`]);
    }

    // And elfpack, as a root.
    const l = await runCli(['ldd', '--root', gz, '/usr/local/bin/app'], { env: { XDG_CACHE_HOME: join(dir, 'cache') } });
    expect(l.code, l.stderr).to.equal(0);
    expect(l.stdout).to.match(/libstdc\+\+\.so\.6 => /);
  });
});

describe('--compression: what pack writes', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'elfpack-compression-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a kind it does not know, in one line, before anything is written', async function () {
    const out = join(dir, 'x.tar');
    const r = await runCli([fixture(this, 'glibc/hello'), '--out', out, '--compression', 'lz4']);
    expect(r.code).to.equal(2);
    expect(r.stderr.trim().split('\n')).to.have.length(1);
    expect(r.stderr).to.match(/--compression lz4: want gzip, zstd or none/);
    expect(existsSync(out)).to.equal(false);
  });

  it('zstd: written on Node 22.15+, else one line before any packing; gzip twice gives the same digest', async function () {
    const out = join(dir, 'z.tar');
    const r = await runCli([fixture(this, 'glibc/hello'), '--out', out, '--compression', 'zstd', '--json']);
    if (!canWriteZstd()) {
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(/--compression zstd needs Node 22\.15 or later/);
      expect(existsSync(out)).to.equal(false);
    } else {
      expect(r.code, r.stderr).to.equal(0);
      expect(JSON.parse(r.stdout).compression).to.equal('zstd');
      const m = JSON.parse(run('skopeo', ['inspect', '--raw', `oci-archive:${out}`]).stdout);
      expect(m.layers[0].mediaType).to.equal('application/vnd.oci.image.layer.v1.tar+zstd');
    }
    const digests: string[] = [];
    for (const name of ['a.tar', 'b.tar']) {
      const g = await runCli([fixture(this, 'glibc/hello'), '--out', join(dir, name), '--json']);
      expect(g.code, g.stderr).to.equal(0);
      digests.push(JSON.parse(g.stdout).digest);
    }
    expect(digests[0]).to.equal(digests[1]);
  });

  it('--rootfs alone builds no layer; --load alone stores it uncompressed (nothing leaves the machine)', async function () {
    const r = await runCli([fixture(this, 'glibc/hello'), '--rootfs', join(dir, 'fs'), '--json']);
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout).compression).to.equal(null);
    needEngine(this);
    const tag = `elfpack-test-compression-load:${process.pid}`;
    try {
      const l = await runCli([fixture(this, 'glibc/hello'), '--load', '--tag', tag, '--json']);
      expect(l.code, l.stderr).to.equal(0);
      expect(JSON.parse(l.stdout).compression).to.equal('none');
      expect(dockerRun(tag).status).to.equal(0);
    } finally {
      dockerRmi(tag);
    }
  });
});
