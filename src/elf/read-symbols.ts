// readDynamicSymbols: the names a file imports and exports, from the dynamic symbol table found
// through PT_DYNAMIC (DT_SYMTAB, DT_STRTAB, DT_HASH / DT_GNU_HASH), never .symtab, which is huge
// in Go binaries. Layouts from the System V gABI ("Symbol Table", "Hash Table") and glibc's
// elf/dl-lookup.c (DT_GNU_HASH); the symbol count as binutils readelf finds it, plus one fallback
// readelf lacks (an empty DT_GNU_HASH and no section headers).
import { ElfFormatError } from '../errors.js';
import { decodeName, type ByteSource } from './byte-source.js';
import {
  DT_GNU_HASH, DT_HASH, DT_INIT, DT_JMPREL, DT_MIPS_SYMTABNO, DT_PLTGOT, DT_REL, DT_RELA, DT_RELR, DT_STRSZ, DT_STRTAB,
  DT_SYMENT, DT_SYMTAB, DT_VERDEF, DT_VERNEED, DT_VERSYM, EM_ALPHA, EM_MIPS, EM_S390, EM_S390_OLD, PT_DYNAMIC, PT_LOAD,
  SHN_UNDEF, SHT_DYNSYM, STB_GLOBAL, STB_GNU_UNIQUE, STB_LOCAL, STB_WEAK, STV_HIDDEN, STV_INTERNAL,
} from './constants.js';
import { forEachDynamicEntry, readLayout, vaddrToOffset, type ElfLayout } from './layout.js';
import type { ElfFile } from './read-elf.js';

export interface DynamicSymbols {
  /** Undefined (SHN_UNDEF), non-local, named: what the file expects another object to provide. File order, no duplicates. */
  imports: string[];
  /** Defined global, weak or GNU-unique, not hidden or internal: what other objects can bind to. Empty with `exports: false`. */
  exports: string[];
}

export interface ReadSymbolsOptions {
  /**
   * Decode exported names too (default true). A cgo program can export 100,000+
   * names (dockerd: 170k, ~250 ms to decode); a caller that needs only imports passes false.
   */
  exports?: boolean;
}

const SYM_CHUNK = 4096; // symbols read at once: .dynsym is walked through one reused buffer
const WHOLE_STRTAB = 65536; // a .dynstr up to this size is read at once; a larger one name by name (unless exports are wanted)
const GNU_CHAIN_CHUNK = 256;
/** Tables GNU ld and lld place after .dynsym (.dynstr, .gnu.version, relocations…). */
const LATER_TABLES = [DT_STRTAB, DT_VERSYM, DT_VERNEED, DT_VERDEF, DT_HASH, DT_GNU_HASH, DT_RELA, DT_REL, DT_JMPREL, DT_RELR, DT_INIT, DT_PLTGOT];

/**
 * Reads .dynsym through the dynamic section. Names are plain (versions live in .gnu.version).
 * `elf`, when given, saves all reads for a file without PT_DYNAMIC. A static file gives empty lists.
 */
export function readDynamicSymbols(src: ByteSource, elf?: ElfFile, opts: ReadSymbolsOptions = {}): DynamicSymbols {
  if (elf && !elf.dynamic) return { imports: [], exports: [] };
  const layout = readLayout(src);
  const { f, segments } = layout;
  const dynSeg = segments.find((s) => s.type === PT_DYNAMIC);
  if (!dynSeg) return { imports: [], exports: [] };
  const tags = new Map<number, number>();
  forEachDynamicEntry(src, f, dynSeg, (tag, val) => {
    if (!tags.has(tag)) tags.set(tag, val);
  });
  const symtab = tags.get(DT_SYMTAB);
  if (symtab === undefined) return { imports: [], exports: [] };
  const strtab = tags.get(DT_STRTAB);
  const strsz = tags.get(DT_STRSZ);
  if (strtab === undefined || strsz === undefined) throw new ElfFormatError('ELF_MALFORMED', 'dynamic section has DT_SYMTAB but no DT_STRTAB/DT_STRSZ');
  const entsize = f.is64 ? 24 : 16;
  const syment = tags.get(DT_SYMENT) ?? entsize;
  if (syment !== entsize) throw new ElfFormatError('ELF_MALFORMED', `DT_SYMENT is ${syment}, expected ${entsize}`);

  const symOff = vaddrToOffset(segments, symtab, 'DT_SYMTAB');
  const count = symbolCount(src, layout, tags, symtab, entsize);
  // Both checked before any read: sizes from the file are never trusted or allocated unchecked.
  if (!(count >= 0) || symOff + count * entsize > src.size) {
    throw new ElfFormatError('ELF_MALFORMED', `dynamic symbol count ${count} needs ${count * entsize} bytes at offset ${symOff}, more than the file holds (${src.size} bytes)`);
  }
  const strOff = vaddrToOffset(segments, strtab, 'DT_STRTAB');
  if (!(strsz >= 0) || strOff + strsz > src.size) {
    throw new ElfFormatError('ELF_MALFORMED', `DT_STRSZ ${strsz} at offset ${strOff} is more than the file holds (${src.size} bytes)`);
  }
  const wantExports = opts.exports !== false;
  const names = new DynamicStrings(src, strOff, strsz, wantExports || strsz <= WHOLE_STRTAB);

  const imports = new Set<string>();
  const exports = new Set<string>();
  const infoAt = f.is64 ? 4 : 12; // st_info, st_other, st_shndx follow each other in both classes
  const buf = src.readInto ? Buffer.allocUnsafe(Math.min(count, SYM_CHUNK) * entsize) : undefined;
  for (let first = 0; first < count; first += SYM_CHUNK) {
    const n = Math.min(SYM_CHUNK, count - first);
    const at = symOff + first * entsize;
    const syms = buf ? src.readInto!(buf, at, n * entsize, 'dynamic symbol table') : src.read(at, n * entsize, 'dynamic symbol table');
    for (let i = first === 0 ? 1 : 0; i < n; i++) { // symbol 0 is the reserved null symbol
      const o = i * entsize;
      const nameOff = f.u32(syms, o);
      if (nameOff === 0) continue;
      const bind = syms[o + infoAt] >> 4;
      const vis = syms[o + infoAt + 1] & 3;
      const shndx = f.u16(syms, o + infoAt + 2);
      if (shndx === SHN_UNDEF) {
        if (bind !== STB_LOCAL) imports.add(names.get(nameOff, first + i));
      } else if (wantExports && (bind === STB_GLOBAL || bind === STB_WEAK || bind === STB_GNU_UNIQUE) && vis !== STV_HIDDEN && vis !== STV_INTERNAL) {
        exports.add(names.get(nameOff, first + i));
      }
    }
  }
  return { imports: [...imports], exports: [...exports] };
}

/** .dynstr (size checked against the file), read whole, or one small read per name when most names are not wanted. */
class DynamicStrings {
  private whole?: Buffer;
  constructor(private src: ByteSource, private offset: number, private size: number, readWhole: boolean) {
    if (readWhole) this.whole = src.read(offset, size, 'dynamic string table');
  }

  get(off: number, sym: number): string {
    if (off >= this.size) {
      throw new ElfFormatError('ELF_MALFORMED', `dynamic symbol ${sym}: name offset ${off} is outside the string table (DT_STRSZ ${this.size})`);
    }
    for (let window = 256; ; window *= 4) {
      const len = Math.min(window, this.size - off);
      const b = this.whole ? this.whole.subarray(off, off + len) : this.src.read(this.offset + off, len, 'dynamic symbol name');
      const nul = b.indexOf(0);
      if (nul >= 0) return decodeName(b, 0, nul);
      if (len === this.size - off) {
        throw new ElfFormatError('ELF_MALFORMED', `dynamic symbol ${sym}: name at string offset ${off} is not NUL-terminated within DT_STRSZ`);
      }
    }
  }
}

/**
 * The number of .dynsym entries: DT_HASH's nchain, else the end of DT_GNU_HASH's last chain, else
 * DT_MIPS_SYMTABNO, else the SHT_DYNSYM section header.
 */
function symbolCount(src: ByteSource, layout: ElfLayout, tags: Map<number, number>, symtab: number, entsize: number): number {
  const { f, segments, machine } = layout;
  const hash = tags.get(DT_HASH);
  if (hash !== undefined) {
    // Alpha and 64-bit s390 use 8-byte hash words (glibc's Elf_Symndx); everyone else 4.
    const wide = f.is64 && (machine === EM_ALPHA || machine === EM_S390 || machine === EM_S390_OLD);
    const h = src.read(vaddrToOffset(segments, hash, 'DT_HASH'), wide ? 16 : 8, 'DT_HASH header');
    return wide ? f.u64(h, 8) : f.u32(h, 4);
  }
  const gnuHash = tags.get(DT_GNU_HASH);
  const fromGnuHash = gnuHash === undefined ? undefined : gnuHashCount(src, layout, vaddrToOffset(segments, gnuHash, 'DT_GNU_HASH'));
  if (fromGnuHash !== undefined) return fromGnuHash;
  const mipsCount = machine === EM_MIPS ? tags.get(DT_MIPS_SYMTABNO) : undefined;
  if (mipsCount !== undefined) return mipsCount;
  const fromSections = dynsymSectionCount(src, layout);
  if (fromSections !== undefined) return fromSections;
  if (gnuHash !== undefined) {
    // An empty DT_GNU_HASH (a program that exports nothing) and no section headers: readelf gives
    // up here. The table runs to the next table ld placed after it, or the end of its segment.
    const seg = segments.find((s) => s.type === PT_LOAD && symtab >= s.vaddr && symtab < s.vaddr + s.filesz)!;
    let end = seg.vaddr + seg.filesz;
    for (const t of LATER_TABLES) {
      const v = tags.get(t);
      if (v !== undefined && v > symtab && v < end) end = v;
    }
    return Math.floor((end - symtab) / entsize);
  }
  throw new ElfFormatError('ELF_MALFORMED', 'dynamic symbol table has no count: no DT_HASH, DT_GNU_HASH or SHT_DYNSYM section');
}

/**
 * DT_GNU_HASH hashes only symbols from symoffset on, grouped by bucket; the highest index any bucket
 * starts at begins the last chain, whose final entry (bit 0 set) is the last symbol. Undefined when
 * nothing is hashed: ld then writes a token table (one empty bucket, symoffset 1) that says nothing.
 */
function gnuHashCount(src: ByteSource, { f }: ElfLayout, off: number): number | undefined {
  const h = src.read(off, 16, 'DT_GNU_HASH header');
  const nbuckets = f.u32(h, 0);
  const symoffset = f.u32(h, 4);
  const bucketsOff = off + 16 + f.u32(h, 8) * (f.is64 ? 8 : 4); // past the bloom filter of ELFCLASS-sized words
  const buckets = src.read(bucketsOff, nbuckets * 4, `DT_GNU_HASH buckets (${nbuckets})`);
  let last = 0;
  for (let i = 0; i < nbuckets; i++) last = Math.max(last, f.u32(buckets, i * 4));
  if (last === 0 || last < symoffset) return undefined;
  let at = bucketsOff + nbuckets * 4 + (last - symoffset) * 4;
  for (;;) {
    const n = Math.min(GNU_CHAIN_CHUNK, src.size - at);
    if (!(n >= 4)) throw new ElfFormatError('ELF_MALFORMED', `DT_GNU_HASH chain at symbol ${last} runs past the end of the file`);
    const b = src.read(at, n - (n % 4), 'DT_GNU_HASH chain');
    for (let o = 0; o < b.length; o += 4, last++) if (f.u32(b, o) & 1) return last + 1;
    at += b.length;
  }
}
/** sh_size / sh_entsize of the SHT_DYNSYM section, when the file still has section headers. */
function dynsymSectionCount(src: ByteSource, { f, shoff, shentsize, shnum }: ElfLayout): number | undefined {
  if (shoff === 0) return undefined;
  const want = f.is64 ? 64 : 40;
  if (shentsize !== want) throw new ElfFormatError('ELF_MALFORMED', `section header entry size is ${shentsize}, expected ${want}`);
  // e_shnum 0 with section headers present: the count is section 0's sh_size.
  if (shnum === 0) shnum = f.addr(src.read(shoff, want, 'section header 0'), f.is64 ? 32 : 20);
  const table = src.read(shoff, shnum * want, `section headers (${shnum} entries)`);
  for (let o = 0; o < table.length; o += want) {
    if (f.u32(table, o + 4) !== SHT_DYNSYM) continue;
    const size = f.addr(table, o + (f.is64 ? 32 : 20));
    const entsize = f.addr(table, o + (f.is64 ? 56 : 36));
    if (!(entsize > 0)) throw new ElfFormatError('ELF_MALFORMED', `the SHT_DYNSYM section has entry size ${entsize}`);
    return Math.floor(size / entsize);
  }
  return undefined;
}
