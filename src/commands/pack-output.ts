// What pack decided, written out: each plan becomes an image spec (its config and layer trees),
// built into an Image value (or an index of several), which the sinks take.
import { withDefaultPath } from '../oci/config.js';
import { imagesOf, isImageIndex, type Image, type ImageIndex } from '../oci/image.js';
import type { ImageSpec } from '../image/build-image.js';
import type { PackPlan } from './pack.js';

/** The image a plan describes: its run settings as the config's, and its tree as one layer. */
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
    // The split into several layers (shared bases) plugs in here: one tree per layer, lowest first.
    layers: [plan.tree],
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

/** Each plan's result gets its image's digest (the manifest's) and ID (the config's digest). */
export function recordDigests(plans: PackPlan[], built: Image | ImageIndex): void {
  imagesOf(built).forEach((img, i) => Object.assign(plans[i].result, { digest: img.manifest.descriptor.digest, imageId: img.config.descriptor.digest }));
}

/** The index's digest, when several platforms made one. */
export function indexDigestOf(built: Image | ImageIndex): string | undefined {
  return isImageIndex(built) ? built.index.descriptor.digest : undefined;
}
