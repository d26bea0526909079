// The --sbom-out sink: each image's SBOMs, taken from its attestation manifest in the image value
// (oci/attestation.ts), written as files in a directory: NAME.spdx.json and NAME.cdx.json, NAME
// being the last component of the image's repository ("curl" for example.com/x/curl:1); with
// several platforms, NAME.OS-ARCH[-VARIANT].spdx.json. Each goes to a temporary name, and the
// renames come only once all are complete: a failure leaves none of them.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ElfpackError } from '../errors.js';
import { PREDICATE_CYCLONEDX, PREDICATE_SPDX, REFERENCE_DIGEST } from '../oci/attestation.js';
import { readRegion } from '../oci/blob-source.js';
import type { BlobContent } from '../oci/blob.js';
import { imagesOf, isAttestationManifest, isImageIndex, type Image, type ImageIndex } from '../oci/image.js';
import { platformName } from '../oci/platform.js';
import { parseTag } from '../oci/reference.js';
import { syncDirectory, tempNameFor } from '../temp-files.js';
import type { Sink, SinkReport } from './sink.js';

/** A statement larger than this is refused (far beyond an SBOM of 100,000 files). */
const MAX_STATEMENT = 512 << 20;
const SUFFIX: Record<string, { format: 'spdx' | 'cyclonedx'; ext: string }> = {
  [PREDICATE_SPDX]: { format: 'spdx', ext: 'spdx.json' },
  [PREDICATE_CYCLONEDX]: { format: 'cyclonedx', ext: 'cdx.json' },
};

export interface WrittenSbom {
  path: string;
  format: 'spdx' | 'cyclonedx';
  /** The manifest digest of the image it describes. */
  subject: string;
}

export function sbomFilesSink(dir: string): Sink {
  let written: string[] = [];
  return {
    kind: 'sbom',
    async check() {
      if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new ElfpackError('USAGE', '--sbom-out: no such directory', { path: dir });
    },
    async write(input): Promise<SinkReport> {
      const files = sbomFilesOf(await input.image(), input.tag, dir);
      if (!files.length) throw new ElfpackError('USAGE', '--sbom-out: the image has no SBOM attached (--sbom none?)', { path: dir });
      const temps: string[] = [];
      try {
        for (const f of files) {
          const tmp = tempNameFor(f.path);
          temps.push(tmp);
          writeSynced(tmp, f.bytes);
        }
        files.forEach((f, i) => renameSync(temps[i], f.path));
      } catch (err) {
        for (const t of temps) rmSync(t, { force: true });
        const e = err as NodeJS.ErrnoException;
        throw err instanceof ElfpackError ? err : new ElfpackError('IO', `cannot write the SBOM: ${e.code ?? e.message}`, { path: dir, step: 'sbom', cause: err });
      }
      syncDirectory(dir);
      written = files.map((f) => f.path);
      return { sbomFiles: files.map(({ path, format, subject }) => ({ path, format, subject })) };
    },
    async discard() {
      for (const p of written) rmSync(p, { force: true });
    },
  };
}

/** Each attestation's documents as files of `dir`, pretty-printed, in the index's order. */
export function sbomFilesOf(v: Image | ImageIndex, tag: string, dir: string): (WrittenSbom & { bytes: Buffer })[] {
  if (!isImageIndex(v)) return [];
  const images = imagesOf(v);
  const repo = parseTag(tag).repository;
  const name = repo.slice(repo.lastIndexOf('/') + 1);
  const out: (WrittenSbom & { bytes: Buffer })[] = [];
  for (const m of v.manifests) {
    if (isImageIndex(m) || !isAttestationManifest(m)) continue;
    const subject = m.annotations?.[REFERENCE_DIGEST];
    const image = images.find((i) => i.manifest.descriptor.digest === subject);
    if (!subject || !image) continue;
    const platform = images.length > 1 && image.platform ? `.${platformName(image.platform).replace(/\//g, '-')}` : '';
    for (const l of m.layers) {
      const kind = SUFFIX[l.descriptor.annotations?.['in-toto.io/predicate-type'] ?? ''];
      if (!kind) continue;
      const statement = JSON.parse(bytesOf(l.content, l.descriptor.digest).toString('utf8')) as { predicate: unknown };
      out.push({ path: join(dir, `${name}${platform}.${kind.ext}`), format: kind.format, subject, bytes: Buffer.from(`${JSON.stringify(statement.predicate, null, 2)}\n`) });
    }
  }
  return out;
}

function bytesOf(c: BlobContent, digest: string): Buffer {
  return 'bytes' in c ? c.bytes : readRegion(c.region, MAX_STATEMENT, `statement ${digest}`);
}

function writeSynced(path: string, bytes: Buffer): void {
  const fd = openSync(path, 'wx', 0o644);
  try {
    for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
