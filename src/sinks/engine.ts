// The Docker engine through dockerode, at DOCKER_HOST or the default socket: load an image tar,
// export a builder image's filesystem. Errors say whether the engine is absent or refused.
import type Docker from 'dockerode';
import { createReadStream } from 'node:fs';
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

/** `docker load` of a tar; returns the references the engine reports. */
export async function loadIntoEngine(tar: string, engine?: Docker): Promise<string[]> {
  const docker = engine ?? await connectEngine();
  let res: NodeJS.ReadableStream;
  try {
    res = await docker.loadImage(createReadStream(tar), { quiet: true });
  } catch (err) {
    throw engineError(err, 'docker load');
  }
  let text = '';
  for await (const chunk of res) text += chunk.toString();
  const loaded: string[] = [];
  for (const line of text.split('\n').filter(Boolean)) {
    const m = JSON.parse(line) as { stream?: string; error?: string; errorDetail?: { message?: string } };
    if (m.error) throw new ElfpackError('IO', `docker load: the engine refused: ${m.errorDetail?.message ?? m.error}`, { step: 'engine' });
    const got = /Loaded image(?: ID)?: (\S+)/.exec(m.stream ?? '');
    if (got) loaded.push(got[1]);
  }
  return loaded;
}
