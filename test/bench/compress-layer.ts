// make bench's compressor run (BENCH_ONLY=compress): `node compress-layer.js FILE OFFSET SIZE OUT
// gzip|zstd` compresses SIZE bytes of FILE from OFFSET (the layer inside an uncompressed elfpack
// image, found once by bench.ts) into OUT through compressLayer, as the archive sink will, and
// prints its descriptor as JSON. One process per run, timed from outside like skopeo beside it.
// Not a test.
import { open } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { compressLayer, type LayerCompression } from '../../src/oci/compress-layer.js';

const [file, offset, size, out, kind = 'gzip'] = process.argv.slice(2);
const layer = { file, offset: Number(offset), size: Number(size) };
const fh = await open(out, 'w');
try {
  const info = await compressLayer(kind as LayerCompression, createReadStream(layer.file, { start: layer.offset, end: layer.offset + layer.size - 1, highWaterMark: 4 << 20 }), async (b) => {
    await fh.write(b);
  });
  process.stdout.write(`${JSON.stringify(info)}\n`);
} finally {
  await fh.close();
}
