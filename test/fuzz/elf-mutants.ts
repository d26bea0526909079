// Structure-aware mutants of real ELF files: the fields the reader trusts (header counts and
// offsets, program headers, dynamic entries, the strings they name) are set to boundary values,
// tags are swapped for ones that make the reader follow pointers, names get control characters,
// and some files are cut short or flipped at random bytes.
import type { Prng } from './prng.js';

interface Field { off: number; width: 1 | 2 | 4 | 8 }

const INTERESTING = [0n, 1n, 2n, 7n, 0x40n, 0x7fn, 0x80n, 0xffn, 0xffffn, 0x10000n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x7fffffffffffffffn, 0xffffffffffffffffn];
// DT_NULL, DT_NEEDED, DT_HASH, DT_STRTAB, DT_SYMTAB, DT_STRSZ, DT_SYMENT, DT_SONAME, DT_RPATH, DT_RUNPATH,
// DT_FLAGS, DT_GNU_HASH, DT_FLAGS_1, DT_VERDEF, DT_VERDEFNUM, DT_VERNEED, DT_VERNEEDNUM, DT_MIPS_SYMTABNO
const TAGS = [0n, 1n, 4n, 5n, 6n, 10n, 11n, 14n, 15n, 29n, 30n, 0x6ffffef5n, 0x6ffffffbn, 0x6ffffffcn, 0x6ffffffdn, 0x6ffffffen, 0x6fffffffn, 0x70000011n];
// PT_NULL, PT_LOAD, PT_DYNAMIC, PT_INTERP, PT_NOTE, PT_PHDR, PT_GNU_STACK
const PTYPES = [0n, 1n, 2n, 3n, 4n, 6n, 0x6474e551n];
const NAME_BYTES = ['\n', '\r', '\x1b[31m', '\t', '\x7f', '\x00', '/', '..', '$ORIGIN', '\xc3\x28', '\u2028'];

class View {
  constructor(readonly b: Buffer, readonly le: boolean) {}
  get(off: number, width: number): bigint {
    if (off < 0 || off + width > this.b.length) return 0n;
    switch (width) {
      case 1: return BigInt(this.b[off]);
      case 2: return BigInt(this.le ? this.b.readUInt16LE(off) : this.b.readUInt16BE(off));
      case 4: return BigInt(this.le ? this.b.readUInt32LE(off) : this.b.readUInt32BE(off));
      default: return this.le ? this.b.readBigUInt64LE(off) : this.b.readBigUInt64BE(off);
    }
  }
  set(off: number, width: number, v: bigint): void {
    if (off < 0 || off + width > this.b.length) return;
    const m = BigInt.asUintN(width * 8, v);
    switch (width) {
      case 1: this.b[off] = Number(m); break;
      case 2: this.le ? this.b.writeUInt16LE(Number(m), off) : this.b.writeUInt16BE(Number(m), off); break;
      case 4: this.le ? this.b.writeUInt32LE(Number(m), off) : this.b.writeUInt32BE(Number(m), off); break;
      default: this.le ? this.b.writeBigUInt64LE(m, off) : this.b.writeBigUInt64BE(m, off);
    }
  }
}

/** Where the reader's inputs are in this file: header fields, program headers, dynamic entries, strings. */
function layout(v: View): { fields: Field[]; tags: Field[]; ptypes: Field[]; strings: [number, number][] } {
  const is64 = v.b[4] === 2;
  const w: 4 | 8 = is64 ? 8 : 4;
  const fields: Field[] = [];
  const tags: Field[] = [];
  const ptypes: Field[] = [];
  const strings: [number, number][] = [];
  const phoff = Number(v.get(is64 ? 32 : 28, w));
  const phentsize = Number(v.get(is64 ? 54 : 42, 2));
  const phnum = Number(v.get(is64 ? 56 : 44, 2));
  fields.push({ off: 16, width: 2 }, { off: 18, width: 2 }, { off: is64 ? 32 : 28, width: w }, { off: is64 ? 40 : 32, width: w },
    { off: is64 ? 48 : 36, width: 4 }, { off: is64 ? 54 : 42, width: 2 }, { off: is64 ? 56 : 44, width: 2 }, { off: is64 ? 58 : 46, width: 2 }, { off: is64 ? 60 : 48, width: 2 });
  const loads: { off: number; vaddr: number; size: number }[] = [];
  let dyn: [number, number] | undefined;
  for (let i = 0; i < Math.min(phnum, 64); i++) {
    const o = phoff + i * phentsize;
    if (o + (is64 ? 56 : 32) > v.b.length) break;
    const type = Number(v.get(o, 4));
    const off = Number(v.get(o + (is64 ? 8 : 4), w));
    const vaddr = Number(v.get(o + (is64 ? 16 : 8), w));
    const filesz = Number(v.get(o + (is64 ? 32 : 16), w));
    ptypes.push({ off: o, width: 4 });
    fields.push({ off: o + (is64 ? 8 : 4), width: w }, { off: o + (is64 ? 16 : 8), width: w }, { off: o + (is64 ? 32 : 16), width: w }, { off: o + (is64 ? 40 : 20), width: w });
    if (type === 1) loads.push({ off, vaddr, size: filesz });
    if (type === 2) dyn = [off, filesz];
    if (type === 3) strings.push([off, filesz]);
  }
  if (dyn) {
    const ent = is64 ? 16 : 8;
    for (let o = dyn[0], n = 0; o + ent <= Math.min(v.b.length, dyn[0] + dyn[1]) && n < 512; o += ent, n++) {
      tags.push({ off: o, width: w });
      fields.push({ off: o + w, width: w });
      const tag = v.get(o, w);
      if (tag === 5n) {
        const addr = Number(v.get(o + w, w));
        const seg = loads.find((l) => addr >= l.vaddr && addr < l.vaddr + l.size);
        if (seg) strings.push([seg.off + addr - seg.vaddr, 256]);
      }
      if (tag === 0n) break;
    }
  }
  return { fields, tags, ptypes, strings };
}

export function elfMutant(base: Buffer, rng: Prng): Buffer {
  let b = Buffer.from(base);
  if (b.length < 64 || b.toString('latin1', 0, 4) !== '\x7fELF') return b;
  const v = new View(b, b[5] !== 2);
  const l = layout(v);
  const ops = 1 + rng.int(4);
  for (let k = 0; k < ops; k++) {
    switch (rng.int(8)) {
      case 0: case 1: { // a field to a boundary value, or near its own value, or near the file size
        const f = rng.pick(l.fields);
        if (!f) break;
        const cur = v.get(f.off, f.width);
        const choices = [rng.pick(INTERESTING), cur + 1n, cur - 1n, cur * 2n, BigInt(b.length), BigInt(b.length) - 1n, BigInt(b.length) + 1n, BigInt(rng.next())];
        v.set(f.off, f.width, rng.pick(choices));
        break;
      }
      case 2: { const t = rng.pick(l.tags); if (t) v.set(t.off, t.width, rng.pick(TAGS)); break; }
      case 3: { const t = rng.pick(l.ptypes); if (t) v.set(t.off, 4, rng.pick(PTYPES)); break; }
      case 4: { // control characters and odd bytes into a name
        const s = rng.pick(l.strings);
        if (!s) break;
        const at = s[0] + rng.int(Math.max(1, Math.min(s[1], 256)));
        Buffer.from(rng.pick(NAME_BYTES), 'latin1').copy(b, Math.min(at, b.length - 1));
        break;
      }
      case 5: { for (let i = 0; i < 1 + rng.int(8); i++) b[rng.int(b.length)] ^= 1 << rng.int(8); break; }
      case 6: { // e_phnum = PN_XNUM or a count whose table passes 64 KiB
        v.set(b[4] === 2 ? 56 : 44, 2, rng.pick([0xffffn, 0xfffen, 2000n, 0n]));
        break;
      }
      default: { if (rng.chance(0.5)) b = b.subarray(0, 16 + rng.int(b.length - 16)); break; }
    }
  }
  return b;
}
