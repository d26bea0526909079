// Tiny ELF files built byte by byte, for tests that need a header or a dynamic section no compiler
// makes: other classes, byte orders and machines, empty or hostile names (control characters,
// bytes that are not UTF-8). Layout: ELF header | program headers | PT_INTERP | .dynstr | .dynamic,
// one PT_LOAD mapping the whole file at address 0.

export interface ElfSpec {
  /** ELFCLASS: 32 or 64 (default 64). */
  bits?: 32 | 64;
  /** Byte order (default little-endian). */
  bigEndian?: boolean;
  /** e_machine (default EM_X86_64). */
  machine?: number;
  /** e_flags (default 0). */
  flags?: number;
  /** e_type (default ET_DYN). */
  type?: number;
  osAbi?: number;
  interp?: string | Buffer;
  /** With a dynamic section (default: when any of the dynamic fields below is given). */
  dynamic?: boolean;
  needed?: (string | Buffer)[];
  soname?: string | Buffer;
  rpath?: string | Buffer;
  runpath?: string | Buffer;
  flags1?: number;
}

const PT_LOAD = 1, PT_DYNAMIC = 2, PT_INTERP = 3;
const DT_NEEDED = 1, DT_STRTAB = 5, DT_STRSZ = 10, DT_SONAME = 14, DT_RPATH = 15, DT_RUNPATH = 29, DT_FLAGS_1 = 0x6ffffffb;

function bytes(s: string | Buffer): Buffer {
  return typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
}

export function buildElf(spec: ElfSpec): Buffer {
  const is64 = (spec.bits ?? 64) === 64;
  const be = !!spec.bigEndian;
  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  const dynamic = spec.dynamic ?? (spec.needed !== undefined || spec.soname !== undefined || spec.rpath !== undefined || spec.runpath !== undefined || spec.flags1 !== undefined);

  // .dynstr: a leading NUL, then each string once per use.
  const strs: Buffer[] = [Buffer.alloc(1)];
  let strsz = 1;
  const addString = (s: string | Buffer) => {
    const b = Buffer.concat([bytes(s), Buffer.alloc(1)]);
    strs.push(b);
    strsz += b.length;
    return strsz - b.length;
  };
  const dyn: [number, number][] = [];
  for (const n of spec.needed ?? []) dyn.push([DT_NEEDED, addString(n)]);
  if (spec.soname !== undefined) dyn.push([DT_SONAME, addString(spec.soname)]);
  if (spec.rpath !== undefined) dyn.push([DT_RPATH, addString(spec.rpath)]);
  if (spec.runpath !== undefined) dyn.push([DT_RUNPATH, addString(spec.runpath)]);
  if (spec.flags1 !== undefined) dyn.push([DT_FLAGS_1, spec.flags1]);

  const phnum = 1 + (spec.interp !== undefined ? 1 : 0) + (dynamic ? 1 : 0);
  const interp = spec.interp !== undefined ? Buffer.concat([bytes(spec.interp), Buffer.alloc(1)]) : Buffer.alloc(0);
  const interpAt = ehsize + phnum * phentsize;
  const strAt = interpAt + interp.length;
  const dynAt = Math.ceil((strAt + strsz) / 8) * 8;
  const entsize = is64 ? 16 : 8;
  const dynEntries = dynamic ? [...dyn, [DT_STRTAB, strAt], [DT_STRSZ, strsz], [0, 0]] : [];
  const size = dynAt + dynEntries.length * entsize;
  const b = Buffer.alloc(size);

  const u16 = (v: number, o: number) => (be ? b.writeUInt16BE(v, o) : b.writeUInt16LE(v, o));
  const u32 = (v: number, o: number) => (be ? b.writeUInt32BE(v >>> 0, o) : b.writeUInt32LE(v >>> 0, o));
  const addr = (v: number, o: number) => (is64 ? (be ? b.writeBigUInt64BE(BigInt(v), o) : b.writeBigUInt64LE(BigInt(v), o)) : u32(v, o));

  b.write('\x7fELF', 0, 'latin1');
  b[4] = is64 ? 2 : 1;
  b[5] = be ? 2 : 1;
  b[6] = 1;
  b[7] = spec.osAbi ?? 0;
  u16(spec.type ?? 3, 16);
  u16(spec.machine ?? 62, 18);
  u32(1, 20);
  addr(ehsize, is64 ? 32 : 28); // e_phoff
  u32(spec.flags ?? 0, is64 ? 48 : 36);
  u16(ehsize, is64 ? 52 : 40);
  u16(phentsize, is64 ? 54 : 42);
  u16(phnum, is64 ? 56 : 44);

  let ph = ehsize;
  const phdr = (type: number, off: number, filesz: number) => {
    u32(type, ph);
    if (is64) {
      u32(4, ph + 4); addr(off, ph + 8); addr(off, ph + 16); addr(off, ph + 24); addr(filesz, ph + 32); addr(filesz, ph + 40);
    } else {
      addr(off, ph + 4); addr(off, ph + 8); addr(off, ph + 12); addr(filesz, ph + 16); addr(filesz, ph + 20); u32(4, ph + 24);
    }
    ph += phentsize;
  };
  phdr(PT_LOAD, 0, size);
  if (spec.interp !== undefined) phdr(PT_INTERP, interpAt, interp.length);
  if (dynamic) phdr(PT_DYNAMIC, dynAt, dynEntries.length * entsize);

  interp.copy(b, interpAt);
  Buffer.concat(strs).copy(b, strAt);
  dynEntries.forEach(([tag, val], i) => {
    addr(tag, dynAt + i * entsize);
    addr(val, dynAt + i * entsize + entsize / 2);
  });
  return b;
}
