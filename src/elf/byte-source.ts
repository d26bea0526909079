// Positioned, bounds-checked reads: the ELF reader never reads past what the file holds,
// and never allocates a size it read from the file without checking it first.
import { closeSync, readSync } from 'node:fs';
import { ElfFormatError } from '../errors.js';

export interface ByteSource {
  /** Size in bytes: every read must lie inside [0, size). */
  readonly size: number;
  /** Identifies the file (device:inode), when it is one: two names of one file share it. */
  readonly id?: string;
  /** Exactly `length` bytes at `offset`, or an ELF_TRUNCATED error naming `what`. */
  read(offset: number, length: number, what: string): Buffer;
  /** Like read, into the start of `into` (no allocation); returns that part of `into`. */
  readInto?(into: Buffer, offset: number, length: number, what: string): Buffer;
  close(): void;
}

/**
 * `length` bytes at `offset` into `scratch` when the source can read into a buffer, else a fresh
 * read. For data parsed at once and dropped: reusing one buffer keeps thousands of files from
 * each touching new memory.
 */
export function readScratch(src: ByteSource, scratch: Buffer, offset: number, length: number, what: string): Buffer {
  return src.readInto && length <= scratch.length ? src.readInto(scratch, offset, length, what) : src.read(offset, length, what);
}

/**
 * The UTF-8 text of b[start, end): Buffer's own decoder (Buffer.prototype.utf8Slice, in every Node
 * release), without toString's argument handling, which costs more than decoding a short name.
 */
export function utf8(b: Buffer, start: number, end: number): string {
  return (b as Buffer & { utf8Slice(start: number, end: number): string }).utf8Slice(start, end);
}

/**
 * A name from the file (DT_NEEDED, SONAME, RPATH, PT_INTERP, a "#!" line) from b[start, end): UTF-8,
 * with each byte that is not part of a valid UTF-8 sequence kept as U+DC80..U+DCFF (the byte plus
 * 0xDC00, as Python's "surrogateescape"), never replaced by U+FFFD: JSON then carries the exact
 * bytes, and escapeName prints such a byte as ls -b does (\377). utf8Slice answers first; only a
 * string with U+FFFD in it (a bad byte, or a real U+FFFD) is decoded again here.
 */
export function decodeName(b: Uint8Array, start: number, end: number): string {
  const s = utf8(b as Buffer, start, end);
  return s.indexOf('\ufffd') < 0 ? s : decodeKeepingBadBytes(b, start, end);
}

/** UTF-8 as the Unicode standard defines it (no overlong forms, no surrogates, at most U+10FFFF). */
function decodeKeepingBadBytes(b: Uint8Array, start: number, end: number): string {
  let out = '';
  for (let i = start; i < end;) {
    const c = b[i];
    let need = 0, min = 0, cp = 0;
    if (c < 0x80) { out += String.fromCharCode(c); i++; continue; }
    if (c >= 0xc2 && c <= 0xdf) { need = 1; min = 0x80; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { need = 2; min = 0x800; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { need = 3; min = 0x10000; cp = c & 0x07; }
    let j = 1;
    for (; need && j <= need && i + j < end && (b[i + j] & 0xc0) === 0x80; j++) cp = (cp << 6) | (b[i + j] & 0x3f);
    if (need && j === need + 1 && cp >= min && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) {
      out += String.fromCodePoint(cp);
      i += need + 1;
    } else {
      out += String.fromCharCode(0xdc00 + c);
      i++;
    }
  }
  return out;
}

function checkRange(size: number, offset: number, length: number, what: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new ElfFormatError('ELF_MALFORMED', `${what}: offset or size out of range`);
  }
  if (offset + length > size) {
    throw new ElfFormatError(
      'ELF_TRUNCATED',
      `${what} lies past the end of the file (needs bytes ${offset}..${offset + length}, file has ${size})`,
    );
  }
}

/** Bytes read at once from the start of a file: the header, program headers, PT_INTERP and often .dynstr. */
const HEAD_BYTES = 8192;
const HEAD_POOL: Buffer[] = [];

/**
 * Reads from an open file descriptor with pread: no whole-file buffer. The first few KiB are read
 * once and served from memory, since that is where most of what the loader reads lies.
 */
export class FileByteSource implements ByteSource {
  private head?: Buffer;
  private headLength = 0;

  /** `base`: where the bytes start in the file (a member of a tar archive starts past its header). */
  constructor(private fd: number, readonly size: number, readonly id?: string, private base = 0) {}

  read(offset: number, length: number, what: string): Buffer {
    checkRange(this.size, offset, length, what);
    if (offset + length <= HEAD_BYTES) {
      if (!this.head) {
        // Head buffers are reused after close(): thousands of files would otherwise mean thousands of 8 KiB allocations.
        this.head = HEAD_POOL.pop() ?? Buffer.allocUnsafe(HEAD_BYTES);
        this.headLength = Math.min(this.size, HEAD_BYTES);
        this.pread(0, this.headLength, what, this.head);
      }
      return this.head.subarray(offset, offset + length);
    }
    return this.pread(offset, length, what);
  }

  readInto(into: Buffer, offset: number, length: number, what: string): Buffer {
    checkRange(this.size, offset, length, what);
    if (length > into.length) throw new RangeError('readInto: buffer too small');
    if (this.head && offset + length <= this.headLength) return this.head.subarray(offset, offset + length);
    return this.pread(offset, length, what, into).subarray(0, length);
  }

  private pread(offset: number, length: number, what: string, into?: Buffer): Buffer {
    const buf = into ?? Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, buf, done, length - done, this.base + offset + done);
      // The file shrank under us: report it as truncation rather than loop forever.
      if (n === 0) throw new ElfFormatError('ELF_TRUNCATED', `${what}: file ended early while reading`);
      done += n;
    }
    return buf;
  }

  /** Closes the file. Buffers returned by read() must not be used after this. */
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    if (this.head && HEAD_POOL.length < 8) HEAD_POOL.push(this.head);
    this.head = undefined;
  }
}

/** Reads from memory: tests and small in-memory files. */
export class BufferByteSource implements ByteSource {
  readonly size: number;
  constructor(private buf: Buffer) {
    this.size = buf.length;
  }

  read(offset: number, length: number, what: string): Buffer {
    checkRange(this.size, offset, length, what);
    return this.buf.subarray(offset, offset + length);
  }

  close(): void {}
}
