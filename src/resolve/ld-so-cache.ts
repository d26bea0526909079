// /etc/ld.so.cache in glibc's binary format (elf/dl-cache.h, sysdeps/generic/dl-cache.h):
// the old "ld.so-1.7.0" layout, the new "glibc-ld.so.cache1.1" layout, and the old layout with
// the new one appended; both byte orders; the glibc-hwcaps extension (glibc 2.33+).
import { ElfpackError } from '../errors.js';
import { decodeName } from '../elf/byte-source.js';

const OLD_MAGIC = 'ld.so-1.7.0';
const NEW_MAGIC = 'glibc-ld.so.cache1.1';
const NEW_HEADER = 48;
const NEW_ENTRY = 24;
const OLD_ENTRY = 12;
const EXTENSION_MAGIC = 0xeaa42174; // (uint32_t) -358342284
const EXT_TAG_GLIBC_HWCAPS = 1;
const HWCAP_EXTENSION = 1n << 62n;

export interface CacheEntry {
  key: string;
  value: string;
  flags: number;
  /** The glibc-hwcaps subdirectory (x86-64-v3…) of an entry that lives in one. */
  hwcapsSubdir?: string;
  /** A legacy hwcap mask (tls, x86_64 subdirectories): glibc 2.37 dropped them, we skip such entries. */
  legacyHwcap: boolean;
}

export interface LdSoCache {
  format: 'old' | 'new' | 'old+new';
  byteOrder: 'little' | 'big';
  entries: CacheEntry[];
}

function bad(msg: string): ElfpackError {
  return new ElfpackError('ELF_MALFORMED', `ld.so.cache: ${msg}`, { step: 'ld.so.cache' });
}

function cString(buf: Buffer, at: number): string {
  if (at < 0 || at >= buf.length) throw bad(`string offset ${at} is outside the file`);
  const end = buf.indexOf(0, at);
  if (end < 0) throw bad(`string at ${at} is not NUL-terminated`);
  return decodeName(buf, at, end);
}

export function parseLdSoCache(buf: Buffer): LdSoCache {
  if (buf.length >= NEW_HEADER && buf.toString('latin1', 0, NEW_MAGIC.length) === NEW_MAGIC) {
    return { format: 'new', ...parseNew(buf, 0) };
  }
  if (buf.length >= 16 && buf.toString('latin1', 0, OLD_MAGIC.length) === OLD_MAGIC) {
    const le = plausibleCount(buf.readUInt32LE(12), OLD_ENTRY, buf.length - 16);
    const nlibs = le ? buf.readUInt32LE(12) : buf.readUInt32BE(12);
    if (!plausibleCount(nlibs, OLD_ENTRY, buf.length - 16)) throw bad(`entry count ${nlibs} does not fit the file`);
    // The new layout, when present, follows the old entries at an 8-byte boundary; it supersedes them.
    const newAt = (16 + nlibs * OLD_ENTRY + 7) & ~7;
    if (buf.length >= newAt + NEW_HEADER && buf.toString('latin1', newAt, newAt + NEW_MAGIC.length) === NEW_MAGIC) {
      return { format: 'old+new', ...parseNew(buf, newAt) };
    }
    const strings = 16 + nlibs * OLD_ENTRY; // old offsets count from the end of the entries
    const entries: CacheEntry[] = [];
    for (let i = 0; i < nlibs; i++) {
      const o = 16 + i * OLD_ENTRY;
      const u32 = (x: number) => (le ? buf.readUInt32LE(x) : buf.readUInt32BE(x));
      entries.push({ flags: u32(o) | 0, key: cString(buf, strings + u32(o + 4)), value: cString(buf, strings + u32(o + 8)), legacyHwcap: false });
    }
    return { format: 'old', byteOrder: le ? 'little' : 'big', entries };
  }
  throw bad('not an ld.so.cache file (unknown magic)');
}

function plausibleCount(n: number, size: number, room: number): boolean {
  return n * size <= room;
}

function parseNew(buf: Buffer, base: number): { byteOrder: 'little' | 'big'; entries: CacheEntry[] } {
  // flags byte: 2 = little-endian, 3 = big-endian, 0 = unknown (older ldconfig: guess from the count).
  const endian = buf[base + 28];
  const le = endian === 2 ? true : endian === 3 ? false : plausibleCount(buf.readUInt32LE(base + 20), NEW_ENTRY, buf.length - base - NEW_HEADER);
  const u32 = (x: number) => (le ? buf.readUInt32LE(x) : buf.readUInt32BE(x));
  const u64 = (x: number) => (le ? buf.readBigUInt64LE(x) : buf.readBigUInt64BE(x));
  const nlibs = u32(base + 20);
  if (!plausibleCount(nlibs, NEW_ENTRY, buf.length - base - NEW_HEADER)) throw bad(`entry count ${nlibs} does not fit the file`);
  const hwcaps = readHwcapsExtension(buf, base, u32(base + 32), u32);
  const entries: CacheEntry[] = [];
  for (let i = 0; i < nlibs; i++) {
    const o = base + NEW_HEADER + i * NEW_ENTRY;
    const hwcap = u64(o + 16);
    const entry: CacheEntry = {
      flags: u32(o) | 0,
      // new-format string offsets count from the start of the new header
      key: cString(buf, base + u32(o + 4)),
      value: cString(buf, base + u32(o + 8)),
      legacyHwcap: false,
    };
    if (hwcap & HWCAP_EXTENSION) {
      const idx = Number(hwcap & 0xffffffffn);
      entry.hwcapsSubdir = hwcaps[idx];
      if (entry.hwcapsSubdir === undefined) throw bad(`glibc-hwcaps index ${idx} is out of range`);
    } else if (hwcap !== 0n) {
      entry.legacyHwcap = true;
    }
    entries.push(entry);
  }
  return { byteOrder: le ? 'little' : 'big', entries };
}

/** The extension directory: a list of sections; section 1 lists the glibc-hwcaps subdirectory names. */
function readHwcapsExtension(buf: Buffer, base: number, extOffset: number, u32: (x: number) => number): string[] {
  if (extOffset === 0) return [];
  const at = base + extOffset;
  if (at + 8 > buf.length || u32(at) !== EXTENSION_MAGIC) return [];
  const count = u32(at + 4);
  if (at + 8 + count * 16 > buf.length) throw bad('extension directory runs past the end of the file');
  for (let i = 0; i < count; i++) {
    const s = at + 8 + i * 16;
    if (u32(s) !== EXT_TAG_GLIBC_HWCAPS) continue;
    const off = base + u32(s + 8);
    const size = u32(s + 12);
    if (off + size > buf.length || size % 4 !== 0) throw bad('glibc-hwcaps section runs past the end of the file');
    const names: string[] = [];
    for (let j = 0; j < size / 4; j++) names.push(cString(buf, base + u32(off + j * 4)));
    return names;
  }
  return [];
}

/**
 * The path the loader takes from the cache for `name` (glibc's search_cache): entries whose flags
 * are the ABI's own (or plain FLAG_ELF), a glibc-hwcaps entry for a subdirectory in `hwcaps` winning
 * by its priority (earlier in the list is better), else the first plain entry.
 */
export function lookupCache(cache: LdSoCache, name: string, abiFlags: number, hwcaps: readonly string[] = []): string | undefined {
  let index = (cache as LdSoCacheIndexed)._index;
  if (!index) {
    index = new Map();
    for (const e of cache.entries) {
      const list = index.get(e.key);
      if (list) list.push(e);
      else index.set(e.key, [e]);
    }
    (cache as LdSoCacheIndexed)._index = index;
  }
  let best: CacheEntry | undefined;
  let bestPriority = Infinity;
  let plain: CacheEntry | undefined;
  for (const e of index.get(name) ?? []) {
    if (e.flags !== abiFlags && e.flags !== 1) continue;
    if (e.hwcapsSubdir !== undefined) {
      const p = hwcaps.indexOf(e.hwcapsSubdir);
      if (p >= 0 && p < bestPriority) {
        best = e;
        bestPriority = p;
      }
    } else if (!e.legacyHwcap && !plain) {
      plain = e;
    }
  }
  return (best ?? plain)?.value;
}

interface LdSoCacheIndexed extends LdSoCache {
  _index?: Map<string, CacheEntry[]>;
}
