// The archive sink: the image as one tar at a host path (oci/archive-writer.ts has the format).
// Its file is also where the image's layers are built into, so each is written once; it is
// written under a temporary name and renamed into place when complete.
import { rmSync } from 'node:fs';
import { ArchiveWriter } from '../oci/archive-writer.js';
import type { Sink } from './sink.js';

export function archiveSink(path: string): Sink {
  let writer: ArchiveWriter | undefined;
  let finished = false;
  const open = (mtime: number) => (writer ??= new ArchiveWriter(path, mtime));
  return {
    kind: 'archive',
    blobStore: open,
    async write(input) {
      try {
        const image = await input.image();
        await open(input.mtime).finish(image, { tags: [input.tag], loadPlatform: input.loadPlatform });
        finished = true;
        return { out: path };
      } catch (err) {
        await writer?.abort();
        throw err;
      }
    },
    async discard() {
      if (finished) rmSync(path, { force: true });
      else await writer?.abort();
    },
  };
}
