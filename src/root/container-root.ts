// A builder image's filesystem, through the engine: a container is created (never started), its
// exported filesystem is saved once under the cache by image ID, then indexed like any layer.
import type Docker from 'dockerode';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ElfpackError } from '../errors.js';
import { writeFileAtomically } from '../temp-files.js';
import { connectEngine, engineError } from '../engine/engine.js';
import { FsIndex, type IndexLimits } from './fs-index.js';
import { ImageRoot } from './image-root.js';
import { runFieldsOf, type ImageConfig } from '../oci/config.js';
import { platformFromFields } from '../oci/platform.js';

export interface ContainerRootOptions extends IndexLimits {
  cacheDir: string;
  docker?: Docker;
}

export async function openContainerRoot(image: string, opts: ContainerRootOptions): Promise<ImageRoot> {
  const docker = opts.docker ?? await connectEngine();
  let id: string;
  let inspect: Docker.ImageInspectInfo;
  try {
    inspect = await docker.getImage(image).inspect();
    id = inspect.Id;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) {
      throw new ElfpackError('NOT_FOUND', 'no such image in the engine (nothing is pulled: docker load or build it first)', { path: image, step: 'engine' });
    }
    throw engineError(err, `image ${image}`);
  }
  const dir = join(opts.cacheDir, 'images');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${id.replace(/^sha256:/, '')}.tar`);
  if (!existsSync(file)) {
    // Cmd is required to create a container from an image without one (a scratch builder); it never runs.
    let container: Docker.Container | undefined;
    try {
      await writeFileAtomically(file, async (out) => {
        container = await docker.createContainer({ Image: id, Cmd: ['/elfpack-never-runs'], NetworkDisabled: true, HostConfig: { NetworkMode: 'none' } });
        await pipeline(await container.export(), out);
      });
    } catch (err) {
      throw engineError(err, `export of ${image}`);
    } finally {
      await container?.remove({ force: true }).catch(() => undefined);
    }
  }
  const index = new FsIndex(opts);
  await index.applyLayer(file, 0, { label: image });
  return new ImageRoot(index, image, configFromInspect(inspect));
}

/** What the image runs, from the engine's image inspect: {Architecture, Os, Variant, Config: {Entrypoint, …}}. */
export function configFromInspect(inspect: Docker.ImageInspectInfo): ImageConfig {
  return { ...runFieldsOf(inspect.Config), platform: platformFromFields(inspect.Os, inspect.Architecture, (inspect as { Variant?: unknown }).Variant) };
}
