// An elfpack archive with its layers rewritten through compressLayer: the OCI manifest and
// docker's manifest.json name the compressed blobs (one copy each, shared as elfpack shares
// blobs), the config and its diff_ids stay as they were. For checking compressed layers against
// the real readers (docker load, skopeo, umoci, podman, containerd) before the sinks write them.
import { createReadStream, readFileSync } from 'node:fs';
import { listMembers } from '../../src/oci/blob-source.js';
import { compressLayer, type LayerCompression, type LayerDescriptorInfo } from '../../src/oci/compress-layer.js';
import { blob, writeArchive } from './image-builder.js';

function member(members: Map<string, { file: string; offset: number; size: number }>, name: string): Buffer {
  const r = members.get(name);
  if (!r) throw new Error(`${name} is not in the archive`);
  return readFileSync(r.file).subarray(r.offset, r.offset + r.size);
}

export async function recompressArchive(src: string, dst: string, kind: LayerCompression): Promise<LayerDescriptorInfo[]> {
  const members = await listMembers(src);
  const index = JSON.parse(member(members, 'index.json').toString());
  const manifestName = `blobs/sha256/${index.manifests[0].digest.slice(7)}`;
  const manifest = JSON.parse(member(members, manifestName).toString());
  const files = new Map<string, Buffer>([['oci-layout', member(members, 'oci-layout')]]);
  const configName = `blobs/sha256/${manifest.config.digest.slice(7)}`;
  files.set(configName, member(members, configName));
  const infos: LayerDescriptorInfo[] = [];
  for (const l of manifest.layers) {
    const r = members.get(`blobs/sha256/${l.digest.slice(7)}`)!;
    const out: Buffer[] = [];
    const info = await compressLayer(kind, createReadStream(r.file, { start: r.offset, end: r.offset + r.size - 1 }), (b) => { out.push(Buffer.from(b)); });
    if (info.diffId !== l.digest) throw new Error(`the layer's diff_id ${info.diffId} is not its uncompressed digest ${l.digest}`);
    files.set(`blobs/sha256/${info.digest.slice(7)}`, Buffer.concat(out));
    Object.assign(l, { mediaType: info.mediaType, digest: info.digest, size: info.size });
    infos.push(info);
  }
  const m = blob(JSON.stringify(manifest));
  files.set(`blobs/sha256/${m.digest.slice(7)}`, m.bytes);
  index.manifests[0] = { ...index.manifests[0], digest: m.digest, size: m.size };
  files.set('index.json', Buffer.from(JSON.stringify(index)));
  const docker = JSON.parse(member(members, 'manifest.json').toString());
  docker[0].Layers = infos.map((i) => `blobs/sha256/${i.digest.slice(7)}`);
  files.set('manifest.json', Buffer.from(JSON.stringify(docker)));
  writeArchive(dst, files);
  return infos;
}
