// readElf: the facts the loader acts on (PT_INTERP, the dynamic section, symbol versions),
// read with a few positioned reads. Layouts from the System V gABI and glibc's <elf.h>.
import { ElfFormatError } from '../errors.js';
import { decodeName, readScratch, type ByteSource } from './byte-source.js';
import {
  DF_1_NODEFLIB, DF_1_PIE, DT_FLAGS, DT_FLAGS_1, DT_NEEDED, DT_RPATH, DT_RUNPATH, DT_SONAME,
  DT_STRSZ, DT_STRTAB, DT_VERDEF, DT_VERDEFNUM, DT_VERNEED, DT_VERNEEDNUM,
  ET_DYN, ET_EXEC, ET_NAMES, PT_DYNAMIC, PT_INTERP,
} from './constants.js';
import { machineInfo, type MachineInfo } from './machines.js';
import { type Fields, forEachDynamicEntry, readLayout, vaddrToOffset, type Segment } from './layout.js';

export { isElfMagic } from './layout.js';

export type ElfKind = 'executable' | 'pie-executable' | 'static-executable' | 'static-pie' | 'shared-library' | 'other';

export interface VersionNeed {
  /** The library named by vn_file, e.g. libc.so.6. */
  file: string;
  /** The versions needed from it, e.g. GLIBC_2.34, in file order. */
  versions: string[];
  /** Those marked VER_FLG_WEAK: a library without them still loads. Absent when none. */
  weak?: string[];
}

export interface ElfFile {
  size: number;
  elfClass: 32 | 64;
  byteOrder: 'little' | 'big';
  osAbi: number;
  /** e_type as a number and as a name (EXEC, DYN…). */
  typeCode: number;
  type: string;
  machine: number;
  /** e_flags: the ARM float ABI and RISC-V float ABI live here. */
  flags: number;
  /** e_phnum: 0 for a relocatable object, and for a file the kernel refuses to run (load_elf_phdrs). */
  phnum: number;
  machineInfo?: MachineInfo;
  kind: ElfKind;
  interp?: string;
  /** True when the file has a PT_DYNAMIC segment. */
  dynamic: boolean;
  needed: string[];
  soname?: string;
  rpath?: string;
  runpath?: string;
  dtFlags: number;
  dtFlags1: number;
  nodeflib: boolean;
  /** Present when read with `versions: true` (the default). */
  versionNeeds?: VersionNeed[];
  versionDefs?: string[];
}

export interface ReadElfOptions {
  /** Read DT_VERNEED / DT_VERDEF too (default true); the resolver does not need them. */
  versions?: boolean;
}

const VER_FLG_WEAK = 0x2; // vna_flags
const MAX_INTERP = 4096; // PATH_MAX: the kernel refuses longer interpreters
const MAX_STRING = 65536; // longer than any real rpath; bounds the scan of an unterminated string
const MAX_VERSION_ENTRIES = 65536; // bounds a cyclic vn_next/vd_next chain
export function readElf(src: ByteSource, opts: ReadElfOptions = {}): ElfFile {
  const { f, header: eh, machine, segments, phnum } = readLayout(src);
  const is64 = f.is64;
  const typeCode = f.u16(eh, 16);
  const flags = f.u32(eh, is64 ? 48 : 36);
  const elf: ElfFile = {
    size: src.size,
    elfClass: is64 ? 64 : 32,
    byteOrder: f.le ? 'little' : 'big',
    osAbi: eh[7],
    typeCode,
    type: ET_NAMES[typeCode] ?? `0x${typeCode.toString(16)}`,
    machine,
    flags,
    phnum,
    machineInfo: machineInfo({ machine, elfClass: eh[4], data: eh[5], flags }),
    kind: 'other',
    dynamic: false,
    needed: [],
    dtFlags: 0,
    dtFlags1: 0,
    nodeflib: false,
  };

  let interpSeg: Segment | undefined, dynSeg: Segment | undefined;
  for (let i = 0; i < segments.length; i++) {
    const t = segments[i].type;
    if (t === PT_INTERP) interpSeg ??= segments[i];
    else if (t === PT_DYNAMIC) dynSeg ??= segments[i];
  }
  if (interpSeg) elf.interp = readInterp(src, interpSeg);
  if (dynSeg) {
    elf.dynamic = true;
    readDynamic(src, f, dynSeg, segments, elf, opts.versions !== false);
  }
  elf.kind = kindOf(elf);
  return elf;
}

function kindOf(elf: ElfFile): ElfKind {
  const pie = (elf.dtFlags1 & DF_1_PIE) !== 0;
  if (elf.typeCode === ET_EXEC) return elf.interp ? 'executable' : 'static-executable';
  if (elf.typeCode !== ET_DYN) return 'other';
  // A PIE carries DF_1_PIE (binutils ≥ 2.31); libc.so.6 has an interpreter too but no DF_1_PIE
  // and a SONAME. An old PIE has neither flag nor SONAME.
  if (elf.interp) return pie || !elf.soname ? 'pie-executable' : 'shared-library';
  // A static-pie carries DF_1_PIE but no interpreter; a library has neither.
  return pie ? 'static-pie' : 'shared-library';
}

/** PT_INTERP's path: NUL-terminated, at most PATH_MAX bytes; decoded as every name is (decodeName). */
function readInterp(src: ByteSource, seg: Segment): string {
  if (!(seg.filesz > 0) || seg.filesz > MAX_INTERP) {
    throw new ElfFormatError('ELF_MALFORMED', `PT_INTERP size ${seg.filesz} is out of range (1..${MAX_INTERP})`);
  }
  const b = src.read(seg.offset, seg.filesz, 'PT_INTERP');
  const nul = b.indexOf(0);
  if (nul < 0) throw new ElfFormatError('ELF_MALFORMED', 'PT_INTERP is not NUL-terminated');
  if (nul === 0) throw new ElfFormatError('ELF_MALFORMED', 'PT_INTERP is empty');
  return decodeName(b, 0, nul);
}

function readDynamic(src: ByteSource, f: Fields, seg: Segment, segments: Segment[], elf: ElfFile, versions: boolean): void {
  const neededOffs: number[] = [];
  let strtab = -1, strsz = -1, soname = -1, rpath = -1, runpath = -1;
  let verneed = -1, verneedNum = 0, verdef = -1, verdefNum = 0;
  forEachDynamicEntry(src, f, seg, (tag, val) => {
    switch (tag) {
      case DT_NEEDED: neededOffs.push(val); break;
      case DT_STRTAB: strtab = val; break;
      case DT_STRSZ: strsz = val; break;
      case DT_SONAME: soname = val; break;
      case DT_RPATH: rpath = val; break;
      case DT_RUNPATH: runpath = val; break;
      case DT_FLAGS: elf.dtFlags = val >>> 0; break;
      case DT_FLAGS_1: elf.dtFlags1 = val >>> 0; break;
      case DT_VERNEED: verneed = val; break;
      case DT_VERNEEDNUM: verneedNum = val; break;
      case DT_VERDEF: verdef = val; break;
      case DT_VERDEFNUM: verdefNum = val; break;
    }
  });
  elf.nodeflib = (elf.dtFlags1 & DF_1_NODEFLIB) !== 0;
  const usesStrings = neededOffs.length > 0 || soname >= 0 || rpath >= 0 || runpath >= 0 || verneed >= 0 || verdef >= 0;
  if (!usesStrings) return;
  if (strtab < 0 || !(strsz >= 0)) throw new ElfFormatError('ELF_MALFORMED', 'dynamic section has names but no DT_STRTAB/DT_STRSZ');
  const strings = new StringTable(src, vaddrToOffset(segments, strtab, 'DT_STRTAB'), strsz);
  neededOffs.push(soname, rpath, runpath);
  strings.prefetch(neededOffs);
  neededOffs.length -= 3;
  const needed: string[] = [];
  for (let i = 0; i < neededOffs.length; i++) needed.push(strings.get(neededOffs[i], 'DT_NEEDED'));
  elf.needed = needed;
  if (soname >= 0) elf.soname = strings.get(soname, 'DT_SONAME');
  if (rpath >= 0) elf.rpath = strings.get(rpath, 'DT_RPATH');
  if (runpath >= 0) elf.runpath = strings.get(runpath, 'DT_RUNPATH');
  if (!versions) return;
  strings.remember();
  elf.versionNeeds = verneed >= 0 ? readVersionNeeds(src, f, vaddrToOffset(segments, verneed, 'DT_VERNEED'), verneedNum, strings) : [];
  elf.versionDefs = verdef >= 0 ? readVersionDefs(src, f, vaddrToOffset(segments, verdef, 'DT_VERDEF'), verdefNum, strings) : [];
}

/** Elf_Verneed (16 bytes) chains, each with Elf_Vernaux (16 bytes) entries; same layout in both classes. */
function readVersionNeeds(src: ByteSource, f: Fields, offset: number, count: number, strings: StringTable): VersionNeed[] {
  const out: VersionNeed[] = [];
  let budget = MAX_VERSION_ENTRIES;
  const seen = new Set<number>(); // a vn_next/vna_next that points back is a loop, not a long list
  const visit = (o: number) => {
    if (seen.has(o) || --budget < 0) throw new ElfFormatError('ELF_MALFORMED', 'version needs loop back on themselves or do not end');
    seen.add(o);
  };
  let at = offset;
  for (let i = 0; i < count; i++) {
    visit(at);
    const vn = src.read(at, 16, 'version need entry');
    const cnt = f.u16(vn, 2);
    const need: VersionNeed = { file: strings.get(f.u32(vn, 4), 'version need file'), versions: [] };
    let aux = at + f.u32(vn, 8);
    for (let j = 0; j < cnt; j++) {
      visit(aux);
      const a = src.read(aux, 16, 'version need aux entry');
      const name = strings.get(f.u32(a, 8), 'version need name');
      need.versions.push(name);
      if (f.u16(a, 4) & VER_FLG_WEAK) (need.weak ??= []).push(name);
      const next = f.u32(a, 12);
      if (next === 0) break;
      aux += next;
    }
    out.push(need);
    const next = f.u32(vn, 12);
    if (next === 0) break;
    at += next;
  }
  return out;
}

/** Elf_Verdef (20 bytes) chains; the first Elf_Verdaux (8 bytes) of each names the version. */
function readVersionDefs(src: ByteSource, f: Fields, offset: number, count: number, strings: StringTable): string[] {
  const out: string[] = [];
  const seen = new Set<number>();
  let at = offset;
  for (let i = 0; i < count; i++) {
    if (seen.has(at) || seen.size >= MAX_VERSION_ENTRIES) throw new ElfFormatError('ELF_MALFORMED', 'version definitions loop back on themselves or do not end');
    seen.add(at);
    const vd = src.read(at, 20, 'version definition entry');
    if (f.u16(vd, 6) > 0) {
      const aux = src.read(at + f.u32(vd, 12), 8, 'version definition aux entry');
      out.push(strings.get(f.u32(aux, 0), 'version definition name'));
    }
    const next = f.u32(vd, 16);
    if (next === 0) break;
    at += next;
  }
  return out;
}

/** Bytes read at once to answer several names (the DT_NEEDED strings usually lie close together). */
const PREFETCH_BYTES = 16384;
/** The prefetch window's bytes: strings are copied out of it, and one file is read at a time. */
const PREFETCH_SCRATCH = Buffer.allocUnsafe(PREFETCH_BYTES);

/** The dynamic string table, read lazily in small windows: a large .dynstr costs only the strings we ask for. */
class StringTable {
  /** Strings read so far, once version entries are read (they name the same few strings again and again). */
  private cache?: Map<number, string>;
  private window?: Buffer;
  private windowStart = 0;
  constructor(private src: ByteSource, private offset: number, private size: number) {}

  remember(): void {
    this.cache ??= new Map();
  }

  /** Reads the span holding the strings at `indices` (negative ones ignored) at once, when it is small. */
  prefetch(indices: number[]): void {
    let lo = Infinity, hi = -1;
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k];
      if (!(i >= 0) || i >= this.size) continue;
      if (i < lo) lo = i;
      if (i > hi) hi = i;
    }
    if (hi < 0) return;
    const end = Math.min(hi + 256, this.size, this.src.size - this.offset);
    if (end <= lo || end - lo > PREFETCH_BYTES) return;
    this.window = readScratch(this.src, PREFETCH_SCRATCH, this.offset + lo, end - lo, 'dynamic string table');
    this.windowStart = lo;
  }

  get(index: number, what: string): string {
    const hit = this.cache?.get(index);
    if (hit !== undefined) return hit;
    if (!(index >= 0) || index >= this.size) {
      throw new ElfFormatError('ELF_MALFORMED', `${what} string offset ${index} is outside the string table (size ${this.size})`);
    }
    const w = this.window;
    if (w && index >= this.windowStart) {
      const at = index - this.windowStart;
      const nul = at < w.length ? w.indexOf(0, at) : -1;
      if (nul >= 0) {
        const s = decodeName(w, at, nul);
        this.cache?.set(index, s);
        return s;
      }
    }
    const limit = Math.min(this.size - index, MAX_STRING, this.src.size - (this.offset + index));
    if (!(limit > 0)) throw new ElfFormatError('ELF_TRUNCATED', `${what} string lies past the end of the file`);
    let window = Math.min(256, limit);
    for (;;) {
      const b = this.src.read(this.offset + index, window, `${what} string`);
      const nul = b.indexOf(0);
      if (nul >= 0) {
        const s = decodeName(b, 0, nul);
        this.cache?.set(index, s);
        return s;
      }
      if (window >= limit) {
        if (limit === this.src.size - (this.offset + index)) throw new ElfFormatError('ELF_TRUNCATED', `${what} string at offset ${index} runs past the end of the file`);
        throw new ElfFormatError('ELF_MALFORMED', `${what} string at offset ${index} is not NUL-terminated`);
      }
      window = Math.min(window * 4, limit);
    }
  }
}
