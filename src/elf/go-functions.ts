// The function names of a Go program, from its pclntab (the `.gopclntab` section): the runtime
// needs them for tracebacks, so they survive `-ldflags=-s -w`. Header layouts of Go 1.16, 1.18 and
// 1.20 (runtime/symtab.go's pcHeader; debug/gosym/pclntab.go parsePclnTab).
import { ElfFormatError } from '../errors.js';
import type { ByteSource } from './byte-source.js';
import { readLayout, type Fields } from './layout.js';

const SHT_NOBITS = 8;
const SHN_XINDEX = 0xffff;
/** Section headers read at most (e_shnum is 16 bits; section 0 may hold a larger count). */
const MAX_SECTIONS = 1 << 16;
const MAX_SHSTRTAB_BYTES = 1 << 20;
/** The name table is read this much at a time: memory stays flat whatever the program's size. */
const CHUNK = 256 * 1024;
/** A longer name is cut here (generic instantiations run to a few KB): callers test prefixes. */
const MAX_NAME_BYTES = 64 * 1024;

const MAGIC: Record<number, GoPclntab['version']> = { 0xfffffffa: '1.16', 0xfffffff0: '1.18', 0xfffffff1: '1.20' };
const GO12_MAGIC = 0xfffffffb;

export interface GoPclntab {
  /** The first Go release whose layout this is: 1.16–1.17, 1.18–1.19, 1.20 and later. */
  version: '1.16' | '1.18' | '1.20';
  ptrSize: 4 | 8;
  /** How many functions the table lists (nfunc). */
  functions: number;
  /** The section's place in the file, and the name table's (funcnametab) inside it. */
  section: { name: string; offset: number; size: number };
  names: { offset: number; size: number };
}

/**
 * The section holding the pclntab: `.gopclntab`, or `.data.rel.ro.gopclntab` in some PIE builds
 * (cmd/internal/objfile/elf.go looks for both). Undefined when the file has neither: not Go.
 */
function findPclntabSection(src: ByteSource): { name: string; offset: number; size: number; f: Fields } | undefined {
  const { f, header, shoff, shentsize, shnum: headerShnum } = readLayout(src);
  let shnum = headerShnum;
  if (shoff === 0) return undefined;
  const want = f.is64 ? 64 : 40;
  if (shentsize !== want) throw new ElfFormatError('ELF_MALFORMED', `section header entry size is ${shentsize}, expected ${want}`);
  const first = src.read(shoff, want, 'section header 0');
  if (shnum === 0) shnum = f.addr(first, f.is64 ? 32 : 20); // e_shnum 0: the count is section 0's sh_size
  let shstrndx = f.u16(header, f.is64 ? 62 : 50);
  if (shstrndx === SHN_XINDEX) shstrndx = f.u32(first, f.is64 ? 40 : 24); // ...and e_shstrndx its sh_link
  if (!(shnum >= 0 && shnum <= MAX_SECTIONS)) throw new ElfFormatError('ELF_MALFORMED', `${shnum} section headers (more than ${MAX_SECTIONS})`);
  if (shstrndx === 0 || shstrndx >= shnum) return undefined; // no section names: nothing to find by name
  const table = src.read(shoff, shnum * want, `section headers (${shnum} entries)`);
  const at = (i: number) => i * want;
  const offsetOf = (o: number) => f.addr(table, o + (f.is64 ? 24 : 16));
  const sizeOf = (o: number) => f.addr(table, o + (f.is64 ? 32 : 20));
  const strOff = offsetOf(at(shstrndx));
  const strSize = Math.min(sizeOf(at(shstrndx)), MAX_SHSTRTAB_BYTES);
  if (!(strOff >= 0 && strSize >= 0 && strOff + strSize <= src.size)) throw new ElfFormatError('ELF_MALFORMED', 'the section name table lies outside the file');
  const names = src.read(strOff, strSize, 'section name table');
  for (let i = 1; i < shnum; i++) {
    const o = at(i);
    const nameAt = f.u32(table, o);
    if (nameAt >= names.length) continue;
    const end = names.indexOf(0, nameAt);
    const name = names.toString('latin1', nameAt, end < 0 ? names.length : end);
    if (name !== '.gopclntab' && name !== '.data.rel.ro.gopclntab') continue;
    if (f.u32(table, o + 4) === SHT_NOBITS) continue;
    const offset = offsetOf(o);
    const size = sizeOf(o);
    if (!(offset >= 0 && size >= 0 && offset + size <= src.size)) throw new ElfFormatError('ELF_MALFORMED', `${name} lies outside the file`);
    return { name, offset, size, f };
  }
  return undefined;
}

/**
 * The pclntab's header; undefined when the file has no pclntab section (not a Go program). A
 * table from before Go 1.16 is ELF_UNSUPPORTED: its names are not in a table of their own.
 */
export function readGoPclntab(src: ByteSource): GoPclntab | undefined {
  const sec = findPclntabSection(src);
  if (!sec) return undefined;
  const { f } = sec;
  if (sec.size < 8) throw new ElfFormatError('ELF_MALFORMED', `${sec.name} is ${sec.size} bytes, too short for a pclntab header`);
  const head = src.read(sec.offset, Math.min(sec.size, 8 + 8 * 8), `${sec.name} header`);
  const magic = f.u32(head, 0);
  const version = MAGIC[magic];
  if (!version) {
    if (magic === GO12_MAGIC) throw new ElfFormatError('ELF_UNSUPPORTED', `${sec.name} is Go 1.2–1.15's layout, whose function names elfpack does not read`);
    throw new ElfFormatError('ELF_MALFORMED', `${sec.name} does not start with a pclntab magic number (0x${magic.toString(16)})`);
  }
  const quantum = head[6];
  const ptrSize = head[7];
  if (head[4] !== 0 || head[5] !== 0 || (quantum !== 1 && quantum !== 2 && quantum !== 4) || (ptrSize !== 4 && ptrSize !== 8)) {
    throw new ElfFormatError('ELF_MALFORMED', `${sec.name} header has pad ${head[4]},${head[5]}, quantum ${quantum}, pointer size ${ptrSize}`);
  }
  // Words after the 8 bytes: nfunc, nfiles, [textStart since 1.18,] funcnameOffset, cuOffset, …
  const words = version === '1.16' ? 7 : 8;
  const headerSize = 8 + words * ptrSize;
  if (head.length < headerSize) throw new ElfFormatError('ELF_MALFORMED', `${sec.name} is ${sec.size} bytes, too short for its ${headerSize}-byte header`);
  const word = (i: number) => (ptrSize === 8 ? f.u64(head, 8 + i * 8) : f.u32(head, 8 + i * 4));
  const nameWord = version === '1.16' ? 2 : 3;
  const namesStart = word(nameWord);
  const namesEnd = word(nameWord + 1); // the CU table follows the name table (cmd/link/internal/ld/pcln.go)
  const functions = word(0);
  if (!(namesStart >= headerSize && namesEnd >= namesStart && namesEnd <= sec.size) || !Number.isFinite(functions)) {
    throw new ElfFormatError('ELF_MALFORMED', `${sec.name}'s function name table [${namesStart}, ${namesEnd}) lies outside its ${sec.size} bytes`);
  }
  return {
    version, ptrSize, functions,
    section: { name: sec.name, offset: sec.offset, size: sec.size },
    names: { offset: sec.offset + namesStart, size: namesEnd - namesStart },
  };
}

/**
 * Calls `visit` with each name of the table (NUL-terminated, in table order) until it returns
 * true; returns the name it stopped at. Names longer than 64 KB are cut there.
 */
export function findGoFunction(src: ByteSource, tab: GoPclntab, visit: (name: string) => boolean): string | undefined {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const take = (b: Buffer) => {
    if (pendingBytes >= MAX_NAME_BYTES) return;
    const part = b.subarray(0, MAX_NAME_BYTES - pendingBytes);
    pending.push(Buffer.from(part)); // a copy: the chunk it came from is read over next
    pendingBytes += part.length;
  };
  const scratch = Buffer.allocUnsafe(Math.min(CHUNK, tab.names.size));
  for (let done = 0; done < tab.names.size;) {
    const n = Math.min(CHUNK, tab.names.size - done);
    const b = src.readInto ? src.readInto(scratch, tab.names.offset + done, n, 'Go function names') : src.read(tab.names.offset + done, n, 'Go function names');
    done += n;
    let start = 0;
    for (let nul = b.indexOf(0, start); nul >= 0; nul = b.indexOf(0, start)) {
      let name: string;
      if (pending.length) {
        take(b.subarray(start, nul));
        name = Buffer.concat(pending).toString('utf8');
        pending = [];
        pendingBytes = 0;
      } else name = b.toString('utf8', start, Math.min(nul, start + MAX_NAME_BYTES));
      if (name && visit(name)) return name;
      start = nul + 1;
    }
    if (start < b.length) take(b.subarray(start));
  }
  return undefined;
}
