// A .deb read without dpkg (deb(5)): an ar archive of "debian-binary" ("2.0"), control.tar and
// data.tar, each tar plain or compressed (gzip, xz, zstd). The control member is read whole
// (bounded): its control file as a deb822 paragraph, md5sums, conffiles, which maintainer scripts
// it has. The data member is streamed entry by entry, every name checked (deb-entry.ts), or
// unpacked once into a cache as a plain tar under the digest of its compressed bytes.
import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { loadTarStream } from '../tar-stream-lazy.js';
import { ElfpackError } from '../errors.js';
import { escapeName } from '../escape.js';
import { describeTarError, type Region } from '../oci/blob-source.js';
import { hashRegion } from '../oci/layer-blob.js';
import { parseDeb822, valueOf, type Deb822Paragraph } from '../root/deb822.js';
import { writeFileAtomically } from '../temp-files.js';
import { readArMembers, type ArMember } from './ar.js';
import { debEntryOf, entryComponents, type DebEntry } from './deb-entry.js';
import { compressionOf, decompressError, decompressStages, type DebCompression } from './decompress.js';

/** control.tar unpacks to at most this (libc6's md5sums is 60 KiB; the largest are a few MiB). */
export const MAX_CONTROL_BYTES = 64 << 20;
/** Files in control.tar, at most (dpkg knows about a dozen names). */
export const MAX_CONTROL_FILES = 256;
/** Entries of one data.tar, at most (the largest Debian packages have about 200,000). */
export const DEFAULT_MAX_DEB_ENTRIES = 1_000_000;
/** data.tar unpacks to at most this, whatever the package says (see defaultMaxDataBytes). */
export const MAX_DATA_BYTES = 16 * 2 ** 30;

/** The maintainer scripts dpkg runs (deb-preinst(5)…): only whether each is there is kept. */
export const MAINTAINER_SCRIPTS = ['preinst', 'postinst', 'prerm', 'postrm', 'config'];

/**
 * data.tar's default bound: twice the Installed-Size the control file claims (KiB, which dpkg
 * computes from the same files) or 20× the compressed size, whichever is larger, plus 64 MiB for
 * tar's headers; never past MAX_DATA_BYTES. A bomb with an honest control file is refused early;
 * one that lies about its size still stops at MAX_DATA_BYTES.
 */
export function defaultMaxDataBytes(compressedSize: number, installedKiB: number): number {
  return Math.min(MAX_DATA_BYTES, Math.max(compressedSize * 20, installedKiB * 2048) + (64 << 20));
}

export interface DebControl {
  /** The control file (deb-control(5)). */
  paragraph: Deb822Paragraph;
  /** md5sums (deb-md5sums(5)) as it is, when the package has one. */
  md5sums?: string;
  /** conffiles: absolute paths, one a line (deb-conffiles(5); "remove-on-upgrade" flags dropped). */
  conffiles: string[];
  /** Which of MAINTAINER_SCRIPTS the package has. */
  scripts: string[];
  /** Every regular file of control.tar by name ("control", "md5sums", "postinst", "triggers"…). */
  files: Map<string, Buffer>;
}

export interface DebFile {
  /** The host path of the .deb. */
  path: string;
  name: string;
  version: string;
  arch: string;
  control: DebControl;
  /** The data.tar member, where it lies in the file. */
  data: ArMember;
  dataCompression: DebCompression;
}

export interface ReadDebOptions {
  /** Bytes data.tar may unpack to (default defaultMaxDataBytes). */
  maxDataBytes?: number;
  /** Entries data.tar may hold (default DEFAULT_MAX_DEB_ENTRIES). */
  maxEntries?: number;
}

function malformed(label: string, what: string): ElfpackError {
  return new ElfpackError('DEB_MALFORMED', `not a valid .deb: ${what}`, { path: label, step: 'deb' });
}

/** Reads a .deb's members and control part; data.tar is read later (debEntries, unpackDebData). */
export async function readDeb(path: string): Promise<DebFile> {
  if (!statSync(path, { throwIfNoEntry: false })?.isFile()) throw new ElfpackError('NOT_FOUND', 'no such .deb file', { path, step: 'deb' });
  const members = readArMembers(path);
  // deb(5): debian-binary first, then control.tar, then data.tar; members starting "_" may come between.
  const [first, ...rest] = members;
  if (first?.name !== 'debian-binary') throw malformed(path, 'the first ar member is not debian-binary');
  const version = (await readSmall(first, 64, path)).toString('latin1');
  if (!/^2\.\d+\n/.test(version)) throw new ElfpackError('DEB_UNSUPPORTED', `debian-binary says format ${JSON.stringify(version.trim().slice(0, 20))}, not 2.x`, { path, step: 'deb' });
  const parts = rest.filter((m) => !m.name.startsWith('_'));
  const controlMember = parts[0];
  const dataMember = parts[1];
  const controlKind = controlMember && compressionOf(controlMember.name, 'control.tar');
  if (!controlKind) throw malformed(path, 'the second member is not control.tar');
  const dataKind = dataMember && compressionOf(dataMember.name, 'data.tar');
  if (!dataKind) throw malformed(path, 'the third member is not data.tar');
  for (const [m, k] of [[controlMember, controlKind], [dataMember, dataKind]] as const) {
    if (k === 'unsupported') throw new ElfpackError('DEB_UNSUPPORTED', `${escapeName(m.name)}: a compression elfpack does not read (gzip, xz, zstd or none)`, { path, step: 'deb' });
  }
  const control = await readControl(controlMember, controlKind as DebCompression, path);
  const p = control.paragraph;
  return { path, name: valueOf(p, 'Package'), version: valueOf(p, 'Version'), arch: valueOf(p, 'Architecture'), control, data: dataMember, dataCompression: dataKind as DebCompression };
}

async function readSmall(m: ArMember, max: number, label: string): Promise<Buffer> {
  if (m.size > max) throw malformed(label, `${escapeName(m.name)} has ${m.size} bytes, more than ${max}`);
  const chunks: Buffer[] = [];
  if (m.size) for await (const c of createReadStream(m.file, { start: m.offset, end: m.offset + m.size - 1 })) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function readControl(m: ArMember, kind: DebCompression, label: string): Promise<DebControl> {
  const files = new Map<string, Buffer>();
  for await (const { entry, content } of tarEntries(m, kind, label, { maxDataBytes: MAX_CONTROL_BYTES, maxEntries: MAX_CONTROL_FILES, member: m.name })) {
    if (entry.type !== 'file') continue;
    const chunks: Buffer[] = [];
    for await (const c of content) chunks.push(c as Buffer);
    files.set(entry.path.slice(1), Buffer.concat(chunks));
  }
  const text = files.get('control');
  if (!text) throw malformed(label, `${escapeName(m.name)} has no control file`);
  const parsed = parseDeb822(text.toString('utf8'), 1, () => {
    throw malformed(label, 'the control file holds more than one paragraph');
  });
  const paragraph = parsed.paragraphs[0];
  if (!paragraph || parsed.malformed.length) throw malformed(label, `the control file is not a deb822 paragraph${parsed.malformed.length ? ` (${parsed.malformed[0]})` : ''}`);
  for (const f of ['Package', 'Version', 'Architecture']) if (!valueOf(paragraph, f)) throw malformed(label, `the control file has no ${f} field`);
  const conffiles = (files.get('conffiles')?.toString('utf8') ?? '').split('\n').map((l) => l.trim().split(/\s+/)[0]).filter((l) => l.startsWith('/'));
  return {
    paragraph, conffiles, files,
    ...(files.has('md5sums') ? { md5sums: files.get('md5sums')!.toString('utf8') } : {}),
    scripts: MAINTAINER_SCRIPTS.filter((s) => files.has(s)),
  };
}

export interface TarEntry {
  entry: DebEntry;
  /** The bytes of a regular file (empty for the rest). Left unread, it is skipped. */
  content: Readable;
}

interface TarReadOptions extends ReadDebOptions {
  member: string;
}

/** The entries of a deb's data.tar, each checked, with its content as a stream. */
export function debEntries(deb: DebFile, opts: ReadDebOptions = {}): AsyncGenerator<TarEntry> {
  return tarEntries(deb.data, deb.dataCompression, deb.path, { ...opts, maxDataBytes: opts.maxDataBytes ?? maxDataBytesOf(deb), member: deb.data.name });
}

function maxDataBytesOf(deb: DebFile): number {
  const kib = Number(valueOf(deb.control.paragraph, 'Installed-Size'));
  return defaultMaxDataBytes(deb.data.size, Number.isSafeInteger(kib) && kib > 0 ? kib : 0);
}

/** The entries of a tar member (compressed as `kind`), checked; the stream is closed when the caller stops early. */
async function* tarEntries(region: Region, kind: DebCompression, label: string, opts: TarReadOptions): AsyncGenerator<TarEntry> {
  const maxEntries = opts.maxEntries ?? DEFAULT_MAX_DEB_ENTRIES;
  const { extract } = await loadTarStream();
  const ex = extract();
  const input = region.size ? createReadStream(region.file, { start: region.offset, end: region.offset + region.size - 1, highWaterMark: 1 << 20 }) : emptyStream();
  let failure: unknown;
  const fed = pipeline([input, ...(await decompressStages(kind, opts.maxDataBytes ?? MAX_DATA_BYTES)), ex as unknown as NodeJS.WritableStream]).catch((err) => {
    failure ??= err;
    ex.destroy(err);
  });
  let count = 0;
  let read = false;
  try {
    for await (const e of ex) {
      if (++count > maxEntries) throw new ElfpackError('DEB_LIMIT', `${escapeName(opts.member)}: more than ${maxEntries} entries: refused`, { path: label, step: 'deb' });
      const entry = debEntryOf(e.header, label);
      yield { entry, content: e as unknown as Readable };
      e.resume(); // what the caller left unread is skipped
    }
    read = true;
  } catch (err) {
    failure ??= err;
  } finally {
    // Read to the end: the pipeline finishes on its own (and may still fail: bytes past the bound).
    // Stopped early, by the caller or a refusal: the streams are closed, and the decoder with them.
    if (!read) {
      ex.destroy();
      input.destroy();
    }
    await fed;
  }
  if (failure !== undefined) throw tarError(failure, kind, opts.member, label);
}

function emptyStream(): Readable {
  return createReadStream('/dev/null');
}

function tarError(err: unknown, kind: DebCompression, member: string, label: string): ElfpackError {
  if (err instanceof ElfpackError) return err;
  const msg = String((err as Error)?.message ?? err);
  // tar-stream's own complaints are about the tar; the rest come from the decompressor.
  if (/tar header|header size|checksum|pax|premature|unexpected end/i.test(msg) && !(kind !== 'none' && /unexpected end/i.test(msg))) {
    return new ElfpackError('DEB_MALFORMED', `${escapeName(member)}: not a readable tar: ${describeTarError(err)}`, { path: label, step: 'deb', cause: err });
  }
  return decompressError(kind, err, escapeName(member), label);
}

export interface UnpackedData {
  /** The plain data.tar in the cache. */
  tar: Region;
  /** Its entries in archive order, checked. */
  entries: DebEntry[];
}

/**
 * data.tar as a plain tar in `cacheDir`/deb-data (beside the fetched .debs in debs/), named by the sha256 of its compressed bytes (the
 * same member unpacks once), and its checked entries. A refused unpacking leaves nothing behind.
 */
export async function unpackDebData(deb: DebFile, cacheDir: string, opts: ReadDebOptions = {}): Promise<UnpackedData> {
  const dir = join(cacheDir, 'deb-data');
  mkdirSync(dir, { recursive: true });
  const key = await hashRegion(deb.data);
  const out = join(dir, `${key.algorithm}-${key.hex}.tar`);
  const max = opts.maxDataBytes ?? maxDataBytesOf(deb);
  if (!existsSync(out)) {
    try {
      await writeFileAtomically(out, async (file) => {
        const r = deb.data;
        await pipeline([createReadStream(r.file, { start: r.offset, end: r.offset + r.size - 1, highWaterMark: 1 << 20 }), ...(await decompressStages(deb.dataCompression, max)), file]);
      });
    } catch (err) {
      throw decompressError(deb.dataCompression, err, escapeName(deb.data.name), deb.path);
    }
  }
  const tar: Region = { file: out, offset: 0, size: statSync(out).size };
  const entries: DebEntry[] = [];
  // The plain tar is read once more for its names: entries are checked on every use, cached or not.
  for await (const { entry } of tarEntries(tar, 'none', deb.path, { ...opts, maxDataBytes: max, member: deb.data.name })) entries.push(entry);
  return { tar, entries };
}

/** The components of a path a package names (conffiles, md5sums), checked like data.tar's. */
export function packagePath(name: string, label: string): string {
  return `/${entryComponents(name.replace(/^\/+/, ''), label).join('/')}`;
}
