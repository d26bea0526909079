// Writes the hand-made malformed ELF files of this directory and expected.json (run: node make.mjs).
// Each starts from one tiny valid ELF64 built byte by byte below (no compiler involved) and breaks
// one thing. They are committed; this script documents exactly how each was made.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

// Layout: ELF header (64) | 3 program headers (3*56) at 64 | interp at 232 | dynstr at 260 | dynamic at 320.
function baseElf() {
  const b = Buffer.alloc(512);
  b.write('\x7fELF', 0, 'latin1');
  b[4] = 2; b[5] = 1; b[6] = 1; // ELFCLASS64, little-endian, EV_CURRENT
  b.writeUInt16LE(3, 16); // ET_DYN
  b.writeUInt16LE(62, 18); // EM_X86_64
  b.writeUInt32LE(1, 20);
  b.writeBigUInt64LE(64n, 32); // e_phoff
  b.writeUInt16LE(64, 52); b.writeUInt16LE(56, 54); b.writeUInt16LE(3, 56); // ehsize, phentsize, phnum
  const ph = (i, type, off, filesz) => {
    const o = 64 + i * 56;
    b.writeUInt32LE(type, o); b.writeUInt32LE(4, o + 4);
    b.writeBigUInt64LE(BigInt(off), o + 8); b.writeBigUInt64LE(BigInt(off), o + 16); b.writeBigUInt64LE(BigInt(off), o + 24);
    b.writeBigUInt64LE(BigInt(filesz), o + 32); b.writeBigUInt64LE(BigInt(filesz), o + 40);
  };
  ph(0, 1, 0, 512); // PT_LOAD maps the whole file at vaddr 0
  ph(1, 3, 232, 28); // PT_INTERP
  ph(2, 2, 320, 112); // PT_DYNAMIC (7 entries)
  b.write('/lib64/ld-linux-x86-64.so.2\0', 232, 'latin1');
  b.write('\0libfoo.so.1\0libbar.so.2\0', 260, 'latin1'); // offsets 1 and 13; size 25
  const dyn = [[1, 1], [1, 13], [5, 260], [10, 25], [0x6ffffffb, 0x08000000], [0, 0]];
  dyn.forEach(([t, v], i) => { b.writeBigUInt64LE(BigInt(t), 320 + i * 16); b.writeBigUInt64LE(BigInt(v), 328 + i * 16); });
  return b;
}

const cases = [];
function add(name, buf, code, message) {
  writeFileSync(join(here, name), buf);
  cases.push({ file: name, code, message });
}

const ok = baseElf();
writeFileSync(join(here, 'valid-base.elf'), ok);
add('empty', Buffer.alloc(0), 'NOT_ELF', 'not an ELF file');
add('magic-only', ok.subarray(0, 4), 'ELF_TRUNCATED', 'truncated ELF header');
add('truncated-header', ok.subarray(0, 40), 'ELF_TRUNCATED', 'truncated ELF header');
add('text-file', Buffer.from('hello, world\n'), 'NOT_ELF', 'not an ELF file');
{ const b = Buffer.from(ok); b[4] = 7; add('bad-class', b, 'ELF_UNSUPPORTED', 'unknown ELF class 7'); }
{ const b = Buffer.from(ok); b[5] = 9; add('bad-byte-order', b, 'ELF_UNSUPPORTED', 'unknown ELF byte order 9'); }
{ const b = Buffer.from(ok); b.writeBigUInt64LE(1n << 40n, 32); add('phdrs-past-eof', b, 'ELF_TRUNCATED', 'program headers'); }
{ const b = Buffer.from(ok); b.writeUInt16LE(0xfffe, 56); add('absurd-phnum', b, 'ELF_MALFORMED', "65534 program headers (3669904 bytes) exceed the kernel's 64 KiB limit"); }
// PN_XNUM with section header 0 (at 448) holding the real count in sh_info: 3 (the file's own
// program headers), and 0 (which read as "no program headers" would make a static program).
for (const [name, count] of [['pn-xnum', 3], ['pn-xnum-zero', 0]]) {
  const b = Buffer.from(ok);
  b.writeUInt16LE(0xffff, 56);
  b.writeBigUInt64LE(448n, 40); b.writeUInt16LE(64, 58); b.writeUInt16LE(0, 60); // e_shoff, e_shentsize, e_shnum (0: see section 0)
  b.fill(0, 448, 512); b.writeUInt32LE(count, 448 + 44); // sh_info
  add(name, b, 'ELF_MALFORMED', 'e_phnum is PN_XNUM (0xffff)');
}
{ const b = Buffer.from(ok); b.writeUInt16LE(12, 54); add('bad-phentsize', b, 'ELF_MALFORMED', 'program header entry size is 12'); }
{ const b = Buffer.from(ok); b.writeBigUInt64LE(1n << 30n, 64 + 56 + 32); add('interp-huge', b, 'ELF_MALFORMED', 'PT_INTERP size'); }
{ const b = Buffer.from(ok); b.fill(0x41, 232, 260); add('interp-unterminated', b, 'ELF_MALFORMED', 'PT_INTERP is not NUL-terminated'); }
{ const b = Buffer.from(ok); b.writeBigUInt64LE(100000n, 64 + 112 + 8); add('dynamic-past-eof', b, 'ELF_TRUNCATED', 'dynamic section'); }
{ const b = Buffer.from(ok); b.writeBigUInt64LE(1n << 45n, 64 + 112 + 32); add('dynamic-huge', b, 'ELF_TRUNCATED', 'dynamic section'); }
{ const b = Buffer.from(ok); b.writeBigUInt64LE(5n, 320 + 80); b.writeBigUInt64LE(5n, 320 + 96); b.writeBigUInt64LE(5n, 320 + 112 - 16); add('no-dt-null', b, 'ELF_MALFORMED', 'no DT_NULL'); }
{ const b = Buffer.from(ok); b.writeBigUInt64LE(4000n, 328); add('needed-offset-out-of-range', b, 'ELF_MALFORMED', 'DT_NEEDED string offset 4000 is outside the string table'); }
{ const b = Buffer.from(ok); b.fill(0x42, 273, 285); b.writeBigUInt64LE(25n, 320 + 48 + 8); add('string-unterminated', b, 'ELF_MALFORMED', 'not NUL-terminated'); }
{ const b = Buffer.from(ok); b.writeBigUInt64LE(1n << 33n, 320 + 32 + 8); add('strtab-unmapped', b, 'ELF_MALFORMED', 'DT_STRTAB address'); }
{ const b = Buffer.from(ok); b.writeBigUInt64LE(1n << 40n, 320 + 48 + 8); b.writeBigUInt64LE(500n, 320 + 32 + 8); b.fill(0x43, 500); add('strsz-past-eof', b, 'ELF_TRUNCATED', 'runs past the end of the file'); }
writeFileSync(join(here, 'expected.json'), JSON.stringify(cases, null, 2) + '\n');
