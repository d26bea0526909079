// readDlopenNotes: the FDO dlopen notes of real libraries (compared with readelf) and of files built
// byte by byte here: both JSON forms, notes outside PT_NOTE, 8-byte padding, malformed JSON, bounds.
import { expect } from 'chai';
import { openSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { BufferByteSource, FileByteSource } from '../../src/elf/byte-source.js';
import { DLOPEN_LIMITS, NT_FDO_DLOPEN, isGoProgram, readDlopenNotes, readNotes, type DlopenNotes } from '../../src/elf/notes.js';
import { fixture, needCommand } from '../support/helpers.js';

function readPath(path: string): DlopenNotes {
  const src = new FileByteSource(openSync(path, 'r'), statSync(path).size);
  try {
    return readDlopenNotes(src);
  } finally {
    src.close();
  }
}

const readBuffer = (b: Buffer): DlopenNotes => readDlopenNotes(new BufferByteSource(b));

/** One note: Elf_Nhdr, the owner with its NUL, the descriptor; each padded to `pad`. */
function note(desc: Buffer | string, opts: { owner?: string; type?: number; pad?: number } = {}): Buffer {
  const pad = opts.pad ?? 4;
  const up = (b: Buffer) => Buffer.concat([b, Buffer.alloc((pad - (b.length % pad)) % pad)]);
  const owner = Buffer.from(`${opts.owner ?? 'FDO'}\0`, 'latin1');
  const d = typeof desc === 'string' ? Buffer.from(`${desc}\0`, 'utf8') : desc;
  const h = Buffer.alloc(12);
  h.writeUInt32LE(owner.length, 0);
  h.writeUInt32LE(d.length, 4);
  h.writeUInt32LE(opts.type ?? NT_FDO_DLOPEN, 8);
  return Buffer.concat([h, up(owner), up(d)]);
}

interface Region { bytes: Buffer; align?: number }

/**
 * A little-endian ELF64 of notes: `segments` each in a PT_NOTE; `sections` each an SHT_NOTE section
 * (or the type given) outside every segment, named in a section name table.
 */
function elfWithNotes(spec: { segments?: Region[]; sections?: (Region & { name?: string; type?: number })[]; shnum?: number }): Buffer {
  const segs = spec.segments ?? [];
  const secs = spec.sections ?? [];
  const phoff = 64;
  let at = phoff + segs.length * 56;
  const segAt = segs.map((s) => { const o = at; at += s.bytes.length; return o; });
  const secAt = secs.map((s) => { const o = at; at += s.bytes.length; return o; });
  const names = Buffer.from(`\0.shstrtab\0${secs.map((s) => `${s.name ?? '.note.x'}\0`).join('')}`, 'latin1');
  const namesAt = at;
  at += names.length;
  at = Math.ceil(at / 8) * 8;
  const shoff = secs.length ? at : 0;
  const shnum = secs.length ? secs.length + 2 : 0;
  const b = Buffer.alloc(at + shnum * 64);
  b.write('\x7fELF', 0, 'latin1');
  b[4] = 2; b[5] = 1; b[6] = 1;
  b.writeUInt16LE(3, 16); // ET_DYN
  b.writeUInt16LE(62, 18); // x86-64
  b.writeUInt32LE(1, 20);
  b.writeBigUInt64LE(BigInt(phoff), 32);
  b.writeBigUInt64LE(BigInt(shoff), 40);
  b.writeUInt16LE(64, 52);
  b.writeUInt16LE(56, 54);
  b.writeUInt16LE(segs.length, 56);
  b.writeUInt16LE(64, 58);
  b.writeUInt16LE(spec.shnum ?? shnum, 60);
  b.writeUInt16LE(secs.length ? 1 : 0, 62); // e_shstrndx
  segs.forEach((s, i) => {
    const o = phoff + i * 56;
    b.writeUInt32LE(4, o); // PT_NOTE
    b.writeBigUInt64LE(BigInt(segAt[i]), o + 8);
    b.writeBigUInt64LE(BigInt(segAt[i]), o + 16);
    b.writeBigUInt64LE(BigInt(s.bytes.length), o + 32);
    b.writeBigUInt64LE(BigInt(s.bytes.length), o + 40);
    b.writeBigUInt64LE(BigInt(s.align ?? 4), o + 48);
    s.bytes.copy(b, segAt[i]);
  });
  secs.forEach((s, i) => s.bytes.copy(b, secAt[i]));
  names.copy(b, namesAt);
  const sh = (i: number, name: number, type: number, offset: number, size: number, align: number) => {
    const o = shoff + i * 64;
    b.writeUInt32LE(name, o);
    b.writeUInt32LE(type, o + 4);
    b.writeBigUInt64LE(BigInt(offset), o + 24);
    b.writeBigUInt64LE(BigInt(size), o + 32);
    b.writeBigUInt64LE(BigInt(align), o + 48);
  };
  if (secs.length) {
    sh(1, 1, 3, namesAt, names.length, 1); // .shstrtab, SHT_STRTAB
    let nameAt = '\0.shstrtab\0'.length;
    secs.forEach((s, i) => {
      sh(i + 2, nameAt, s.type ?? 7, secAt[i], s.bytes.length, s.align ?? 4);
      nameAt += (s.name ?? '.note.x').length + 1;
    });
  }
  return b;
}

const PLUG = '[{"soname":["libplug.so.2","libplug.so.1"],"feature":"plug","description":"Greets through a plug-in","priority":"required"}]';

/** readelf -n: each FDO note of the dlopen type, as its data size. */
function readelfDlopenSizes(path: string): number[] {
  const out = spawnSync('readelf', ['-n', '-W', path], { encoding: 'utf8' }).stdout;
  // binutils 2.40 ends an unknown note's line with a tab, not a newline: match anywhere.
  return [...out.matchAll(/(?:^|\s)FDO\s+0x([0-9a-f]+)\s+Unknown note type: \(0x407c0c0a\)/g)].map((m) => parseInt(m[1], 16));
}

describe('elf/notes: .note.dlopen (FDO dlopen metadata)', () => {
  it('reads both JSON forms of a real library: the array with alternatives and the older single object with a string soname', function () {
    const n = readPath(fixture(this, 'dlopen/lib/libnote.so.1'));
    expect(n.problems).to.deep.equal([]);
    const bySoname = Object.fromEntries(n.entries.map((e) => [e.sonames[0], e]));
    expect(bySoname['libplug.so.2']).to.deep.equal({ sonames: ['libplug.so.2', 'libplug.so.1'], feature: 'plug', description: 'Greets through a plug-in', priority: 'required' });
    // An unknown key ("x-elfpack-test") is ignored, not kept and not an error.
    expect(bySoname['libabsent.so.9']).to.deep.equal({ sonames: ['libabsent.so.9'], feature: 'absent', description: 'A library no root has', priority: 'recommended' });
    expect(bySoname['libsuggest.so.1']).to.deep.equal({ sonames: ['libsuggest.so.1'], feature: 'extra', description: 'An optional extra', priority: 'suggested' });
    expect(n.entries).to.have.length(3);
  });

  it('finds the same notes as readelf -n, and the JSON readelf -p .note.dlopen dumps', function () {
    needCommand(this, 'readelf');
    for (const lib of ['dlopen/lib/libnote.so.1', 'dlopen/lib/libsecnote.so.1']) {
      const path = fixture(this, lib);
      const n = readPath(path);
      // Each note's descriptor is its JSON and the NUL that ends it.
      const sizes = readelfDlopenSizes(path);
      expect(sizes, lib).to.have.length(2);
      expect(n.raw.map((r) => Buffer.byteLength(r) + 1).sort((a, b) => a - b), lib).to.deep.equal(sizes.sort((a, b) => a - b));
      const strings = spawnSync('readelf', ['-p', '.note.dlopen', path], { encoding: 'utf8' }).stdout;
      for (const r of n.raw) expect(strings, lib).to.include(r);
    }
  });

  it('reads a note section that is in no PT_NOTE segment (objcopy --add-section), as it reads one in a segment', function () {
    const inSegment = readPath(fixture(this, 'dlopen/lib/libnote.so.1'));
    const sectionOnly = readPath(fixture(this, 'dlopen/lib/libsecnote.so.1'));
    expect(sectionOnly.problems).to.deep.equal([]);
    expect(sectionOnly.entries).to.deep.equal(inSegment.entries);
  });

  it('reads a note of a file without section headers (PT_NOTE only), and one only in the section headers', () => {
    expect(readBuffer(elfWithNotes({ segments: [{ bytes: note(PLUG) }] })).entries.map((e) => e.sonames)).to.deep.equal([['libplug.so.2', 'libplug.so.1']]);
    expect(readBuffer(elfWithNotes({ sections: [{ bytes: note(PLUG) }] })).entries).to.have.length(1);
  });

  it('finds a .note.dlopen section by name when it is not SHT_NOTE, and ignores other PROGBITS sections', () => {
    const named = elfWithNotes({ sections: [{ bytes: note(PLUG), name: '.note.dlopen', type: 1 }] });
    expect(readBuffer(named).entries).to.have.length(1);
    const other = elfWithNotes({ sections: [{ bytes: note(PLUG), name: '.rodata', type: 1 }] });
    expect(readBuffer(other).entries).to.deep.equal([]);
  });

  it('reads a note seen through both a segment and the section over it once', () => {
    // The section's bytes are the segment's: build the file, then point a section at the segment.
    const b = elfWithNotes({ segments: [{ bytes: note(PLUG) }], sections: [{ bytes: note('[]') }] });
    const shoff = Number(b.readBigUInt64LE(40));
    const seg = { offset: Number(b.readBigUInt64LE(64 + 8)), size: Number(b.readBigUInt64LE(64 + 32)) };
    b.writeBigUInt64LE(BigInt(seg.offset), shoff + 2 * 64 + 24);
    b.writeBigUInt64LE(BigInt(seg.size), shoff + 2 * 64 + 32);
    expect(readBuffer(b).entries).to.have.length(1);
  });

  it('looks notes up by owner and type: another owner or type with the same JSON is not a dlopen note', () => {
    const b = elfWithNotes({ segments: [{ bytes: Buffer.concat([note(PLUG, { owner: 'GNU' }), note(PLUG, { type: 1 }), note('[{"soname":["libz.so.1"]}]')]) }] });
    expect(readBuffer(b).entries.map((e) => e.sonames[0])).to.deep.equal(['libz.so.1']);
  });

  it('pads notes to 8 bytes in an 8-aligned PT_NOTE segment (as .note.gnu.property is), to 4 otherwise', () => {
    const odd = '[{"soname":["liba.so.1"]}]'; // 26 bytes + NUL: padding matters
    const eight = Buffer.concat([note(odd, { pad: 8, owner: 'GNUX' }), note(odd, { pad: 8 })]);
    expect(readBuffer(elfWithNotes({ segments: [{ bytes: eight, align: 8 }] })).entries).to.have.length(1);
    const four = Buffer.concat([note(odd, { owner: 'GNUX' }), note(odd)]);
    expect(readBuffer(elfWithNotes({ segments: [{ bytes: four, align: 4 }] })).entries).to.have.length(1);
  });

  it('takes a missing priority as "recommended"; an unknown one too, with a warning', () => {
    const n = readBuffer(elfWithNotes({ segments: [{ bytes: note('[{"soname":["liba.so.1"]},{"soname":["libb.so.1"],"priority":"urgent"}]') }] }));
    expect(n.entries.map((e) => e.priority)).to.deep.equal(['recommended', 'recommended']);
    expect(n.problems).to.have.length(1);
    expect(n.problems[0]).to.match(/libb\.so\.1: unknown dlopen priority "urgent"/);
  });

  it('malformed JSON is a problem reported, never a throw, and the other notes are still read', () => {
    const n = readBuffer(elfWithNotes({ segments: [{ bytes: Buffer.concat([note('[{"soname":["liba.so.1"]'), note(PLUG)]) }] }));
    expect(n.entries.map((e) => e.sonames[0])).to.deep.equal(['libplug.so.2']);
    expect(n.problems).to.have.length(1);
    expect(n.problems[0]).to.match(/not valid JSON/);
  });

  it('a descriptor that is not UTF-8, entries without a soname, and items that are not objects are reported and left out', () => {
    const n = readBuffer(elfWithNotes({ segments: [{ bytes: Buffer.concat([
      note(Buffer.from([0x5b, 0xff, 0xfe, 0x5d, 0])),
      note('[{"feature":"x"},{"soname":[]},{"soname":[7,""]},"libstr.so.1",{"soname":"libok.so.1"}]'),
      note('42'),
    ]) }] }));
    expect(n.entries.map((e) => e.sonames)).to.deep.equal([['libok.so.1']]);
    expect(n.problems.join('\n')).to.match(/not UTF-8/).and.match(/no "soname"/).and.match(/empty "soname"/).and.match(/not a library name/)
      .and.match(/items that are not objects/).and.match(/neither an array of objects nor an object/);
  });

  it('bounds what it keeps: descriptor bytes, entries per file, sonames per entry, a name\'s length, text length', () => {
    const big = `[{"soname":["liba.so.1"],"description":"${'x'.repeat(DLOPEN_LIMITS.descBytes)}"}]`;
    const n1 = readBuffer(elfWithNotes({ segments: [{ bytes: note(big) }] }));
    expect(n1.entries).to.deep.equal([]);
    expect(n1.problems[0]).to.match(/more than 65536\) was left out/);

    const many = JSON.stringify(Array.from({ length: DLOPEN_LIMITS.entries + 5 }, (_, i) => ({ soname: [`l${i}.so`] })));
    const n2 = readBuffer(elfWithNotes({ segments: [{ bytes: note(many) }] }));
    expect(n2.entries).to.have.length(DLOPEN_LIMITS.entries);
    expect(n2.problems.join('\n')).to.match(/more than 1024 dlopen entries/);

    const alts = JSON.stringify([{ soname: Array.from({ length: 40 }, (_, i) => `l${i}.so`), description: 'd'.repeat(5000) }, { soname: ['x'.repeat(300), 'libshort.so.1'] }]);
    const n3 = readBuffer(elfWithNotes({ segments: [{ bytes: note(alts) }] }));
    expect(n3.entries[0].sonames).to.have.length(DLOPEN_LIMITS.sonames);
    expect(n3.entries[0].description).to.have.length(DLOPEN_LIMITS.textChars);
    expect(n3.entries[1].sonames).to.deep.equal(['libshort.so.1']);
    expect(n3.problems.join('\n')).to.match(/only the first 32 were kept/).and.match(/300 bytes, longer than a file name/);
  });

  it('a note running past its segment, a segment past the end of the file, or absurd section headers: problems, no throw', () => {
    const cut = note(PLUG).subarray(0, 40);
    expect(readBuffer(elfWithNotes({ segments: [{ bytes: cut }] })).entries).to.deep.equal([]);
    const b = elfWithNotes({ segments: [{ bytes: note(PLUG) }] });
    b.writeBigUInt64LE(BigInt(1 << 30), 64 + 32); // p_filesz: 1 GiB
    const n = readBuffer(b);
    expect(n.entries).to.deep.equal([]);
    expect(n.problems.join('\n')).to.match(/only its first 1048576 were read|past the end/);
    const many = elfWithNotes({ sections: [{ bytes: note(PLUG) }], shnum: 0xfff0 });
    expect(() => readBuffer(many)).to.not.throw();
    expect(readBuffer(many).problems.join('\n')).to.match(/section headers not read/);
    expect(readBuffer(Buffer.from('not an elf file at all')).problems[0]).to.match(/not read/);
  });

  it('still tells a Go program by its note, and lists the notes of PT_NOTE segments', function () {
    const gobin = fixture(this, 'go/gostatic');
    const src = new FileByteSource(openSync(gobin, 'r'), statSync(gobin).size);
    try {
      expect(isGoProgram(src)).to.equal(true);
    } finally {
      src.close();
    }
    expect(readNotes(new BufferByteSource(elfWithNotes({ segments: [{ bytes: note(PLUG) }] })))).to.deep.equal([{ name: 'FDO', type: NT_FDO_DLOPEN }]);
  });
});
