// What pack decided, written out: each plan becomes an image spec (its config and layer trees),
// built into an Image value (or an index of several) when a sink takes it, and handed to the
// sinks — the archive tar (--out), the directory (--rootfs) and those the caller adds (engine,
// registry) — in one sequence (sinks/sink.ts). pack and go both write through here.
import { layerEncoder, LAYER_MEDIA_TYPES, type LayerCompression } from '../oci/compress-layer.js';
import { withDefaultPath } from '../oci/config.js';
import { imagesOf, isImageIndex, type Image, type ImageIndex } from '../oci/image.js';
import type { LayerEncoder } from '../oci/layer.js';
import { buildImages, type ImageSpec } from '../image/build-image.js';
import { archiveSink } from '../sinks/archive.js';
import { rootfsSink } from '../sinks/rootfs-dir.js';
import { writeToSinks, type Sink, type SinkReport } from '../sinks/sink.js';
import type { PackPlan } from './pack.js';
import { attachSboms, recordSboms, sbomSinks } from './pack-sbom.js';

/** The sinks of pack's options: --rootfs, --out and --sbom-out given as paths, the others as sinks. */
export function sinksOf(opts: { out?: string; rootfs?: string; sinks?: Sink[]; sbom?: PackPlan['opts']['sbom']; sbomOut?: string }): Sink[] {
  return [...(opts.rootfs ? [rootfsSink(opts.rootfs)] : []), ...(opts.out ? [archiveSink(opts.out)] : []), ...sbomSinks(opts), ...(opts.sinks ?? [])];
}

/** How the layers are stored, and how to write them (layerEncoder). */
export interface LayerOutput {
  compression: LayerCompression;
  encodeLayer: LayerEncoder;
}

/**
 * The layers' compression: as asked, else gzip when the image leaves the machine (a tar, a
 * registry: 39 MB where the tar is 104 MB for node), else none (only the engine here, or a
 * directory: the daemon would unpack at once what was just packed; the image ID, the config's
 * digest, is the same either way). Checked before any packing: this Node writes it, and every
 * sink takes it (zstd into an old engine).
 */
export async function prepareLayerOutput(asked: LayerCompression | undefined, sinks: Sink[]): Promise<LayerOutput> {
  const compression = asked ?? (sinks.some((s) => s.kind === 'archive' || s.kind === 'registry') ? 'gzip' : 'none');
  const encodeLayer = layerEncoder(compression);
  for (const s of sinks) await s.acceptsLayers?.(LAYER_MEDIA_TYPES[compression]);
  return { compression, encodeLayer };
}

/**
 * Hands the plans' image (several plans: one index; `loadPlatform` is the one docker load gets)
 * to the sinks, and fills in each plan's result: digest and image ID when it was built, out, rootfs.
 */
export async function writePlans(plans: PackPlan[], sinks: Sink[], layers: LayerOutput, loadPlatform = 0): Promise<{ report: SinkReport; indexDigest?: string }> {
  const { report, image } = await writeToSinks({
    tag: plans[0].result.tag,
    mtime: plans[0].opts.epoch ?? 0,
    loadPlatform,
    trees: plans.map((p) => p.tree),
    build: async (store) => attachSboms(await buildImages(plans.map((p) => ({ ...imageSpecOf(p), encodeLayer: layers.encodeLayer })), store), plans),
  }, sinks);
  if (image) {
    recordDigests(plans, image);
    for (const p of plans) p.result.compression = layers.compression;
    recordSboms(plans, image, report);
  }
  if (report.out) for (const p of plans) p.result.out = report.out;
  if (report.rootfs) plans[0].result.rootfs = report.rootfs;
  return { report, indexDigest: image && indexDigestOf(image) };
}

/** The image a plan describes: its run settings as the config's, and its layers' trees. */
export function imageSpecOf(plan: PackPlan): ImageSpec {
  const { opts, result } = plan;
  const epoch = opts.epoch ?? 0;
  let done = 0;
  let last = Date.now();
  return {
    config: {
      platform: result.platform,
      entrypoint: result.entrypoint,
      cmd: opts.cmd ?? [],
      env: withDefaultPath(opts.env ?? []),
      workingDir: opts.workdir ?? '/',
      user: opts.user ?? '',
      ports: opts.ports ?? [],
      labels: opts.labels ?? {},
    },
    // One tree per layer, lowest first (image/layers.ts).
    layers: plan.layers.map((l) => l.tree),
    history: { created: new Date(epoch * 1000), createdBy: opts.createdBy ?? `elfpack ${opts.program}` },
    mtime: epoch,
    onFile: (_p, bytes) => {
      done += bytes;
      if (opts.onProgress && Date.now() - last > 500) {
        last = Date.now();
        opts.onProgress(`writing layer: ${(done / 1e6).toFixed(0)} of ${(result.totalBytes / 1e6).toFixed(0)} MB`);
      }
    },
  };
}

/** Each plan's result gets its image's digest (the manifest's), ID (the config's digest), stored layer bytes and layer digests. */
function recordDigests(plans: PackPlan[], built: Image | ImageIndex): void {
  imagesOf(built).forEach((img, i) => {
    Object.assign(plans[i].result, {
      digest: img.manifest.descriptor.digest,
      imageId: img.config.descriptor.digest,
      layerBytes: img.layers.reduce((n, l) => n + l.descriptor.size, 0),
    });
    plans[i].result.layers.forEach((l, j) => { l.digest = img.layers[j]?.descriptor.digest; });
  });
}

/** The index's digest, when several platforms or SBOMs made one. */
function indexDigestOf(built: Image | ImageIndex): string | undefined {
  return isImageIndex(built) ? built.index.descriptor.digest : undefined;
}
