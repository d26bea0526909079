// Where an image's files lie: the members of a tar (docker save, OCI archive, elfpack's own), or
// the files of an OCI layout directory. A name asked for is a plain relative path inside the image
// ("index.json", "blobs/sha256/<hex>", a docker-save "<id>/layer.tar"); in a directory no name may
// leave it: "..", absolute names and symbolic links anywhere along the way are refused, so a
// hostile index.json cannot make elfpack read a host file.
import { closeSync, constants, createReadStream, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { loadTarStream } from '../tar-stream-lazy.js';
import { ElfpackError } from '../errors.js';
import { escapeName } from '../escape.js';

/** Where a member's bytes lie: a host file, from `offset`, `size` bytes. */
export interface Region { file: string; offset: number; size: number }

/** Members an image tar may hold (blobs, metadata, directories): more is refused. */
export const MAX_ARCHIVE_MEMBERS = 1_000_000;
/** Components of a member name asked for (blobs/sha256/<hex> has three). */
const MAX_NAME_COMPONENTS = 16;

export interface BlobSource {
  /** The image as the user named it, for messages. */
  readonly label: string;
  /** The member called `name`, or undefined when the image holds no such regular file. */
  region(name: string): Region | undefined;
}

/** Members' names compare without a leading "./" or "/" (docker save writes neither; some tools do). */
function memberKey(name: string): string {
  return name.replace(/^(?:\.?\/+)+/, '');
}

/** Every regular member of a tar with where its bytes start: read once, contents skipped. */
export async function listMembers(file: string, label = file): Promise<Map<string, Region>> {
  return (await listArchive(file, label)).files;
}

/** The regular members of a tar, and its symbolic links (older docker save links a repeated layer to the first). */
async function listArchive(file: string, label: string): Promise<{ files: Map<string, Region>; links: Map<string, string> }> {
  const files = new Map<string, Region>();
  const links = new Map<string, string>();
  const { extract } = await loadTarStream();
  const ex = extract();
  let count = 0;
  ex.on('entry', (h, stream, next) => {
    if (++count > MAX_ARCHIVE_MEMBERS) {
      ex.destroy(new ElfpackError('IMAGE_LIMIT', `the archive holds more than ${MAX_ARCHIVE_MEMBERS} members: refused`, { path: label, step: 'image' }));
      return;
    }
    const key = memberKey(h.name);
    if (h.type === 'file' || h.type === 'contiguous-file' || !h.type) {
      files.set(key, { file, offset: (h as { byteOffset?: number }).byteOffset!, size: h.size ?? 0 });
      links.delete(key);
    } else if (h.type === 'symlink' && h.linkname) {
      links.set(key, h.linkname);
      files.delete(key);
    }
    skipEntry(h, stream, next);
  });
  try {
    await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), ex);
  } catch (err) {
    if (err instanceof ElfpackError) throw err;
    throw new ElfpackError('IMAGE_MALFORMED', `not a readable image tar: ${describeTarError(err)}`, { path: label, step: 'image', cause: err });
  }
  return { files, links };
}

/** Links followed from one member name, at most. */
const MAX_MEMBER_LINKS = 8;

/** The members of an image tar; a member that is a relative symlink is followed inside the archive. */
export async function archiveSource(file: string, label = file): Promise<BlobSource> {
  const { files, links } = await listArchive(file, label);
  return {
    label,
    region(name) {
      let key = memberKey(name);
      for (let hops = 0; hops <= MAX_MEMBER_LINKS; hops++) {
        const found = files.get(key);
        if (found) return found;
        const target = links.get(key);
        if (target === undefined || target.startsWith('/')) return undefined;
        // Resolved lexically against the link's directory; ".." never leaves the archive.
        const parts = key.split('/').slice(0, -1);
        for (const c of target.split('/')) {
          if (c === '..') parts.pop();
          else if (c && c !== '.') parts.push(c);
        }
        key = parts.join('/');
      }
      return undefined;
    },
  };
}

/**
 * Moves tar-stream past an entry whose bytes are not wanted. A directory's stream never ends when
 * its header claims a size (tar-stream 3 neither reads nor skips those bytes), so waiting for its
 * end would stall the whole archive: a directory goes on at once.
 */
export function skipEntry(h: { type?: string | null }, stream: { on(e: 'end' | 'error', f: () => void): unknown; resume(): unknown }, next: () => void): void {
  stream.on('error', () => undefined); // the extractor reports the same error
  if (h.type === 'directory') {
    stream.resume();
    next();
    return;
  }
  stream.on('end', () => next());
  stream.resume();
}

/** tar-stream's errors, said as what is wrong with the file (its messages name no file). */
export function describeTarError(err: unknown): string {
  const msg = String((err as Error)?.message ?? err);
  if (/premature|unexpected end|end of data/i.test(msg)) return 'the tar stream is truncated';
  if (/invalid tar header|checksum/i.test(msg)) return 'a tar header is damaged';
  if (/pax|header size|too large/i.test(msg)) return 'a tar header is too large';
  return escapeName(msg.slice(0, 120));
}

/**
 * The files of an OCI layout directory. Every component under `dir` is checked with lstat (no
 * symlink, directories along the way, a regular file at the end); the file is then opened with
 * O_NOFOLLOW and its size taken from the open descriptor.
 */
export function directorySource(dir: string, label = dir): BlobSource {
  return {
    label,
    region(name) {
      const parts = name.split('/').filter((c) => c !== '' && c !== '.');
      if (!parts.length || parts.length > MAX_NAME_COMPONENTS || parts.includes('..') || name.startsWith('/')) {
        throw new ElfpackError('IMAGE_MALFORMED', `names a file outside the image ("${escapeName(name.slice(0, 80))}")`, { path: label, step: 'image' });
      }
      let at = dir;
      for (let i = 0; i < parts.length; i++) {
        at = join(at, parts[i]);
        const st = lstatSync(at, { throwIfNoEntry: false });
        if (!st) return undefined;
        if (st.isSymbolicLink()) throw new ElfpackError('IMAGE_MALFORMED', `${escapeName(parts.slice(0, i + 1).join('/'))} is a symbolic link: an image layout's files are never followed out of it`, { path: label, step: 'image' });
        if (i < parts.length - 1 ? !st.isDirectory() : !st.isFile()) return undefined;
      }
      let fd = -1;
      try {
        fd = openSync(at, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
        const st = fstatSync(fd);
        return st.isFile() ? { file: at, offset: 0, size: st.size } : undefined;
      } catch (err) {
        throw new ElfpackError('IMAGE_MALFORMED', `${escapeName(name)} cannot be opened (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { path: label, step: 'image', cause: err });
      } finally {
        if (fd >= 0) closeSync(fd);
      }
    },
  };
}

/** The bytes of a region, at most `max` of them (larger is refused with IMAGE_LIMIT). */
export function readRegion(r: Region, max: number, what = 'a metadata file', label = r.file): Buffer {
  if (r.size > max) throw new ElfpackError('IMAGE_LIMIT', `${what} is ${r.size} bytes, more than the ${max} allowed: refused`, { path: label, step: 'image' });
  const fd = openSync(r.file, 'r');
  try {
    const b = Buffer.alloc(r.size);
    for (let got = 0; got < r.size;) {
      const n = readSync(fd, b, got, r.size - got, r.offset + got);
      if (n === 0) throw new ElfpackError('IMAGE_MALFORMED', `${what} is truncated`, { path: label, step: 'image' });
      got += n;
    }
    return b;
  } finally {
    closeSync(fd);
  }
}
