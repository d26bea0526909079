// What `elfpack doctor TARGET` examines: an image tar or OCI layout on disk, an image of the engine,
// or a directory root (which has no config: --entrypoint says what it runs). Overrides work as
// `docker run --entrypoint X IMAGE ARGS…` does: a new entrypoint drops the image's Cmd.
import { resolve as resolveHostPath } from 'node:path';
import { ElfpackError } from '../errors.js';
import { openContainerRoot } from '../root/container-root.js';
import { openPathRoot } from '../root/image-root.js';
import type { Root } from '../root/root.js';
import { EMPTY_IMAGE_CONFIG, type ImageConfig } from '../oci/config.js';
import { parsePlatform } from '../oci/platform.js';

export interface DoctorTargetOptions {
  /** Cache for exported builder images and unpacked gzip layers. */
  cacheDir: string;
  /** Host directory a relative TARGET path is taken from. */
  cwd: string;
  /** Take TARGET as an image of the engine even if a file of that name exists. */
  engine?: boolean;
  entrypoint?: string;
  /** Replaces the image's Cmd (undefined keeps it). */
  cmd?: string[];
  /** "linux/arm64", "arm64", "linux/arm/v7": the platform a directory root is meant for. */
  platform?: string;
  /** Bytes a gzip layer may unpack to (default: see layer-blob.ts). */
  maxLayerBytes?: number;
}

export interface DoctorTarget {
  root: Root;
  config: ImageConfig;
  kind: 'image' | 'engine' | 'directory';
}

export async function openDoctorTarget(target: string, opts: DoctorTargetOptions): Promise<DoctorTarget> {
  const path = resolveHostPath(opts.cwd, target);
  let t: DoctorTarget;
  const found = opts.engine ? undefined : await openPathRoot(path, { cacheDir: opts.cacheDir, maxLayerBytes: opts.maxLayerBytes });
  if (found?.kind === 'image') {
    t = { root: found.root, config: found.root.config ?? EMPTY_IMAGE_CONFIG, kind: 'image' };
  } else if (found?.kind === 'directory') {
    if (!opts.entrypoint) throw new ElfpackError('USAGE', 'a directory has no image config: say what it runs with --entrypoint PATH', { path: target });
    t = { root: found.root, config: EMPTY_IMAGE_CONFIG, kind: 'directory' };
  } else if (found?.kind === 'other') {
    throw new ElfpackError('USAGE', 'is neither an image tar, an OCI layout nor a directory', { path: target });
  } else if (!opts.engine && /^[./]|\.tar$/.test(target)) {
    throw new ElfpackError('NOT_FOUND', 'no such file or directory', { path: target });
  } else {
    const root = await openContainerRoot(target, { cacheDir: opts.cacheDir });
    t = { root, config: root.config ?? EMPTY_IMAGE_CONFIG, kind: 'engine' };
  }
  const config = { ...t.config };
  if (opts.entrypoint !== undefined) {
    config.entrypoint = [opts.entrypoint];
    config.cmd = [];
  }
  if (opts.cmd?.length) config.cmd = opts.cmd;
  if (opts.platform) config.platform = parsePlatform(opts.platform);
  return { ...t, config };
}
