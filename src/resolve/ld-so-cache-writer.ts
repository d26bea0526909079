// Writes /etc/ld.so.cache in glibc's new "glibc-ld.so.cache1.1" layout, as ldconfig -c new does
// (glibc 2.36 elf/cache.c save_cache, elf/stringtable.c, sysdeps/generic/dl-cache.h), minus the
// extension directory: ld.so treats extension_offset 0 as "no extensions", and we write no
// glibc-hwcaps entries (which need it) and no generator note (only ldconfig -p prints it).
import { ElfpackError } from '../errors.js';

const NEW_MAGIC = 'glibc-ld.so.cache1.1';
const NEW_HEADER = 48; // sizeof (struct cache_file_new)
const NEW_ENTRY = 24; // sizeof (struct file_entry_new)
const ENDIAN_LITTLE = 2; // cache_file_new_flags_endian_little
const ENDIAN_BIG = 3; // cache_file_new_flags_endian_big
const HWCAP_EXTENSION = 1n << 62n; // DL_CACHE_HWCAP_EXTENSION
const HWCAP_NOT_ISA_LEVEL = 0xfffffc00n << 32n; // the high word minus its 10 ISA-level bits

export interface CacheRecord {
  /** The soname the loader looks up (libz.so.1). */
  key: string;
  /** The file the loader then opens. */
  path: string;
  /** FLAG_ELF_LIBC6 | the ABI's flag: Machine.cacheFlags (0x0303 on x86-64). */
  flags: number;
  /** A legacy hwcap mask (glibc < 2.37 only); default 0. */
  hwcap?: bigint;
}

export interface WriteLdSoCacheOptions {
  /** The target's byte order: ld.so reads the cache in its own and ignores one marked otherwise. Default false. */
  bigEndian?: boolean;
}

function bad(msg: string): ElfpackError {
  return new ElfpackError('USAGE', `ld.so.cache: ${msg}`, { step: 'ld.so.cache' });
}

/** glibc's _dl_cache_libcmp: runs of digits compare as numbers, so libfoo.so.10 > libfoo.so.9. */
export function compareCacheKeys(a: string, b: string): number {
  const p = Buffer.from(a + '\0');
  const q = Buffer.from(b + '\0');
  const digit = (c: number) => c >= 0x30 && c <= 0x39;
  let i = 0;
  let j = 0;
  while (p[i] !== 0) {
    if (digit(p[i])) {
      if (!digit(q[j])) return 1;
      let v1 = 0;
      let v2 = 0;
      // int arithmetic, wrapping as the C code does on absurdly long digit runs
      while (digit(p[i])) v1 = (Math.imul(v1, 10) + p[i++] - 0x30) | 0;
      while (digit(q[j])) v2 = (Math.imul(v2, 10) + q[j++] - 0x30) | 0;
      if (v1 !== v2) return v1 - v2;
    } else if (digit(q[j])) {
      return -1;
    } else if (p[i] !== q[j]) {
      // glibc compares plain char: signed on x86, unsigned on ARM/POWER/s390. Sonames are ASCII in
      // practice; we compare bytes unsigned.
      return p[i] - q[j];
    } else {
      i++;
      j++;
    }
  }
  return p[i] - q[j];
}

function popcount(x: bigint): number {
  let n = 0;
  for (; x; x >>= 1n) n += Number(x & 1n);
  return n;
}

/**
 * ldconfig's compare(): keys descending (ld.so's binary search expects that order), then flags
 * descending, then the most specific hwcap first. Equal entries keep their input order, as
 * ldconfig's insertion keeps the order it found them in.
 */
function compareEntries(e1: CacheRecord, e2: CacheRecord): number {
  const res = compareCacheKeys(e2.key, e1.key);
  if (res !== 0) return res;
  if (e1.flags !== e2.flags) return e1.flags < e2.flags ? 1 : -1;
  const h1 = e1.hwcap ?? 0n;
  const h2 = e2.hwcap ?? 0n;
  const b1 = popcount(h1);
  const b2 = popcount(h2);
  if (b1 !== b2) return b2 > b1 ? 1 : -1;
  if (h1 !== h2) return h2 > h1 ? 1 : -1;
  return 0;
}

/**
 * elf/stringtable.c: each distinct string once, sorted by its reversed bytes (descending, longer
 * first), so a string that ends another shares its bytes (the key libz.so.1 points into
 * /lib/libz.so.1). Same set of strings, same table as ldconfig's: offsets do not depend on order added.
 */
function buildStringTable(strings: Iterable<string>): { table: Buffer; offsets: Map<string, number> } {
  const items = [...new Set(strings)].map((s) => ({ s, b: Buffer.from(s, 'utf8'), offset: 0 }));
  items.sort((l, r) => {
    const n = Math.min(l.b.length, r.b.length);
    for (let i = 1; i <= n; i++) {
      const d = r.b[r.b.length - i] - l.b[l.b.length - i];
      if (d !== 0) return d;
    }
    return r.b.length - l.b.length;
  });
  let size = 0;
  for (let j = 0; j < items.length; j++) {
    const cur = items[j];
    const prev = items[j - 1];
    if (prev && prev.b.length >= cur.b.length && prev.b.subarray(prev.b.length - cur.b.length).equals(cur.b)) {
      cur.offset = prev.offset + prev.b.length - cur.b.length;
    } else {
      cur.offset = size;
      size = cur.offset + cur.b.length + 1;
    }
  }
  const table = Buffer.alloc(size); // zero-filled: every string's NUL is already there
  const offsets = new Map<string, number>();
  for (const it of items) {
    it.b.copy(table, it.offset);
    offsets.set(it.s, it.offset);
  }
  return { table, offsets };
}

/** The cache file's bytes for `entries`, sorted as ldconfig sorts them. */
export function writeLdSoCache(entries: CacheRecord[], options: WriteLdSoCacheOptions = {}): Buffer {
  const big = options.bigEndian ?? false;
  for (const e of entries) {
    if (e.key.includes('\0') || e.path.includes('\0')) throw bad(`a NUL byte in ${JSON.stringify(e.key)} or its path`);
    if (!Number.isInteger(e.flags) || e.flags < -0x80000000 || e.flags > 0x7fffffff) throw bad(`flags ${e.flags} of ${e.key} are not an int32`);
    const hwcap = e.hwcap ?? 0n;
    if (hwcap < 0n || hwcap >= 1n << 64n) throw bad(`hwcap of ${e.key} is not a uint64`);
    // An entry marked as a glibc-hwcaps one indexes the extension section we do not write;
    // ld.so would silently skip it.
    if ((hwcap & HWCAP_NOT_ISA_LEVEL) === HWCAP_EXTENSION) throw bad(`${e.key}: glibc-hwcaps entries are not supported`);
  }
  const sorted = [...entries].sort(compareEntries); // Array.prototype.sort is stable
  const { table, offsets } = buildStringTable(sorted.flatMap((e) => [e.key, e.path]));
  // New-format string offsets count from the start of the file (its header), so they include it.
  const base = NEW_HEADER + sorted.length * NEW_ENTRY;
  if (base + table.length > 0xffffffff) throw bad('the cache would be larger than 4 GiB');

  const out = Buffer.alloc(base + table.length);
  const u32 = (v: number, at: number) => (big ? out.writeUInt32BE(v >>> 0, at) : out.writeUInt32LE(v >>> 0, at));
  out.write(NEW_MAGIC, 0, 'latin1'); // magic "glibc-ld.so.cache" and version "1.1", no NUL
  u32(sorted.length, 20); // nlibs
  u32(table.length, 24); // len_strings
  out[28] = big ? ENDIAN_BIG : ENDIAN_LITTLE; // flags: ld.so rejects a cache marked with the other order
  // 29..31 padding, 32 extension_offset = 0 (none), 36..47 unused: all left zero.
  sorted.forEach((e, i) => {
    const o = NEW_HEADER + i * NEW_ENTRY;
    u32(e.flags, o);
    u32(base + offsets.get(e.key)!, o + 4);
    u32(base + offsets.get(e.path)!, o + 8);
    u32(0, o + 12); // osversion 0, no minimum kernel: ldconfig 2.36 writes 0 even for libc, whose ABI note says 3.2.0
    if (big) out.writeBigUInt64BE(e.hwcap ?? 0n, o + 16);
    else out.writeBigUInt64LE(e.hwcap ?? 0n, o + 16);
  });
  out.set(table, base);
  return out;
}
