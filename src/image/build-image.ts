// File trees → an Image value: each layer's tar streamed once into a blob store (hashed as it is
// written, through a layer encoder), then the config naming the layers' diff_ids, then the
// manifest; several images → one index. What is built here is what every sink takes.
import { jsonBlob, type BlobStore } from '../oci/blob.js';
import { configDocument, type ConfigHistory, type ImageConfig } from '../oci/config.js';
import { buildIndex, buildManifest, type Image, type ImageIndex } from '../oci/image.js';
import { uncompressedLayer, type Layer, type LayerEncoder } from '../oci/layer.js';
import { MEDIA } from '../oci/media-types.js';
import type { Platform } from '../oci/platform.js';
import type { FileTree } from './file-tree.js';
import { writeLayer } from './tar-writer.js';

/** An image before it is built: what it runs, and the file trees of its layers. */
export interface ImageSpec {
  config: ImageConfig & { platform: Platform };
  /** The layers' files, lowest first (one layer: the whole tree). */
  layers: FileTree[];
  history: ConfigHistory;
  /** Seconds since the epoch for every entry of every layer. */
  mtime: number;
  /** How each layer's tar becomes its blob (default: uncompressed). */
  encodeLayer?: LayerEncoder;
  /** Called after each file of a layer is written, for progress on large closures. */
  onFile?: (path: string, bytes: number) => void;
}

export async function buildImage(spec: ImageSpec, store: BlobStore): Promise<Image> {
  const encode = spec.encodeLayer ?? uncompressedLayer;
  const layers: Layer[] = [];
  for (const tree of spec.layers) {
    const got = await store.addStreamedBlob((sink) => encode((tar) => writeLayer(tree, tar, { mtime: spec.mtime, onFile: spec.onFile }), sink));
    layers.push({ descriptor: { mediaType: got.mediaType, digest: got.digest, size: got.size }, diffId: got.diffId, content: { region: got.region } });
  }
  const config = jsonBlob(MEDIA.config, configDocument(spec.config, layers.map((l) => l.diffId!), spec.history));
  return buildManifest(spec.config.platform, config, layers);
}

/** One image, or for several (one per platform) an index of them, built in order. */
export async function buildImages(specs: ImageSpec[], store: BlobStore): Promise<Image | ImageIndex> {
  const images: Image[] = [];
  for (const spec of specs) images.push(await buildImage(spec, store));
  return images.length === 1 ? images[0] : buildIndex(images);
}
