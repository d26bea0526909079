// The ELF header, program headers and dynamic entries as positioned reads, for readers that need
// more than ElfFile keeps (read-symbols.ts). Layouts from the System V gABI and glibc's <elf.h>.
import { ElfFormatError } from '../errors.js';
import { readScratch, type ByteSource } from './byte-source.js';
import { DT_NULL, ELFCLASS32, ELFCLASS64, ELFDATA2LSB, ELFDATA2MSB, PT_DYNAMIC, PT_INTERP, PT_LOAD, PT_NOTE } from './constants.js';

const DYN_CHUNK = 4096;
const DYN_SCRATCH = Buffer.allocUnsafe(DYN_CHUNK);

export interface Segment {
  type: number;
  offset: number;
  vaddr: number;
  filesz: number;
  /** p_align: a PT_NOTE segment aligned to 8 pads its notes to 8 bytes (.note.gnu.property). */
  align: number;
}

/**
 * Little/big-endian fixed-width reads; 64-bit values become numbers, or NaN when not exactly
 * representable. The bytes are combined here rather than through Buffer's readUInt32LE & co.:
 * those validate their argument in JavaScript, and a reader that runs once per file over
 * thousands of files runs mostly before the optimizing compiler has seen it, where every call
 * counts. One class per byte order, so no read branches on it.
 */
export abstract class Fields {
  constructor(readonly le: boolean, readonly is64: boolean) {}
  abstract u16(b: Uint8Array, o: number): number;
  abstract u32(b: Uint8Array, o: number): number;
  abstract u64(b: Uint8Array, o: number): number;
  /** An address or offset: 4 bytes in ELF32, 8 in ELF64. */
  addr(b: Uint8Array, o: number): number {
    return this.is64 ? this.u64(b, o) : this.u32(b, o);
  }
}

class LittleEndianFields extends Fields {
  u16(b: Uint8Array, o: number): number {
    return b[o] | (b[o + 1] << 8);
  }
  u32(b: Uint8Array, o: number): number {
    return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
  }
  u64(b: Uint8Array, o: number): number {
    const hi = this.u32(b, o + 4);
    return hi < 0x200000 ? hi * 0x100000000 + this.u32(b, o) : NaN;
  }
}

class BigEndianFields extends Fields {
  u16(b: Uint8Array, o: number): number {
    return (b[o] << 8) | b[o + 1];
  }
  u32(b: Uint8Array, o: number): number {
    return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
  }
  u64(b: Uint8Array, o: number): number {
    const hi = this.u32(b, o);
    return hi < 0x200000 ? hi * 0x100000000 + this.u32(b, o + 4) : NaN;
  }
}

const FIELDS = [new LittleEndianFields(true, false), new LittleEndianFields(true, true), new BigEndianFields(false, false), new BigEndianFields(false, true)];

export interface ElfLayout {
  f: Fields;
  /** The ELF header's bytes (valid until the source is closed): e_type, e_flags, EI_OSABI… */
  header: Buffer;
  machine: number;
  /** PT_LOAD, PT_DYNAMIC, PT_INTERP and PT_NOTE only, in file order. */
  segments: Segment[];
  /** e_phnum: how many program headers there are, of any type. */
  phnum: number;
  /** e_shoff, e_shentsize, e_shnum as the header states them (e_shnum 0 may mean "see section 0"). */
  shoff: number;
  shentsize: number;
  shnum: number;
}

/** The identification bytes → a reader of the file's fields; NOT_ELF or ELF_UNSUPPORTED otherwise. */
export function fieldsOf(ident: Buffer): Fields {
  if (!isElfMagic(ident)) throw new ElfFormatError('NOT_ELF', 'not an ELF file');
  const cls = ident[4];
  const data = ident[5];
  if (cls !== ELFCLASS32 && cls !== ELFCLASS64) throw new ElfFormatError('ELF_UNSUPPORTED', `unknown ELF class ${cls}`);
  if (data !== ELFDATA2LSB && data !== ELFDATA2MSB) throw new ElfFormatError('ELF_UNSUPPORTED', `unknown ELF byte order ${data}`);
  return FIELDS[(data === ELFDATA2LSB ? 0 : 2) + (cls === ELFCLASS64 ? 1 : 0)];
}

/**
 * Reads and checks the identification, header and program headers; `maxPhnum` refuses a file
 * claiming more program headers than a caller cares to read.
 */
export function readLayout(src: ByteSource, opts: { maxPhnum?: number } = {}): ElfLayout {
  if (src.size < 16) {
    if (src.size >= 4 && isElfMagic(src.read(0, 4, 'ELF magic'))) throw new ElfFormatError('ELF_TRUNCATED', 'truncated ELF header');
    throw new ElfFormatError('NOT_ELF', 'not an ELF file');
  }
  // One read for the identification and the header (64 bytes is the larger, ELF64's).
  const eh = src.read(0, Math.min(src.size, 64), 'ELF header');
  const f = fieldsOf(eh);
  const is64 = f.is64;
  const ehsize = is64 ? 64 : 52;
  if (src.size < ehsize) throw new ElfFormatError('ELF_TRUNCATED', `truncated ELF header (${src.size} of ${ehsize} bytes)`);
  const phoff = f.addr(eh, is64 ? 32 : 28);
  const shoff = f.addr(eh, is64 ? 40 : 32);
  const phentsize = f.u16(eh, is64 ? 54 : 42);
  const phnum = f.u16(eh, is64 ? 56 : 44);
  checkProgramHeaderCount(phnum, is64);
  if (opts.maxPhnum !== undefined && phnum > opts.maxPhnum) {
    throw new ElfFormatError('ELF_MALFORMED', `${phnum} program headers (more than ${opts.maxPhnum})`);
  }
  return {
    f,
    header: eh,
    machine: f.u16(eh, 18),
    segments: readSegments(src, f, phoff, phentsize, phnum),
    phnum,
    shoff,
    shentsize: f.u16(eh, is64 ? 58 : 46),
    shnum: f.u16(eh, is64 ? 60 : 48),
  };
}

export function isElfMagic(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
}

/** e_phnum's escape value: the real count would be in section header 0's sh_info (core files only). */
const PN_XNUM = 0xffff;
/** The kernel reads at most 64 KiB of program headers (fs/binfmt_elf.c, load_elf_phdrs). */
const MAX_PHDR_BYTES = 65536;

/**
 * Refuses program headers no loader would take. PN_XNUM moves the count into section header 0, but
 * only core files do that: ld.so never reads section headers, and the kernel refuses a program
 * (or interpreter) whose program headers exceed 64 KiB, which 0xffff entries do in either class.
 * We apply the kernel's bound to every file, libraries too: ld.so has none, but a library with
 * over a thousand program headers is damaged, not real.
 */
function checkProgramHeaderCount(phnum: number, is64: boolean): void {
  if (phnum === PN_XNUM) {
    throw new ElfFormatError('ELF_MALFORMED', 'e_phnum is PN_XNUM (0xffff), which only core files use: neither the kernel nor ld.so reads the real count from section header 0');
  }
  const bytes = phnum * (is64 ? 56 : 32);
  if (bytes > MAX_PHDR_BYTES) {
    throw new ElfFormatError('ELF_MALFORMED', `${phnum} program headers (${bytes} bytes) exceed the kernel's 64 KiB limit`);
  }
}

export function readSegments(src: ByteSource, f: Fields, phoff: number, phentsize: number, phnum: number): Segment[] {
  if (phnum === 0) return [];
  const want = f.is64 ? 56 : 32;
  if (phentsize !== want) {
    throw new ElfFormatError('ELF_MALFORMED', `program header entry size is ${phentsize}, expected ${want}`);
  }
  // read() checks phoff + phnum*phentsize against the file size before allocating.
  const table = src.read(phoff, phnum * phentsize, `program headers (${phnum} entries)`);
  const segs: Segment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = i * phentsize;
    const type = f.u32(table, o);
    if (type !== PT_LOAD && type !== PT_DYNAMIC && type !== PT_INTERP && type !== PT_NOTE) continue;
    segs.push(f.is64
      ? { type, offset: f.u64(table, o + 8), vaddr: f.u64(table, o + 16), filesz: f.u64(table, o + 32), align: f.u64(table, o + 48) }
      : { type, offset: f.u32(table, o + 4), vaddr: f.u32(table, o + 8), filesz: f.u32(table, o + 16), align: f.u32(table, o + 28) });
  }
  return segs;
}

/** Virtual address → file offset through the PT_LOAD segment that maps it. */
export function vaddrToOffset(segments: Segment[], vaddr: number, what: string): number {
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i];
    if (s.type === PT_LOAD && vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz) return s.offset + (vaddr - s.vaddr);
  }
  throw new ElfFormatError('ELF_MALFORMED', `${what} address 0x${vaddr.toString(16)} is not in any PT_LOAD segment`);
}

/**
 * Calls `visit` for each dynamic entry up to DT_NULL. Tags that do not fit in 32 bits become -1
 * (none we use does); values become NaN when not exactly representable.
 */
export function forEachDynamicEntry(src: ByteSource, f: Fields, seg: Segment, visit: (tag: number, value: number) => void): void {
  const entsize = f.is64 ? 16 : 8;
  const total = Math.floor(seg.filesz / entsize);
  // Chunked, so a dynamic segment that claims to be huge costs nothing until read; a real one
  // (a few hundred bytes) is one read.
  for (let start = 0; start < total; start += DYN_CHUNK / entsize) {
    const count = Math.min(DYN_CHUNK / entsize, total - start);
    const b = readScratch(src, DYN_SCRATCH, seg.offset + start * entsize, count * entsize, 'dynamic section');
    for (let i = 0; i < count; i++) {
      const o = i * entsize;
      const tag = f.is64 ? (f.u32(b, f.le ? o + 4 : o) === 0 ? f.u32(b, f.le ? o : o + 4) : -1) : f.u32(b, o);
      if (tag === DT_NULL) return;
      visit(tag, f.addr(b, o + entsize / 2));
    }
  }
  throw new ElfFormatError('ELF_MALFORMED', 'dynamic section has no DT_NULL terminator');
}
