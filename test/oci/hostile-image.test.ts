// Hostile and broken images given to --root and doctor: every one is refused with one line naming
// the image, exit status 1 and a stable code, without reading a host file, looping, quoting the
// bytes of a file that did not parse, or leaving anything in the cache.
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { ElfpackError } from '../../src/errors.js';
import { hasNativeZstd } from '../../src/oci/zstd-stream.js';
import { isImagePath, openImageRoot } from '../../src/root/image-root.js';
import { blob, ociImage, sha256, tarOf, writeArchive, writeLayout, type TarEntry } from '../support/image-builder.js';
import { needCommand, runCli } from '../support/helpers.js';

const APP: TarEntry[] = [{ name: 'bin/', type: '5' }, { name: 'bin/app', body: '#!/bin/sh\necho hi\n' }];

/** Runs `ldd --root IMAGE /bin/app` and `doctor IMAGE`; both must refuse with one line and exit 1. */
async function refused(image: string, pattern: RegExp, env: NodeJS.ProcessEnv = {}): Promise<string> {
  for (const args of [['ldd', '--root', image, '/bin/app'], ['doctor', image]]) {
    const r = await runCli(args, { env });
    expect(r.code, `${args[0]}: ${r.stderr}`).to.equal(1);
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines, r.stderr).to.have.length(1);
    expect(lines[0]).to.match(new RegExp(`^elfpack: ${image.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    expect(lines[0]).to.match(pattern);
    expect(lines[0]).not.to.match(/is not a function|Cannot read propert|Unexpected token|at position|undefined|\[object/);
  }
  return (await runCli(['ldd', '--root', image, '/bin/app'], { env })).stderr;
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return (err as ElfpackError).code;
  }
  return undefined;
}

describe('oci: hostile image roots are refused, never followed', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'elfpack-hostile-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a digest that is not algorithm:hex of the right length never names a path (sha256:../../x, md5, upper case, short)', async () => {
    const secret = join(dir, 'secret');
    writeFileSync(secret, 'root:x:0:0:SECRET-CONTENT\n');
    for (const [i, bad] of ['sha256:../../secret', `sha256:${'A'.repeat(64)}`, `md5:${'0'.repeat(32)}`, `sha256:${'0'.repeat(63)}`, 'sha256:', 42, null].entries()) {
      const img = ociImage([tarOf(APP)]);
      img.files.set('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: bad, size: 25 }] })));
      const layout = writeLayout(join(dir, `l${i}`), img.files);
      const err = await refused(layout, /no valid digest/);
      expect(err).not.to.include('SECRET');
    }
  });

  it('a layer or config digest that is malformed is refused the same way, in an archive too', async () => {
    const img = ociImage([tarOf(APP)]);
    const m = JSON.parse(img.files.get(`blobs/sha256/${img.manifest.digest.slice(7)}`)!.toString());
    m.layers[0].digest = 'sha256:../../../etc/passwd';
    const mb = blob(JSON.stringify(m));
    img.files.set(`blobs/sha256/${mb.digest.slice(7)}`, mb.bytes);
    img.files.set('index.json', Buffer.from(JSON.stringify({ manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: mb.digest, size: mb.size }] })));
    await refused(writeArchive(join(dir, 'a.tar'), img.files), /layers\[0\] has no valid digest/);
    await refused(writeLayout(join(dir, 'l'), img.files), /layers\[0\] has no valid digest/);
  });

  it('a blob whose bytes do not match its digest or size is refused; the error never quotes them', async () => {
    const img = ociImage([tarOf(APP)]);
    const name = `blobs/sha256/${img.manifest.digest.slice(7)}`;
    img.files.set(name, Buffer.from('root:x:0:0:SECRET-CONTENT'.padEnd(img.manifest.size, ' ')));
    let err = await refused(writeLayout(join(dir, 'l1'), img.files), /does not match its digest/);
    expect(err).not.to.include('SECRET');
    img.files.set(name, Buffer.from('{}'));
    err = await refused(writeLayout(join(dir, 'l2'), img.files), /bytes, its descriptor says/);
  });

  it('a file that does not parse is named, not quoted', async () => {
    const img = ociImage([tarOf(APP)]);
    img.files.set('index.json', Buffer.from('root:x:0:0:SECRET-CONTENT:/root:/bin/bash\n'));
    const err = await refused(writeLayout(join(dir, 'l'), img.files), /index\.json is not valid JSON$/m);
    expect(err).not.to.include('SECRET');
  });

  it('a blob that is a symlink (to a host file, or a directory on the way) is refused in a layout directory', async () => {
    const img = ociImage([tarOf(APP)]);
    const layout = writeLayout(join(dir, 'l'), img.files);
    const name = `blobs/sha256/${img.layers[0].digest.slice(7)}`;
    const host = join(dir, 'host-file');
    writeFileSync(host, img.layers[0].bytes); // even with the right bytes: never followed
    rmSync(join(layout, name));
    symlinkSync(host, join(layout, name));
    await refused(layout, /is a symbolic link/);
    const layout2 = writeLayout(join(dir, 'l2'), img.files);
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    for (const [n, b] of img.files) if (n.startsWith('blobs/sha256/')) writeFileSync(join(elsewhere, n.slice(13)), b);
    rmSync(join(layout2, 'blobs/sha256'), { recursive: true });
    symlinkSync(elsewhere, join(layout2, 'blobs/sha256'));
    await refused(layout2, /blobs\/sha256 is a symbolic link/);
  });

  it('an index that names itself, indexes that name each other, and indexes nested too deep end with one line, quickly', async () => {
    // A real loop cannot have matching digests, so a loop is refused by its digest or by the cycle check.
    const img = ociImage([tarOf(APP)]);
    const fake = `sha256:${'ab'.repeat(32)}`;
    const self = Buffer.from(JSON.stringify({ mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: fake, size: 0 }] }));
    const selfRef = Buffer.from(JSON.stringify({ mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: fake, size: self.length }] }));
    img.files.set(`blobs/sha256/${'ab'.repeat(32)}`, selfRef);
    img.files.set('index.json', Buffer.from(JSON.stringify({ manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: fake, size: selfRef.length }] })));
    await refused(writeLayout(join(dir, 'self'), img.files), /does not match its digest|loop/);

    // Valid digests all the way: 12 indexes, each naming the next.
    const deep = ociImage([tarOf(APP)]);
    let top = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: deep.manifest.digest, size: deep.manifest.size };
    for (let i = 0; i < 12; i++) {
      const b = blob(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [top] }));
      deep.files.set(`blobs/sha256/${b.digest.slice(7)}`, b.bytes);
      top = { mediaType: 'application/vnd.oci.image.index.v1+json', digest: b.digest, size: b.size };
    }
    deep.files.set('index.json', Buffer.from(JSON.stringify({ manifests: [top] })));
    await refused(writeArchive(join(dir, 'deep.tar'), deep.files), /nested more than 8 deep/);
  });

  it('a layout that lost oci-layout is still an image; a root filesystem with a stray index.json is still a directory', async () => {
    const img = ociImage([tarOf(APP)]);
    img.files.delete('oci-layout');
    const layout = writeLayout(join(dir, 'l'), img.files);
    expect((await runCli(['doctor', layout, '--entrypoint', '/bin/app'])).stdout).to.match(/\/bin\/app/);
    expect(isImagePath(layout)).to.equal(true);
    const rootfs = join(dir, 'rootfs');
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    writeFileSync(join(rootfs, 'index.json'), '{"site":"not an image"}');
    expect(isImagePath(rootfs)).to.equal(false);
  });

  it('an index of two levels is followed to its image; BuildKit\'s attestation manifest is passed over', async () => {
    const img = ociImage([tarOf(APP)]);
    const att = blob('{"schemaVersion":2,"layers":[]}');
    img.files.set(`blobs/sha256/${att.digest.slice(7)}`, att.bytes);
    const inner = blob(JSON.stringify({ mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: att.digest, size: att.size, platform: { os: 'unknown', architecture: 'unknown' } },
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: img.manifest.digest, size: img.manifest.size, platform: { os: 'linux', architecture: 'amd64' } },
    ] }));
    img.files.set(`blobs/sha256/${inner.digest.slice(7)}`, inner.bytes);
    img.files.set('index.json', Buffer.from(JSON.stringify({ manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: inner.digest, size: inner.size }] })));
    const root = await openImageRoot(writeLayout(join(dir, 'l'), img.files));
    expect(root.kind('/bin/app')).to.equal('file');
  });

  it('malformed manifest.json, index.json and config shapes give one line, never a JavaScript message', async () => {
    const good = ociImage([tarOf(APP)]);
    const cases: [string, string | Buffer, RegExp][] = [
      ['manifest.json', '{"Layers":5}', /manifest\.json is not a list/],
      ['manifest.json', '[null]', /names no image/],
      ['manifest.json', '[]', /names no image/],
      ['manifest.json', '[{"Layers":"x"}]', /Layers is not a list/],
      ['manifest.json', '[{"Layers":[null]}]', /not a file name/],
      ['manifest.json', '[{"Layers":["nope/layer.tar"]}]', /layer nope\/layer\.tar is missing/],
      ['manifest.json', '[{"Config":7,"Layers":[]}]', /Config is not a file name/],
      ['index.json', 'null', /index\.json is not a JSON object/],
      ['index.json', '{"manifests":{}}', /manifests is not a list/],
      ['index.json', '{"manifests":[]}', /names no image/],
      ['index.json', '{"manifests":[7]}', /not a descriptor/],
      ['index.json', `{"manifests":[{"digest":"${good.manifest.digest}","size":-1}]}`, /no valid size/],
      ['index.json', `{"manifests":[{"digest":"${good.manifest.digest}","size":${good.manifest.size},"mediaType":5}]}`, /media type/],
    ];
    for (const [i, [name, body, pattern]] of cases.entries()) {
      const files = new Map(good.files);
      files.set(name, Buffer.from(body));
      await refused(writeArchive(join(dir, `c${i}.tar`), files), pattern);
    }
    // A config of the wrong shape, and a manifest without layers, with valid digests.
    for (const [i, [config, pattern]] of ([['null', /config is not a JSON object/], ['{"config":{"Env":"PATH=/x"}}', /Env is not a list of strings/], ['{"architecture":1}', /architecture is not a string/], ['{"rootfs":{"diff_ids":["x"]}}', /diff_ids\[0\] is not a valid digest/], ['{"rootfs":{"diff_ids":["sha256:' + '0'.repeat(64) + '","sha256:' + '0'.repeat(64) + '"]}}', /2 diff_ids for 1 layers/]] as const).entries()) {
      const img = ociImage([tarOf(APP)], { config: JSON.parse(config) ?? undefined });
      if (config === 'null') {
        const c = blob('null');
        const m = JSON.parse(img.files.get(`blobs/sha256/${img.manifest.digest.slice(7)}`)!.toString());
        m.config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: c.digest, size: c.size };
        const mb = blob(JSON.stringify(m));
        img.files.set(`blobs/sha256/${c.digest.slice(7)}`, c.bytes).set(`blobs/sha256/${mb.digest.slice(7)}`, mb.bytes);
        img.files.set('index.json', Buffer.from(JSON.stringify({ manifests: [{ digest: mb.digest, size: mb.size }] })));
      }
      await refused(writeArchive(join(dir, `cfg${i}.tar`), img.files), pattern);
    }
  });

  it('bad input is exit 1 with a code: truncated archive, truncated gzip layer, missing layer, oversized manifest.json, too many entries (naming the file)', async () => {
    const img = ociImage([gzipSync(tarOf([...APP, { name: 'big', body: Buffer.alloc(200_000, 7) }]))]);
    const whole = writeArchive(join(dir, 'whole.tar'), img.files);
    const bytes = readFileSync(whole);
    writeFileSync(join(dir, 'cut.tar'), bytes.subarray(0, Math.floor(bytes.length / 2) - 300));
    await refused(join(dir, 'cut.tar'), /truncated|missing/);

    const cutGzip = new Map(img.files);
    const layerName = `blobs/sha256/${img.layers[0].digest.slice(7)}`;
    const cut = img.layers[0].bytes.subarray(0, img.layers[0].size - 400);
    cutGzip.set(layerName, cut);
    rewriteManifest(cutGzip, img, (m) => { m.layers[0].size = cut.length; });
    await refused(writeArchive(join(dir, 'cutgz.tar'), cutGzip), /does not match its digest|truncated/, { XDG_CACHE_HOME: join(dir, 'cache') });

    const missing = new Map(img.files);
    missing.delete(layerName);
    await refused(writeArchive(join(dir, 'missing.tar'), missing), /layer sha256:[0-9a-f]{64} is missing/);

    const huge = new Map(img.files);
    huge.set('manifest.json', Buffer.alloc(17 << 20, 0x20));
    await refused(writeArchive(join(dir, 'huge.tar'), huge), /manifest\.json is \d+ bytes, more than/);

    expect(await codeOf(openImageRoot(writeArchive(join(dir, 'many.tar'), ociImage([tarOf(Array.from({ length: 300 }, (_, i) => ({ name: `f${i}`, body: '' })))]).files), { maxEntries: 200 }))).to.equal('IMAGE_LIMIT');
    const err = await openImageRoot(join(dir, 'many.tar'), { maxEntries: 200 }).catch((e: ElfpackError) => e);
    expect((err as ElfpackError).describe()).to.match(/many\.tar: the image holds more than 200 entries/);
  });

  it('a tampered uncompressed layer in an archive fails its digest (checked as it is read)', async () => {
    const img = ociImage([tarOf([...APP, { name: 'etc/x', body: 'original' }])]);
    const name = `blobs/sha256/${img.layers[0].digest.slice(7)}`;
    img.files.set(name, Buffer.from(img.files.get(name)!.toString('latin1').replace('original', 'tampered'), 'latin1'));
    await refused(writeArchive(join(dir, 't.tar'), img.files), /layer blobs\/sha256\/[0-9a-f]{64} does not match its digest/);
  });

  it('docker save before 25 (<id>/layer.tar, <hex>.json): the config is checked by its name, each layer by its diff_id', async () => {
    const layer = tarOf([...APP, { name: 'etc/x', body: 'original' }]);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(layer)}`] } }));
    const legacy = (layerBytes: Buffer, configBytes = config) => new Map([
      ['manifest.json', Buffer.from(JSON.stringify([{ Config: `${sha256(config)}.json`, RepoTags: ['x:1'], Layers: ['0123abcd/layer.tar'] }]))],
      [`${sha256(config)}.json`, configBytes], ['0123abcd/layer.tar', layerBytes],
    ]);
    const root = await openImageRoot(writeArchive(join(dir, 'ok.tar'), legacy(layer)));
    expect(root.kind('/etc/x')).to.equal('file');
    await refused(writeArchive(join(dir, 'tampered.tar'), legacy(Buffer.from(layer.toString('latin1').replace('original', 'tampered'), 'latin1'))), /layer 0123abcd\/layer\.tar does not match its digest/);
    await refused(writeArchive(join(dir, 'cfg.tar'), legacy(layer, Buffer.from(config.toString().replace('amd64', 'arm64')))), /the config does not match its digest/);

    // A repeated layer is a symlink to the first (docker save did so); links stay inside the archive.
    const twice = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(layer)}`, `sha256:${sha256(layer)}`] } }));
    const linked = (link: string) => writeFileSync(join(dir, 'linked.tar'), tarOf([
      { name: 'manifest.json', body: JSON.stringify([{ Config: `${sha256(twice)}.json`, Layers: ['0123abcd/layer.tar', '4567ef/layer.tar'] }]) },
      { name: `${sha256(twice)}.json`, body: twice }, { name: '0123abcd/layer.tar', body: layer },
      { name: '4567ef/layer.tar', type: '2', link }, { name: 'loop/layer.tar', type: '2', link: '../loop/layer.tar' },
    ]));
    linked('../0123abcd/layer.tar');
    expect((await openImageRoot(join(dir, 'linked.tar'))).kind('/etc/x')).to.equal('file');
    for (const bad of ['../../../../etc/passwd', '/etc/passwd', '../loop/layer.tar']) {
      linked(bad);
      await refused(join(dir, 'linked.tar'), /layer 4567ef\/layer\.tar is missing/);
    }
  });

  it('a gzip layer that does not unpack to its diff_id is refused and leaves nothing in the cache', async () => {
    const layer = gzipSync(tarOf(APP));
    const img = ociImage([layer], { diffIds: [`sha256:${sha256('something else')}`] });
    const cache = join(dir, 'cache');
    await refused(writeArchive(join(dir, 'd.tar'), img.files), /unpacked, does not match its digest/, { XDG_CACHE_HOME: cache });
    expect(readdirSync(join(cache, 'elfpack/layers'))).to.deep.equal([]);
  });
});

const ZSTD_LAYER = 'application/vnd.oci.image.layer.v1.tar+zstd';

/** `bytes` through the zstd tool. */
function zstdOf(bytes: Buffer): Buffer {
  const r = spawnSync('zstd', ['-q', '-c', '-3'], { input: bytes, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`zstd: ${r.stderr}`);
  return r.stdout;
}

/** A zstd frame of an 8 MiB window (0x68) with these blocks: [type, size, content] (raw 0, RLE 1). */
function zstdFrame(blocks: [number, number, Buffer][], wd = 0x68): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, wd])];
  blocks.forEach(([type, size, content], i) => {
    const v = (size << 3) | (type << 1) | (i === blocks.length - 1 ? 1 : 0);
    parts.push(Buffer.from([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff]), content);
  });
  return Buffer.concat(parts);
}

describe('oci: hostile zstd layers are refused like gzip ones', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'elfpack-hostile-zstd-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a zstd layer is read; one whose bytes changed, or that does not unpack to its diff_id, is refused with one line and leaves nothing in the cache', async function () {
    needCommand(this, 'zstd');
    const tar = tarOf([...APP, { name: 'etc/x', body: 'original '.repeat(1000) }]);
    const layer = zstdOf(tar);
    const cache = join(dir, 'cache');
    const good = ociImage([layer], { diffIds: [`sha256:${sha256(tar)}`], mediaType: ZSTD_LAYER });
    const root = await openImageRoot(writeArchive(join(dir, 'ok.tar'), good.files), { cacheDir: cache });
    expect(root.open('/etc/x').read(0, 8, 'x').toString()).to.equal('original');
    expect(readdirSync(join(cache, 'layers'))).to.deep.equal([`sha256-${sha256(layer)}.tar`]);

    const tampered = new Map(good.files);
    const name = `blobs/sha256/${good.layers[0].digest.slice(7)}`;
    const bytes = Buffer.from(layer);
    bytes[Math.floor(bytes.length / 2)] ^= 0x55;
    tampered.set(name, bytes);
    const cache2 = join(dir, 'cache2');
    await refused(writeArchive(join(dir, 't.tar'), tampered), /layer blobs\/sha256\/[0-9a-f]{64} (does not match its digest|does not unpack: the zstd stream is damaged)/, { XDG_CACHE_HOME: cache2 });
    expect(readdirSync(join(cache2, 'elfpack/layers'))).to.deep.equal([]);

    const other = ociImage([layer], { diffIds: [`sha256:${sha256('something else')}`], mediaType: ZSTD_LAYER });
    await refused(writeArchive(join(dir, 'd.tar'), other.files), /unpacked, does not match its digest/, { XDG_CACHE_HOME: cache2 });
    expect(readdirSync(join(cache2, 'elfpack/layers'))).to.deep.equal([]);

    const cut = layer.subarray(0, layer.length - 7);
    await refused(writeArchive(join(dir, 'c.tar'), ociImage([cut], { diffIds: [`sha256:${sha256(tar)}`], mediaType: ZSTD_LAYER }).files), /does not unpack: the zstd stream is truncated/, { XDG_CACHE_HOME: cache2 });
  });

  it('a zstd bomb stops at 8x its size plus 256 MiB, and leaves nothing in the cache', async () => {
    // A tar header claiming 300 MiB of zeros, then 128 KiB RLE blocks of zeros: 10 KB that unpack to 300 MiB.
    const header = tarOf([{ name: 'zeros', body: '', size: 300 << 20 }], false).subarray(0, 512);
    const bomb = zstdFrame([[0, 512, header], ...Array.from({ length: 2400 }, (): [number, number, Buffer] => [1, 128 << 10, Buffer.from([0])])]);
    const img = ociImage([bomb], { diffIds: [`sha256:${'0'.repeat(64)}`], mediaType: ZSTD_LAYER });
    const at = writeArchive(join(dir, 'bomb.tar'), img.files);
    const cache = join(dir, 'cache');
    const line = await refused(at, /bomb\.tar: layer blobs\/sha256\/[0-9a-f]+ unpacks to more than \d+ bytes: refused/, { XDG_CACHE_HOME: cache });
    expect(line).to.match(/--max-layer-size/);
    expect(readdirSync(join(cache, 'elfpack/layers'))).to.deep.equal([]);
    const err = await openImageRoot(at, { cacheDir: join(dir, 'c2') }).catch((e: ElfpackError) => e) as ElfpackError;
    expect(err.code).to.equal('IMAGE_LIMIT');
  });

  it('a zstd window past what this Node reads is refused with one line (8 MiB through fzstd on Node 20)', async function () {
    const tar = tarOf(APP);
    const layer = zstdFrame([[0, tar.length, tar]], 0x78); // a 32 MiB window, one raw block
    const img = ociImage([layer], { diffIds: [`sha256:${sha256(tar)}`], mediaType: ZSTD_LAYER });
    const at = writeArchive(join(dir, 'wide.tar'), img.files);
    if (hasNativeZstd()) {
      // Node 22.15+: zstd itself reads windows up to 128 MiB.
      expect((await openImageRoot(at, { cacheDir: join(dir, 'c') })).kind('/bin/app')).to.equal('file');
      return;
    }
    await refused(at, /its zstd window is 33554432 bytes; elfpack reads windows up to 8388608 on this Node/, { XDG_CACHE_HOME: join(dir, 'cache') });
    const err = await openImageRoot(at, { cacheDir: join(dir, 'c') }).catch((e: ElfpackError) => e) as ElfpackError;
    expect(err.code).to.equal('IMAGE_UNSUPPORTED');
  });
});

/** Changes the manifest of `img` in `files` and points index.json at the new one. */
function rewriteManifest(files: Map<string, Buffer>, img: ReturnType<typeof ociImage>, change: (m: { layers: { size: number }[] }) => void): void {
  const m = JSON.parse(files.get(`blobs/sha256/${img.manifest.digest.slice(7)}`)!.toString());
  change(m);
  const mb = blob(JSON.stringify(m));
  files.set(`blobs/sha256/${mb.digest.slice(7)}`, mb.bytes);
  files.set('index.json', Buffer.from(JSON.stringify({ manifests: [{ digest: mb.digest, size: mb.size }] })));
}

describe('oci: the unpacked-layer cache is keyed by content and bounded', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'elfpack-cache-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('another image written at the same path with an equal-size gzip layer gets its own answers', async () => {
    const cacheDir = join(dir, 'cache');
    const at = join(dir, 'img.tar');
    const a = gzipSync(tarOf([{ name: 'who', body: 'AAAA' }]));
    const b = gzipSync(tarOf([{ name: 'who', body: 'BBBB' }]));
    expect(a.length).to.equal(b.length);
    writeArchive(at, ociImage([a]).files);
    const ra = await openImageRoot(at, { cacheDir });
    expect(ra.open('/who').read(0, 4, 'x').toString()).to.equal('AAAA');
    writeArchive(at, ociImage([b]).files);
    const rb = await openImageRoot(at, { cacheDir });
    expect(rb.open('/who').read(0, 4, 'x').toString()).to.equal('BBBB');
    expect(readdirSync(join(cacheDir, 'layers')).sort()).to.deep.equal([`sha256-${sha256(a)}.tar`, `sha256-${sha256(b)}.tar`].sort());
  });

  it('a gzip bomb stops at 8x its size plus 256 MiB by default, or at --max-layer-size, and leaves nothing in the cache', async () => {
    // Many gzip members of zeros: a few hundred KB that unpack to 300 MiB.
    const header = tarOf([{ name: 'zeros', body: '', size: 300 << 20 }], false).subarray(0, 512);
    const mib = gzipSync(Buffer.alloc(1 << 20), { level: 9 });
    const bomb = Buffer.concat([gzipSync(header), ...Array.from({ length: 300 }, () => mib)]);
    const img = ociImage([bomb], { diffIds: [`sha256:${'0'.repeat(64)}`] });
    const at = writeArchive(join(dir, 'bomb.tar'), img.files);
    const cacheDir = join(dir, 'cache');
    const err = await openImageRoot(at, { cacheDir }).catch((e: ElfpackError) => e) as ElfpackError;
    expect(err.code).to.equal('IMAGE_LIMIT');
    expect(err.describe()).to.match(/bomb\.tar: layer blobs\/sha256\/[0-9a-f]+ unpacks to more than \d+ bytes: refused/);
    expect(readdirSync(join(cacheDir, 'layers'))).to.deep.equal([]);

    // The option, through the CLI: a small layer refused below its size, accepted by default.
    const small = ociImage([gzipSync(tarOf([...APP, { name: 'data', body: Buffer.alloc(3 << 20) }]))]);
    const sm = writeArchive(join(dir, 'small.tar'), small.files);
    const env = { XDG_CACHE_HOME: join(dir, 'xdg') };
    const r = await runCli(['ldd', '--root', sm, '--max-layer-size', '1M', '/bin/app'], { env });
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/unpacks to more than 1048576 bytes: refused/);
    expect(readdirSync(join(dir, 'xdg/elfpack/layers'))).to.deep.equal([]);
    const ok = await runCli(['ldd', '--root', sm, '/bin/app'], { env });
    expect(ok.stderr).not.to.match(/unpacks|refused/);
    expect(readdirSync(join(dir, 'xdg/elfpack/layers'))).to.have.length(1);
    expect((await runCli(['ldd', '--root', sm, '--max-layer-size', 'lots', '/bin/app'], { env })).code).to.equal(2);
    expect(existsSync(join(dir, 'xdg'))).to.equal(true);
  });
});
