// Structure-aware mutants of image tars and OCI layouts. An image is first described as a model
// (layers as lists of tar entries, the config, the manifest, nested indexes), mutated there so
// that the digests stay honest and the deeper checks are reached (hostile names, links, whiteouts,
// deep and long paths, wrong JSON shapes, nesting), then written; some are then damaged as bytes
// (a blob flipped or cut, a member dropped, the archive truncated) so that the digest and size
// checks are exercised too.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { blob, sha256, tarOf, type TarEntry } from '../support/image-builder.js';
import type { Prng } from './prng.js';

export interface ImageMutant {
  /** The root to give to --root: a tar file or a layout directory. */
  root: string;
  /** Paths inside it to ldd. */
  files: string[];
}

interface LayerModel { entries: TarEntry[]; gzip: boolean }
interface Model {
  format: 'oci-archive' | 'oci-layout' | 'docker-archive' | 'docker-legacy';
  layers: LayerModel[];
  config: Record<string, unknown>;
  /** Descriptor fields overridden after honest values are computed (e.g. a wrong size). */
  layerOverrides: Record<number, Record<string, unknown>>;
  configOverride?: Record<string, unknown>;
  nesting: number;
  attestation: boolean;
  /** Replaces a JSON document by these bytes after it is built (by name: index.json, manifest, config, manifest.json). */
  replace: Partial<Record<'index.json' | 'manifest' | 'config' | 'manifest.json', unknown>>;
}

const WEIRD_NAMES = ['..', '../x', '/abs/x', '////x', './x', 'a/../../x', '.wh..wh..opq', '.wh.bin', 'bin/.wh.app', 'lib/\nname', 'x\x1b[2J', 'dir/', ''];
const TYPEFLAGS = ['0', '1', '2', '3', '4', '5', '6', '7', 'g', 'K', 'L', 'S', 'V', 'M', 'Z', '\0'];
const WEIRD_JSON: unknown[] = [null, 0, -1, 1e300, '', 'sha256:../../x', 'x'.repeat(5000), [], {}, [null], true, { digest: 'sha256:' + '0'.repeat(64), size: 0 }];

function baseModel(rng: Prng, app: Buffer, lib: Buffer): Model {
  return {
    format: rng.pick(['oci-archive', 'oci-layout', 'docker-archive', 'docker-legacy'] as const),
    layers: [
      { gzip: rng.chance(0.5), entries: [
        { name: 'bin/', type: '5' }, { name: 'bin/app', body: app, mode: 0o755 }, { name: 'lib/', type: '5' },
        { name: 'lib/libattr.so.1', body: lib }, { name: 'usr/lib', type: '2', link: '../lib' }, { name: 'etc/ld.so.conf', body: 'include /etc/ld.so.conf.d/*.conf\n/lib\n' },
      ] },
      { gzip: rng.chance(0.5), entries: [{ name: 'etc/.wh.ld.so.conf' }, { name: 'opt/x', body: 'x' }] },
    ],
    config: { architecture: 'arm64', os: 'linux', config: { Entrypoint: ['/bin/app'], Env: ['PATH=/bin'] } },
    layerOverrides: {},
    nesting: 0,
    attestation: false,
    replace: {},
  };
}

function mutateEntries(rng: Prng, l: LayerModel): void {
  const e = l.entries;
  switch (rng.int(10)) {
    case 0: e.push({ name: rng.pick(WEIRD_NAMES), body: 'w' }); break;
    case 1: { const x = rng.pick(e); if (x) x.type = rng.pick(TYPEFLAGS); break; }
    case 2: e.push({ name: `l${rng.int(9)}`, type: rng.pick(['1', '2']), link: rng.pick(['/etc/shadow', '../../../etc/passwd', 'l1', '/bin/app', 'x'.repeat(rng.pick([100, 300, 4096, 5000])), '', 'bin']) }); break;
    case 3: { // deep or long paths (pax)
      const depth = rng.pick([100, 2047, 2048, 3000, 50_000]);
      e.push({ name: 'd/'.repeat(depth) + 'f', body: 'deep' });
      if (rng.chance(0.5)) e.push({ name: '.wh.d' });
      break;
    }
    case 4: for (let i = 0, n = rng.pick([100, 2000, 5000]); i < n; i++) e.push({ name: `many/${i}`, body: '' }); break;
    case 5: e.push({ name: 'lib/.wh..wh..opq' }, { name: 'lib/late', body: 'l' }); break;
    case 6: { const x = rng.pick(e); if (x) x.size = rng.pick([0, 1, 511, 1 << 20, 2 ** 33]); break; } // header size disagrees with the body
    case 7: { for (let i = 0; i < 45; i++) e.push({ name: `chain${i}`, type: '2', link: `chain${i + 1}` }); e.push({ name: 'loop', type: '2', link: 'loop' }); break; }
    case 8: { const x = rng.pick(e); if (x) x.mode = rng.pick([0, 0o7777, 0o4755, 0xffffff]); break; }
    default: e.push({ name: 'bin/app', type: '2', link: rng.pick(['/bin/app', 'app', '../lib/libattr.so.1', '/proc/self/exe']) });
  }
}

/** Sets a random key of a JSON value (a few levels deep) to a weird value, or deletes it. */
function mutateJson(rng: Prng, doc: unknown): unknown {
  if (doc === null || typeof doc !== 'object' || rng.chance(0.15)) return rng.pick(WEIRD_JSON);
  const o = doc as Record<string, unknown>;
  const keys = Object.keys(o);
  if (!keys.length) return rng.pick(WEIRD_JSON);
  const k = rng.pick(keys);
  if (rng.chance(0.2) && !Array.isArray(o)) delete o[k];
  else o[k] = rng.chance(0.5) ? mutateJson(rng, o[k]) : rng.pick(WEIRD_JSON);
  return doc;
}

function mutateModel(rng: Prng, m: Model): void {
  for (let k = 0, n = 1 + rng.int(3); k < n; k++) {
    switch (rng.int(9)) {
      case 0: case 1: case 2: mutateEntries(rng, rng.pick(m.layers)); break;
      case 3: m.config = mutateJson(rng, m.config) as Record<string, unknown>; break;
      case 4: m.layerOverrides[rng.int(m.layers.length)] = { [rng.pick(['size', 'digest', 'mediaType'])]: rng.pick(WEIRD_JSON) }; break;
      case 5: m.nesting = rng.pick([1, 2, 7, 8, 9, 20]); m.attestation = rng.chance(0.5); break;
      case 6: m.replace[rng.pick(['index.json', 'manifest', 'config', 'manifest.json'] as const)] = rng.pick(WEIRD_JSON); break;
      case 7: m.config.rootfs = { type: 'layers', diff_ids: rng.pick([[], ['x'], ['sha256:' + 'f'.repeat(64)], null, 'x']) }; break;
      default: m.layers.push({ gzip: rng.chance(0.5), entries: [{ name: 'bin/app', body: '#!/bin/app\n' }, { name: 'bin/.wh.app' }] });
    }
  }
}

function json(v: unknown): Buffer {
  return Buffer.from(JSON.stringify(v) ?? 'null');
}

/** Writes the model's files: honest digests everywhere, then what `replace` and overrides say. */
function serialize(m: Model): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const put = (b: Buffer) => { const x = blob(b); files.set(`blobs/sha256/${x.digest.slice(7)}`, b); return x; };
  const tars = m.layers.map((l) => tarOf(l.entries));
  const layerBlobs = m.layers.map((l, i) => put(l.gzip ? gzipSync(tars[i]) : tars[i]));
  const config = { ...m.config };
  if (!('rootfs' in config)) config.rootfs = { type: 'layers', diff_ids: tars.map((t) => `sha256:${sha256(t)}`) };
  const configBlob = put('config' in m.replace ? json(m.replace.config) : json(config));
  const manifest = {
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configBlob.digest, size: configBlob.size, ...m.configOverride },
    layers: layerBlobs.map((b, i) => ({ mediaType: m.layers[i].gzip ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar', digest: b.digest, size: b.size, ...m.layerOverrides[i] })),
  };
  let top = put('manifest' in m.replace ? json(m.replace.manifest) : json(manifest));
  let topType = 'application/vnd.oci.image.manifest.v1+json';
  for (let i = 0; i < m.nesting; i++) {
    const manifests: unknown[] = [{ mediaType: topType, digest: top.digest, size: top.size, platform: { os: 'linux', architecture: 'arm64' } }];
    if (m.attestation) manifests.unshift({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: top.digest, size: top.size, platform: { os: 'unknown', architecture: 'unknown' } });
    top = put(json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
    topType = 'application/vnd.oci.image.index.v1+json';
  }
  files.set('index.json', 'index.json' in m.replace ? json(m.replace['index.json']) : json({ schemaVersion: 2, manifests: [{ mediaType: topType, digest: top.digest, size: top.size }] }));
  files.set('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  if (m.format === 'docker-archive') {
    files.set('manifest.json', 'manifest.json' in m.replace ? json(m.replace['manifest.json']) : json([{ Config: `blobs/sha256/${configBlob.digest.slice(7)}`, RepoTags: ['x:1'], Layers: layerBlobs.map((b) => `blobs/sha256/${b.digest.slice(7)}`) }]));
  }
  if (m.format === 'docker-legacy') {
    // docker save before 25: <id>/layer.tar and <hex>.json, no index.json
    files.clear();
    const names = tars.map((t, i) => { const n = `${sha256(`layer${i}`)}/layer.tar`; files.set(n, m.layers[i].gzip ? gzipSync(t) : t); return n; });
    const c = 'config' in m.replace ? json(m.replace.config) : json(config);
    files.set(`${sha256(c)}.json`, c);
    files.set('manifest.json', 'manifest.json' in m.replace ? json(m.replace['manifest.json']) : json([{ Config: `${sha256(c)}.json`, RepoTags: ['x:1'], Layers: names }]));
  }
  return files;
}

/** Byte damage after writing: a blob flipped or cut, a member dropped or renamed. */
function damage(rng: Prng, files: Map<string, Buffer>): void {
  const names = [...files.keys()];
  const name = rng.pick(names);
  const b = files.get(name)!;
  switch (rng.int(4)) {
    case 0: { const c = Buffer.from(b); if (c.length) c[rng.int(c.length)] ^= 0xff; files.set(name, c); break; }
    case 1: files.set(name, b.subarray(0, rng.int(b.length))); break;
    case 2: files.delete(name); break;
    default: files.delete(name); files.set(name.replace(/[0-9a-f]$/, 'g'), b);
  }
}

/** Writes mutant `i` under `dir` and says what to ldd in it. */
export function imageMutant(dir: string, rng: Prng, samples: { app: string; lib: string }): ImageMutant {
  const m = baseModel(rng, readFileSync(samples.app), readFileSync(samples.lib));
  mutateModel(rng, m);
  const files = serialize(m);
  if (rng.chance(0.3)) damage(rng, files);
  const files2 = ['/bin/app', '/lib/libattr.so.1'];
  if (m.format === 'oci-layout') {
    mkdirSync(dir, { recursive: true });
    for (const [name, bytes] of files) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), bytes);
    }
    return { root: dir, files: files2 };
  }
  let tar = tarOf([...files].map(([name, body]) => ({ name, body, mode: 0o644 })));
  if (rng.chance(0.1)) tar = tar.subarray(0, 1024 + rng.int(Math.max(1, tar.length - 1024)));
  writeFileSync(`${dir}.tar`, tar);
  return { root: `${dir}.tar`, files: files2 };
}
