// docker load: an image tar streamed into the Docker engine, the references it reports returned.
import type Docker from 'dockerode';
import { createReadStream } from 'node:fs';
import { ElfpackError } from '../errors.js';
import { connectEngine, engineError } from '../engine/engine.js';

/** `docker load` of a tar (a file, or a stream of its bytes); returns the references the engine reports. */
export async function loadIntoEngine(tar: string | NodeJS.ReadableStream, engine?: Docker): Promise<string[]> {
  const docker = engine ?? await connectEngine();
  let res: NodeJS.ReadableStream;
  try {
    res = await docker.loadImage(typeof tar === 'string' ? createReadStream(tar) : tar, { quiet: true });
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
