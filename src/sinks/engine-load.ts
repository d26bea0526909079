// The engine sink: the image loaded into the Docker engine (`docker load` of its archive, streamed
// from the image value: no file is written for it), and with --verify run there once first.
import type Docker from 'dockerode';
import { createReadStream } from 'node:fs';
import { ElfpackError } from '../errors.js';
import { connectEngine, engineError, engineVersion, pingEngine } from '../engine/engine.js';
import { MEDIA } from '../oci/media-types.js';
import { archiveStream } from '../oci/archive-writer.js';
import type { Sink, SinkReport } from './sink.js';
import { checkVerifyTimeout, verifyImage, type VerifyOptions } from './verify.js';

export interface EngineSinkOptions {
  /** Leave the image loaded under its tag (--load). */
  load: boolean;
  /** Run the image once first (--verify); its failure undoes what the sinks before wrote. */
  verify?: Omit<VerifyOptions, 'keepLoaded'>;
  /** Called with the references docker load reported, when the image stays loaded. */
  onLoaded?: (refs: string[], tag: string) => void;
  engine?: Docker;
}

export function engineSink(opts: EngineSinkOptions): Sink {
  let docker = opts.engine;
  return {
    kind: 'engine',
    gate: !!opts.verify,
    async check() {
      if (opts.verify) checkVerifyTimeout(opts.verify.timeoutSeconds);
      await pingEngine(docker);
    },
    // docker load reads manifest.json's layers through moby's own unpacker: Docker 20.10's takes
    // gzip but not zstd ("archive/tar: invalid tar header", tested here); Docker 25's does.
    async acceptsLayers(mediaType) {
      if (mediaType !== MEDIA.layerZstd) return;
      const v = await engineVersion(docker);
      if (Number(v.split('.')[0]) < 25) {
        throw new ElfpackError('USAGE', `--compression zstd: this Docker engine (${v || 'unknown version'}) cannot load zstd layers (Docker 25 or later can); use --compression gzip or none with --load and --verify`);
      }
    },
    async write(input) {
      const image = await input.image();
      const engine = docker ??= await connectEngine();
      const load = () => loadIntoEngine(archiveStream(image, { tags: [input.tag], loadPlatform: input.loadPlatform, mtime: input.mtime }), engine);
      const report: SinkReport = {};
      let loaded: string[];
      if (opts.verify) {
        const v = await verifyImage(engine, input.tag, load, { ...opts.verify, keepLoaded: opts.load });
        report.verified = { exitCode: v.exitCode, seconds: v.seconds };
        loaded = v.loaded;
      } else loaded = await load();
      if (opts.load) opts.onLoaded?.(loaded, input.tag);
      return report;
    },
  };
}


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
