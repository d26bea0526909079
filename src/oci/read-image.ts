// Which layers and which config make up an image, read from Docker's manifest.json (docker save)
// or from an OCI index.json and the manifests and indexes it names (image-spec image-layout.md,
// image-index.md, manifest.md). Every JSON document is checked for size, digest and shape before
// use, nested indexes are bounded and may not come back on themselves, and no error quotes the
// bytes of a file that did not parse.
import { ElfpackError } from '../errors.js';
import { escapeName } from '../escape.js';
import type { BlobSource, Region } from './blob-source.js';
import { readRegion } from './blob-source.js';
import type { Blob } from './blob.js';
import { blobPath, checkDigest, describeDigestText, digestOf, digestString, parseDigest, type Digest } from './digest.js';
import type { Image, ImageIndex } from './image.js';
import { isIndexMediaType, MEDIA } from './media-types.js';
import { platformFromFields, type Platform } from './platform.js';

/** A manifest, index or config larger than this is refused (registries stop at 4 MiB). */
export const MAX_METADATA_BYTES = 16 << 20;
/** Indexes nested in indexes, at most. */
export const MAX_INDEX_DEPTH = 8;
/** Layers of one image, at most (Docker's overlay driver stops at 128). */
export const MAX_LAYERS = 1000;

export interface LayerRef {
  /** The member holding the layer blob, as named in the image (for messages). */
  name: string;
  region: Region;
  /** The blob's own digest (of the bytes as stored, compressed or not), when the image says it. */
  digest?: Digest;
  /** The digest of the uncompressed tar, from the config's rootfs.diff_ids, when it has them. */
  diffId?: Digest;
  mediaType?: string;
}

export interface ImageLayers {
  layers: LayerRef[];
  /** The config document, checked to be an object (undefined when the image names none). */
  config?: Record<string, unknown>;
}

type Json = Record<string, unknown>;

function malformed(source: BlobSource, message: string): ElfpackError {
  return new ElfpackError('IMAGE_MALFORMED', message, { path: source.label, step: 'image' });
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A JSON member: bounded, optionally checked against a digest and a size, parsed without quoting. */
function readJson(source: BlobSource, what: string, region: Region, want?: { digest: Digest; size?: number }): unknown {
  return readJsonBytes(source, what, region, want).doc;
}

function readJsonBytes(source: BlobSource, what: string, region: Region, want?: { digest: Digest; size?: number }): { doc: unknown; bytes: Buffer } {
  if (want?.size !== undefined && region.size !== want.size) {
    throw malformed(source, `${what} is ${region.size} bytes, its descriptor says ${want.size}`);
  }
  const bytes = readRegion(region, MAX_METADATA_BYTES, what, source.label);
  if (want) checkDigest(digestOf(bytes, want.digest.algorithm), want.digest, what, source.label);
  try {
    return { doc: JSON.parse(bytes.toString('utf8')), bytes };
  } catch {
    throw malformed(source, `${what} is not valid JSON`);
  }
}

interface Descriptor { mediaType?: string; digest: Digest; size: number; platform?: Json; annotations?: Json }

/** A descriptor (descriptor.md): a registered digest, a whole non-negative size, a string media type. */
function descriptor(source: BlobSource, v: unknown, what: string): Descriptor {
  if (!isObject(v)) throw malformed(source, `${what} is not a descriptor object`);
  const digest = parseDigest(v.digest);
  if (!digest) throw malformed(source, `${what} has no valid digest (${describeDigestText(v.digest)}; want sha256:<64 hex> or sha512:<128 hex>)`);
  if (!Number.isSafeInteger(v.size) || (v.size as number) < 0) throw malformed(source, `${what} has no valid size`);
  if (v.mediaType !== undefined && typeof v.mediaType !== 'string') throw malformed(source, `${what} has a media type that is not a string`);
  return {
    digest, size: v.size as number, mediaType: v.mediaType as string | undefined,
    platform: isObject(v.platform) ? v.platform : undefined, annotations: isObject(v.annotations) ? v.annotations : undefined,
  };
}

function blobRegion(source: BlobSource, d: Descriptor, what: string): Region {
  const r = source.region(blobPath(d.digest));
  if (!r) throw malformed(source, `not a complete image: ${what} ${digestString(d.digest)} is missing`);
  if (r.size !== d.size) throw malformed(source, `${what} ${digestString(d.digest)} is ${r.size} bytes, its descriptor says ${d.size}`);
  return r;
}

/** BuildKit puts attestation manifests (platform unknown/unknown) beside the images of an index. */
function isAttestation(d: Descriptor): boolean {
  return d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' || (d.platform?.os === 'unknown' && d.platform?.architecture === 'unknown');
}

function arrayOf(source: BlobSource, v: unknown, what: string, max: number): unknown[] {
  if (!Array.isArray(v)) throw malformed(source, `${what} is not a list`);
  if (v.length > max) throw new ElfpackError('IMAGE_LIMIT', `${what} has ${v.length} entries, more than the ${max} allowed: refused`, { path: source.label, step: 'image' });
  return v;
}

/** The layers and config of the image in `source` (its first image, for a multi-image index). */
export function readImageLayers(source: BlobSource): ImageLayers {
  const dockerRegion = source.region('manifest.json');
  if (dockerRegion) return fromDockerManifest(source, readJson(source, 'manifest.json', dockerRegion));
  const indexRegion = source.region('index.json');
  if (!indexRegion) throw malformed(source, 'not an image: no manifest.json or index.json');
  return fromOciIndex(source, readJson(source, 'index.json', indexRegion));
}

/** docker save's manifest.json: [{Config, RepoTags, Layers}], names of members rather than digests. */
function fromDockerManifest(source: BlobSource, doc: unknown): ImageLayers {
  const list = arrayOf(source, doc, 'manifest.json', MAX_LAYERS);
  if (!list.length || !isObject(list[0])) throw malformed(source, 'manifest.json names no image');
  const m = list[0];
  const names = arrayOf(source, m.Layers, 'manifest.json Layers', MAX_LAYERS);
  if (!names.every((n): n is string => typeof n === 'string' && n.length > 0)) throw malformed(source, 'manifest.json Layers holds something that is not a file name');
  if (m.Config !== undefined && typeof m.Config !== 'string') throw malformed(source, 'manifest.json Config is not a file name');
  let config: Json | undefined;
  if (m.Config) {
    const r = source.region(m.Config);
    if (!r) throw malformed(source, `not a complete image: its config ${escapeName(m.Config.slice(0, 100))} is missing`);
    config = configObject(source, readJson(source, 'the config', r, digestInName(m.Config)));
  }
  const layers = names.map((name): LayerRef => {
    const region = source.region(name);
    if (!region) throw malformed(source, `not a complete image: layer ${escapeName(name.slice(0, 100))} is missing`);
    return { name, region, digest: digestInName(name)?.digest };
  });
  return { layers: withDiffIds(source, layers, config), config };
}

/** Docker 25+ names members blobs/sha256/<hex>; older ones <hex>.json for the config: digests either way. */
function digestInName(name: string): { digest: Digest } | undefined {
  const m = /^(?:\.?\/)*(?:blobs\/(sha256|sha512)\/([0-9a-f]+)|([0-9a-f]{64})\.json)$/.exec(name);
  const d = m && parseDigest(m[3] ? `sha256:${m[3]}` : `${m[1]}:${m[2]}`);
  return d ? { digest: d } : undefined;
}

/** The descriptors an index lists (index.json or an index it names), each checked; possibly none. */
function indexEntries(source: BlobSource, index: unknown, what: string): Descriptor[] {
  if (!isObject(index)) throw malformed(source, `${what} is not a JSON object`);
  return arrayOf(source, index.manifests, `${what} manifests`, 100_000).map((d, i) => descriptor(source, d, `${what} manifests[${i}]`));
}

interface ManifestDoc { key: string; doc: Json; bytes: Buffer; isIndex: boolean }

/** The manifest or index a descriptor names: checked against its digest and size, and an object. */
function readManifest(source: BlobSource, d: Descriptor): ManifestDoc {
  const key = digestString(d.digest);
  const { doc, bytes } = readJsonBytes(source, `manifest ${key}`, blobRegion(source, d, 'manifest'), d);
  if (!isObject(doc)) throw malformed(source, `manifest ${key} is not a JSON object`);
  return { key, doc, bytes, isIndex: Array.isArray(doc.manifests) || isIndexMediaType(String(doc.mediaType ?? d.mediaType)) };
}

/** Before following an index one level down: it may not come back on itself nor nest too deep. */
function enterIndex(source: BlobSource, key: string, depth: number, seen: Set<string>): void {
  if (seen.has(key)) throw malformed(source, `the image index ${key} names itself, directly or through another index: a loop`);
  seen.add(key);
  if (depth + 1 >= MAX_INDEX_DEPTH) throw new ElfpackError('IMAGE_LIMIT', `image indexes nested more than ${MAX_INDEX_DEPTH} deep: refused`, { path: source.label, step: 'image' });
}

/** A manifest's config (when it names one) and layers, as checked descriptors. */
function manifestBlobs(source: BlobSource, m: Json, key: string): { config?: Descriptor; layers: Descriptor[] } {
  const layers = arrayOf(source, m.layers, `manifest ${key} layers`, MAX_LAYERS).map((l, i) => descriptor(source, l, `manifest ${key} layers[${i}]`));
  return { config: m.config === undefined ? undefined : descriptor(source, m.config, `manifest ${key} config`), layers };
}

/** index.json and what it names: nested indexes followed to their first image, never in a circle. */
function fromOciIndex(source: BlobSource, doc: unknown): ImageLayers {
  let descs = indexEntries(source, doc, 'index.json');
  let what = 'index.json';
  const seen = new Set<string>();
  for (let depth = 0; ; depth++) {
    const d = descs.find((x) => !isAttestation(x)) ?? descs[0];
    if (!d) throw malformed(source, `${what} names no image`);
    const m = readManifest(source, d);
    if (!m.isIndex) return fromManifest(source, m.doc, m.key);
    enterIndex(source, m.key, depth, seen);
    what = `image index ${m.key}`;
    descs = indexEntries(source, m.doc, what);
  }
}

function fromManifest(source: BlobSource, m: Json, key: string): ImageLayers {
  const blobs = manifestBlobs(source, m, key);
  const c = blobs.config;
  const config = c && configObject(source, readJson(source, `config ${digestString(c.digest)}`, blobRegion(source, c, 'config'), c));
  const layers = blobs.layers.map((d): LayerRef => ({ name: blobPath(d.digest), region: blobRegion(source, d, 'layer'), digest: d.digest, mediaType: d.mediaType }));
  return { layers: withDiffIds(source, layers, config), config };
}

/** The config must be an object; the fields that decide what runs are checked for their types. */
function configObject(source: BlobSource, v: unknown): Json {
  if (!isObject(v)) throw malformed(source, 'the image config is not a JSON object');
  const c = v.config;
  if (c !== undefined && c !== null) {
    if (!isObject(c)) throw malformed(source, 'the image config\'s "config" is not an object');
    for (const k of ['Entrypoint', 'Cmd', 'Env']) {
      const f = c[k];
      if (f !== undefined && f !== null && !(Array.isArray(f) && f.every((s) => typeof s === 'string'))) throw malformed(source, `the image config's ${k} is not a list of strings`);
    }
    for (const k of ['WorkingDir', 'User']) if (c[k] !== undefined && c[k] !== null && typeof c[k] !== 'string') throw malformed(source, `the image config's ${k} is not a string`);
  }
  for (const k of ['architecture', 'os', 'variant']) if (v[k] !== undefined && typeof v[k] !== 'string') throw malformed(source, `the image config's ${k} is not a string`);
  return v;
}

/** rootfs.diff_ids, one per layer, when the config lists them (an empty or absent list says nothing). */
function withDiffIds(source: BlobSource, layers: LayerRef[], config: Json | undefined): LayerRef[] {
  const rootfs = config?.rootfs;
  if (rootfs === undefined || rootfs === null) return layers;
  if (!isObject(rootfs)) throw malformed(source, 'the image config\'s rootfs is not an object');
  if (rootfs.diff_ids === undefined || rootfs.diff_ids === null) return layers;
  const ids = arrayOf(source, rootfs.diff_ids, 'the image config\'s rootfs.diff_ids', MAX_LAYERS);
  if (!ids.length) return layers;
  if (ids.length !== layers.length) throw malformed(source, `the config lists ${ids.length} diff_ids for ${layers.length} layers`);
  return layers.map((l, i) => {
    const diffId = parseDigest(ids[i]);
    if (!diffId) throw malformed(source, `the config's diff_ids[${i}] is not a valid digest (${describeDigestText(ids[i])})`);
    return { ...l, diffId };
  });
}

/** A descriptor as a blob's own (its platform and annotations are the index's to say). */
function blobOf(source: BlobSource, d: Descriptor, what: string): Blob {
  return { descriptor: { mediaType: d.mediaType ?? 'application/octet-stream', digest: digestString(d.digest), size: d.size }, content: { region: blobRegion(source, d, what) } };
}

/** An index entry's annotations (strings, as image-spec asks; anything else is left out). */
function stringValues(a: Json): Record<string, string> {
  return Object.fromEntries(Object.entries(a).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function platformIn(d: Descriptor): Platform | undefined {
  return d.platform ? platformFromFields(d.platform.os, d.platform.architecture, d.platform.variant) : undefined;
}

/**
 * The image (or index) index.json names, as a value whose blobs are read where they lie: what
 * `elfpack push TAR` pushes. Every document is checked as readImageLayers checks it (digests,
 * sizes, shapes, nesting, no loops); manifests and indexes keep the bytes they were read as, so
 * their digests stay.
 */
export function readImage(source: BlobSource): Image | ImageIndex {
  const indexRegion = source.region('index.json');
  if (!indexRegion) throw malformed(source, 'not an OCI image tar (no index.json): write it with elfpack');
  const top = indexEntries(source, readJson(source, 'index.json', indexRegion), 'index.json')[0];
  if (!top) throw malformed(source, 'index.json names no image');
  const seen = new Set<string>();
  // An explicit stack of descriptors to read; an index read comes back once its children are
  // done, and takes the last `count` values made.
  type Pending = { d: Descriptor; depth: number; index?: { m: ManifestDoc; count: number } };
  const done: (Image | ImageIndex)[] = [];
  const stack: Pending[] = [{ d: top, depth: 0 }];
  while (stack.length) {
    const p = stack.pop()!;
    if (p.index) {
      const children = done.splice(done.length - p.index.count, p.index.count);
      const mediaType = p.d.mediaType ?? (typeof p.index.m.doc.mediaType === 'string' ? p.index.m.doc.mediaType : MEDIA.index);
      done.push({ index: { descriptor: { mediaType, digest: p.index.m.key, size: p.d.size }, content: { bytes: p.index.m.bytes } }, manifests: children });
      continue;
    }
    const m = readManifest(source, p.d);
    const mediaType = p.d.mediaType ?? (typeof m.doc.mediaType === 'string' ? m.doc.mediaType : MEDIA.manifest);
    if (m.isIndex) {
      enterIndex(source, m.key, p.depth, seen);
      const kids = indexEntries(source, m.doc, `image index ${m.key}`);
      stack.push({ d: p.d, depth: p.depth, index: { m, count: kids.length } });
      for (const c of [...kids].reverse()) stack.push({ d: c, depth: p.depth + 1 });
      continue;
    }
    const { config, layers } = manifestBlobs(source, m.doc, m.key);
    if (!config) throw malformed(source, `manifest ${m.key} names no config`);
    done.push({
      platform: platformIn(p.d),
      ...(p.d.annotations ? { annotations: stringValues(p.d.annotations) } : {}),
      manifest: { descriptor: { mediaType, digest: m.key, size: p.d.size }, content: { bytes: m.bytes } },
      config: blobOf(source, config, 'blob'),
      layers: layers.map((l) => blobOf(source, l, 'blob')),
    });
  }
  return done[0];
}
