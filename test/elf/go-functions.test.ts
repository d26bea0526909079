// Go function names from .gopclntab: real stripped Go programs, and tables of each header layout
// (Go 1.16, 1.18, 1.20; both byte orders and pointer sizes) built byte by byte.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findGoFunction, readGoPclntab } from '../../src/elf/go-functions.js';
import type { ByteSource } from '../../src/elf/byte-source.js';
import { HostRoot } from '../../src/root/host-root.js';
import { ElfpackError } from '../../src/errors.js';
import { buildElf } from '../support/elf-builder.js';
import { fixture } from '../support/helpers.js';

const MAGIC = { '1.12': 0xfffffffb, '1.16': 0xfffffffa, '1.18': 0xfffffff0, '1.20': 0xfffffff1 } as const;

interface TableSpec {
  version: keyof typeof MAGIC;
  names: string[];
  bits?: 32 | 64;
  bigEndian?: boolean;
  section?: string;
  /** Overrides the name table's end (cuOffset), to make it lie. */
  namesEnd?: number;
}

/** A pclntab: header, the name table, a few bytes of CU table after it. */
function pclntab(spec: TableSpec): Buffer {
  const ptr = (spec.bits ?? 64) / 8;
  const words = spec.version === '1.16' ? 7 : 8;
  const header = 8 + words * ptr;
  const names = Buffer.concat(spec.names.map((n) => Buffer.from(`${n}\0`, 'utf8')));
  const b = Buffer.alloc(header + names.length + 16);
  const be = !!spec.bigEndian;
  const u32 = (v: number, o: number) => (be ? b.writeUInt32BE(v >>> 0, o) : b.writeUInt32LE(v >>> 0, o));
  const word = (i: number, v: number) => (ptr === 8 ? (be ? b.writeBigUInt64BE(BigInt(v), 8 + i * 8) : b.writeBigUInt64LE(BigInt(v), 8 + i * 8)) : u32(v, 8 + i * 4));
  u32(MAGIC[spec.version], 0);
  b[6] = 1;
  b[7] = ptr;
  word(0, spec.names.length);
  const nameWord = spec.version === '1.16' ? 2 : 3;
  word(nameWord, header);
  word(nameWord + 1, spec.namesEnd ?? header + names.length);
  names.copy(b, header);
  return b;
}

/** A tiny ELF with section headers: the table in a section named `.gopclntab` (or spec.section). */
function goElf(spec: TableSpec): Buffer {
  const is64 = (spec.bits ?? 64) === 64;
  const be = !!spec.bigEndian;
  const base = buildElf({ bits: spec.bits, bigEndian: be });
  const table = pclntab(spec);
  const sectionName = spec.section ?? '.gopclntab';
  const shstrtab = Buffer.from(`\0.shstrtab\0${sectionName}\0`, 'latin1');
  const tableAt = base.length;
  const strAt = tableAt + table.length;
  const shoff = Math.ceil((strAt + shstrtab.length) / 8) * 8;
  const shentsize = is64 ? 64 : 40;
  const out = Buffer.alloc(shoff + 3 * shentsize);
  base.copy(out);
  table.copy(out, tableAt);
  shstrtab.copy(out, strAt);
  const u16 = (v: number, o: number) => (be ? out.writeUInt16BE(v, o) : out.writeUInt16LE(v, o));
  const u32 = (v: number, o: number) => (be ? out.writeUInt32BE(v >>> 0, o) : out.writeUInt32LE(v >>> 0, o));
  const addr = (v: number, o: number) => (is64 ? (be ? out.writeBigUInt64BE(BigInt(v), o) : out.writeBigUInt64LE(BigInt(v), o)) : u32(v, o));
  addr(shoff, is64 ? 40 : 32);
  u16(shentsize, is64 ? 58 : 46);
  u16(3, is64 ? 60 : 48);
  u16(1, is64 ? 62 : 50);
  const section = (i: number, name: number, type: number, offset: number, size: number) => {
    const o = shoff + i * shentsize;
    u32(name, o);
    u32(type, o + 4);
    addr(offset, o + (is64 ? 24 : 16));
    addr(size, o + (is64 ? 32 : 20));
  };
  section(1, 1, 3, strAt, shstrtab.length); // .shstrtab, SHT_STRTAB
  section(2, 11, 1, tableAt, table.length); // the table, SHT_PROGBITS
  return out;
}

describe('elf/go-functions', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'elfpack-gofn-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  let n = 0;
  /** `bytes` as a file, or a file of the host by path, opened as elfpack opens files. */
  function withFile<T>(bytes: Buffer | string, f: (src: ByteSource) => T): T {
    let p = bytes;
    if (typeof p !== 'string') {
      p = join(dir, `f${n++}`);
      writeFileSync(p, bytes);
    }
    const src = new HostRoot('/').open(p);
    try {
      return f(src);
    } finally {
      src.close();
    }
  }

  function namesOf(bytes: Buffer | string): { version?: string; names: string[] } {
    return withFile(bytes, (src) => {
      const tab = readGoPclntab(src);
      const names: string[] = [];
      if (tab) findGoFunction(src, tab, (n) => { names.push(n); return false; });
      return { version: tab?.version, names };
    });
  }

  it('a Go program built with -s -w keeps its function names: the TLS client has crypto/x509, hello has not', function () {
    const tls = fixture(this, 'go/gotls');
    const hello = fixture(this, 'go/gostatic');
    const x509 = (p: string) => withFile(p, (src) => findGoFunction(src, readGoPclntab(src)!, (n) => n.startsWith('crypto/x509.')));
    expect(x509(tls)).to.match(/^crypto\/x509\./);
    expect(x509(hello)).to.equal(undefined);
    // The table is the whole list: main.main and the runtime are there too.
    expect(namesOf(hello).names).to.include.members(['main.main', 'runtime.main']);
  });

  it('an arm64 build reads the same way', function () {
    const { version, names } = namesOf(fixture(this, 'go/gostatic-arm64'));
    expect(version).to.be.oneOf(['1.18', '1.20']);
    expect(names).to.include('main.main');
  });

  for (const [version, bits, bigEndian] of [['1.16', 64, false], ['1.18', 64, false], ['1.20', 64, false], ['1.20', 32, true], ['1.16', 32, false], ['1.18', 64, true]] as const) {
    it(`Go ${version}'s header, ${bits}-bit ${bigEndian ? 'big' : 'little'}-endian: every name, in order`, () => {
      const names = ['runtime.main', 'crypto/x509.(*Certificate).Verify', 'main.main', 'héllo.ünïcode'];
      expect(namesOf(goElf({ version, names, bits, bigEndian }))).to.deep.equal({ version, names });
    });
  }

  it('PIE builds\' .data.rel.ro.gopclntab is read too', () => {
    expect(namesOf(goElf({ version: '1.20', names: ['main.main'], section: '.data.rel.ro.gopclntab' })).names).to.deep.equal(['main.main']);
  });

  it('names that cross the 256 KB reads are read whole, and the search stops at the first match', () => {
    const filler = Array.from({ length: 3000 }, (_, i) => `pkg${i}.${'f'.repeat(100)}`);
    const names = [...filler, 'crypto/x509.SystemCertPool', 'after.match'];
    const bytes = goElf({ version: '1.20', names });
    withFile(bytes, (src) => {
      const tab = readGoPclntab(src)!;
      expect(tab.names.size).to.be.greaterThan(256 * 1024);
      const seen: string[] = [];
      const hit = findGoFunction(src, tab, (n) => { seen.push(n); return n.startsWith('crypto/x509.'); });
      expect(hit).to.equal('crypto/x509.SystemCertPool');
      expect(seen).to.deep.equal(names.slice(0, -1));
    });
  });

  it('a file without .gopclntab is not Go: no table, no error', () => {
    expect(namesOf(buildElf({})).version).to.equal(undefined);
    expect(namesOf('/bin/true').version).to.equal(undefined);
  });

  it('a name table outside its section is ELF_MALFORMED; Go 1.2–1.15\'s layout is ELF_UNSUPPORTED', () => {
    const bad = goElf({ version: '1.20', names: ['a'], namesEnd: 1 << 30 });
    expect(withFile(bad, (src) => catchCode(() => readGoPclntab(src)))).to.equal('ELF_MALFORMED');
    const old = goElf({ version: '1.12', names: ['a'] });
    expect(withFile(old, (src) => catchCode(() => readGoPclntab(src)))).to.equal('ELF_UNSUPPORTED');
  });
});

function catchCode(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    if (err instanceof ElfpackError) return err.code;
    throw err;
  }
  return undefined;
}
