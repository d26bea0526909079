// Images built byte by byte for tests: layer tars with raw typeflags and pax names, OCI layout
// directories and archives, docker-save manifests — valid ones, and hostile ones made by changing
// a field. Nothing large is committed: every bomb and deep tree is generated here.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { encodeHeader, padding } from '../../src/oci/tar-format.js';

export type TarEntry = { name: string; type?: string; body?: string | Buffer; link?: string; size?: number; mode?: number };

export function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

/** A pax extended header ('x') carrying `path` (and `linkpath`), for names past ustar's 100/255 bytes. */
function paxHeader(records: Record<string, string>): Buffer[] {
  let body = '';
  for (const [k, v] of Object.entries(records)) {
    const rest = ` ${k}=${v}\n`;
    let len = Buffer.byteLength(rest) + 1;
    while (String(len).length + Buffer.byteLength(rest) !== len) len = String(len).length + Buffer.byteLength(rest);
    body += `${len}${rest}`;
  }
  const b = Buffer.from(body);
  return [rawHeader({ name: 'PaxHeader', type: 'x', size: b.length }), b, padding(b.length)];
}

function rawHeader(e: TarEntry & { size: number }): Buffer {
  const h = encodeHeader({ name: e.name.length <= 100 ? e.name : 'long', type: 'file', mode: e.mode ?? 0o755, size: e.size, mtime: 0 });
  h.fill(0, 156, 157 + 100);
  h.write(e.type ?? '0', 156, 'latin1');
  if (e.link && Buffer.byteLength(e.link) <= 100) h.write(e.link, 157, 100, 'utf8');
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const x of h) sum += x;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
  return h;
}

/** A tar built entry by entry; `type` is a raw typeflag ('0', '1' hard link, '2', '3', '5', 'x'…). */
export function tarOf(entries: TarEntry[], end = true): Buffer {
  const out: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.isBuffer(e.body) ? e.body : Buffer.from(e.body ?? '');
    const pax: Record<string, string> = {};
    if (Buffer.byteLength(e.name) > 100) pax.path = e.name;
    if (e.link && Buffer.byteLength(e.link) > 100) pax.linkpath = e.link;
    if (Object.keys(pax).length) out.push(...paxHeader(pax));
    out.push(rawHeader({ ...e, size: e.size ?? body.length }), body, padding(body.length));
  }
  if (end) out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}

export interface Blob { digest: string; size: number; bytes: Buffer }

export function blob(bytes: Buffer | string): Blob {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  return { digest: `sha256:${sha256(b)}`, size: b.length, bytes: b };
}

export interface ImageFiles {
  /** member name → bytes, in the order they are written */
  files: Map<string, Buffer>;
  manifest: Blob;
  config: Blob;
  layers: Blob[];
}

/**
 * The files of an OCI image layout with these layers (gzip or not), its config listing the
 * uncompressed digests as diff_ids (pass `diffIds` to override), index.json naming the manifest.
 */
export function ociImage(layers: Buffer[], opts: { diffIds?: string[]; config?: object; mediaType?: string } = {}): ImageFiles {
  const files = new Map<string, Buffer>();
  const put = (b: Blob) => { files.set(`blobs/sha256/${b.digest.slice(7)}`, b.bytes); return b; };
  const layerBlobs = layers.map((l) => put(blob(l)));
  const diffIds = opts.diffIds ?? layers.map((l) => `sha256:${sha256(l[0] === 0x1f && l[1] === 0x8b ? gunzipSync(l) : l)}`);
  const config = put(blob(JSON.stringify(opts.config ?? { architecture: 'amd64', os: 'linux', config: { Entrypoint: ['/bin/app'] }, rootfs: { type: 'layers', diff_ids: diffIds } })));
  const manifest = put(blob(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
    layers: layerBlobs.map((l, i) => ({ mediaType: opts.mediaType ?? (layers[i][0] === 0x1f ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar'), digest: l.digest, size: l.size })),
  })));
  files.set('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifest.digest, size: manifest.size }] })));
  files.set('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  return { files, manifest, config, layers: layerBlobs };
}


/** Writes image files as an OCI layout directory. */
export function writeLayout(dir: string, files: Map<string, Buffer>): string {
  for (const [name, bytes] of files) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), bytes);
  }
  return dir;
}

/** Writes image files as one tar (an OCI archive). */
export function writeArchive(file: string, files: Map<string, Buffer>): string {
  writeFileSync(file, tarOf([...files].map(([name, body]) => ({ name, body, mode: 0o644 }))));
  return file;
}
