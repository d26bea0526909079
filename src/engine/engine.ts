// The Docker engine client: dockerode at DOCKER_HOST or the default socket, and its failures as
// one line (the engine is absent, or what it said). Used upstream by root/container-root.ts (a
// builder image's filesystem) and downstream by sinks/engine-load.ts (docker load, --verify).
import type Docker from 'dockerode';
import { ElfpackError } from '../errors.js';

/** Loaded on first use: dockerode and its dependencies take ~0.3 s to load, which `ldd` must not pay. */
export async function connectEngine(): Promise<Docker> {
  const { default: DockerClass } = await import('dockerode');
  return new DockerClass();
}

/** Turns a dockerode failure into one line: the engine is not there, or what it said. */
export function engineError(err: unknown, what: string, path?: string): ElfpackError {
  const e = err as NodeJS.ErrnoException & { statusCode?: number; json?: { message?: string } };
  if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'EACCES') {
    return new ElfpackError('IO', `${what}: cannot reach the Docker engine (${e.code}; is dockerd running, is DOCKER_HOST right?)`, { path, step: 'engine', cause: err });
  }
  const msg = e.json?.message ?? String(e.message ?? err).replace(/^\(HTTP code \d+\) [^-]*- /, '');
  return new ElfpackError('IO', `${what}: the engine refused: ${msg.trim()}`, { path, step: 'engine', cause: err });
}

/** Fails with one clear line when the engine cannot be reached: checked before long work. */
export async function pingEngine(engine?: Docker): Promise<void> {
  try {
    const docker = engine ?? await connectEngine();
    await docker.ping();
  } catch (err) {
    throw engineError(err, '--load');
  }
}

/** The engine's version ("20.10.24"), as it reports it. */
export async function engineVersion(engine?: Docker): Promise<string> {
  try {
    const docker = engine ?? await connectEngine();
    return String((await docker.version()).Version ?? '');
  } catch (err) {
    throw engineError(err, 'docker version');
  }
}
