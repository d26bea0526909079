import { expect } from 'chai';
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BufferByteSource, FileByteSource } from '../../src/elf/byte-source.js';
import { readElf, type ElfFile } from '../../src/elf/read-elf.js';
import { readDynamicSymbols, type DynamicSymbols } from '../../src/elf/read-symbols.js';
import { ElfFormatError } from '../../src/errors.js';
import { TESTDATA, fixture, isElfFile, needCommand, skipOrFail } from '../support/helpers.js';

const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';
const LIBSTDCXX = '/lib/x86_64-linux-gnu/libstdc++.so.6';
const SAMPLES = join(TESTDATA, 'elf-samples');

function readFile(path: string): DynamicSymbols {
  const src = new FileByteSource(openSync(path, 'r'), statSync(path).size);
  try {
    return readDynamicSymbols(src);
  } finally {
    src.close();
  }
}

const readBuffer = (b: Buffer): DynamicSymbols => readDynamicSymbols(new BufferByteSource(b));

/** readelf --dyn-syms as our two sets: name@VERSION loses its version; <OS specific>: 10 is STB_GNU_UNIQUE. */
function readelfSymbols(path: string): { imports: Set<string>; exports: Set<string> } {
  const out = spawnSync('readelf', ['--dyn-syms', '-W', path], { encoding: 'utf8', maxBuffer: 256 << 20 }).stdout;
  const imports = new Set<string>();
  const exports = new Set<string>();
  for (const line of out.replace(/<OS specific>: 10/g, 'UNIQUE').split('\n')) {
    // Num: Value Size Type Bind Vis [ppc64 localentry / aarch64 VARIANT_PCS] Ndx Name
    const m = /^ *\d+: [0-9a-f]+ +\S+ +\S+ +(\S+) +(\S+)(?: \[[^\]]*\])? +(\S+) (.+)$/.exec(line);
    if (!m) continue;
    const [, bind, vis, ndx, full] = m;
    const name = full.replace(/@@?[\w.]+( \(\d+\))?$/, '');
    if (ndx === 'UND') {
      if (bind !== 'LOCAL') imports.add(name);
    } else if (['GLOBAL', 'WEAK', 'UNIQUE'].includes(bind) && vis !== 'HIDDEN' && vis !== 'INTERNAL') {
      exports.add(name);
    }
  }
  return { imports, exports };
}

function expectSameAsReadelf(path: string): DynamicSymbols {
  const got = readFile(path);
  const want = readelfSymbols(path);
  expect(new Set(got.imports), `${path} imports`).to.deep.equal(want.imports);
  expect(new Set(got.exports), `${path} exports`).to.deep.equal(want.exports);
  expect(got.imports.length, `${path}: imports have no duplicates`).to.equal(new Set(got.imports).size);
  return got;
}

/** Just enough ELF64 little-endian to patch x86-64 and aarch64 copies: the dynamic entries with their offsets. */
function dynamicEntries(b: Buffer): Array<{ tag: number; val: number; at: number }> {
  const phoff = Number(b.readBigUInt64LE(32));
  for (let i = 0; i < b.readUInt16LE(56); i++) {
    const ph = phoff + i * 56;
    if (b.readUInt32LE(ph) !== 2) continue; // PT_DYNAMIC
    const out = [];
    for (let at = Number(b.readBigUInt64LE(ph + 8)); ; at += 16) {
      const tag = Number(b.readBigUInt64LE(at));
      if (tag === 0) return out;
      out.push({ tag, val: Number(b.readBigUInt64LE(at + 8)), at });
    }
  }
  throw new Error('no PT_DYNAMIC');
}

/** File offset of a virtual address through PT_LOAD (ELF64 LE). */
function fileOffset(b: Buffer, vaddr: number): number {
  const phoff = Number(b.readBigUInt64LE(32));
  for (let i = 0; i < b.readUInt16LE(56); i++) {
    const ph = phoff + i * 56;
    const [off, va, sz] = [8, 16, 32].map((o) => Number(b.readBigUInt64LE(ph + o)));
    if (b.readUInt32LE(ph) === 1 && vaddr >= va && vaddr < va + sz) return off + vaddr - va;
  }
  throw new Error(`0x${vaddr.toString(16)} is not mapped`);
}

const DT_HASH = 4, DT_STRTAB = 5, DT_STRSZ = 10, DT_DEBUG = 21, DT_GNU_HASH = 0x6ffffef5;
const tagOf = (b: Buffer, tag: number) => dynamicEntries(b).find((e) => e.tag === tag);

/** A copy without section headers (as sstrip leaves a file): only the dynamic section can say where .dynsym ends. */
function withoutSectionHeaders(b: Buffer): Buffer {
  const c = Buffer.from(b);
  c.fill(0, 40, 48); // e_shoff
  c.fill(0, 60, 64); // e_shnum, e_shstrndx
  return c;
}

/** A copy whose `tag` entry is renamed DT_DEBUG, which the reader ignores. */
function withoutTag(b: Buffer, tag: number): Buffer {
  const c = Buffer.from(b);
  const e = tagOf(c, tag);
  if (!e) throw new Error(`no tag 0x${tag.toString(16)}`);
  c.writeBigUInt64LE(BigInt(DT_DEBUG), e.at);
  return c;
}

function expectElfError(fn: () => unknown, code: string, message: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(ElfFormatError);
    expect((e as ElfFormatError).code).to.equal(code);
    expect((e as Error).message).to.match(message);
    return;
  }
  expect.fail(`expected ${code} ${message}`);
}

describe('elf/read-symbols', () => {
  it('agrees with readelf --dyn-syms on host programs and libraries (ls, python3, libc, libstdc++)', function () {
    needCommand(this, 'readelf');
    const pythons = readdirSync('/usr/bin').filter((f) => /^python3(\.\d+)?$/.test(f)).map((f) => `/usr/bin/${f}`);
    const files = ['/bin/ls', ...pythons, LIBC, LIBSTDCXX].filter((p) => existsSync(p) && isElfFile(p));
    if (files.length < 3) skipOrFail(this, 'the host has no /bin/ls, libc.so.6 or libstdc++.so.6 (x86_64 Debian layout)');
    for (const p of files) expectSameAsReadelf(p);
    expect(readFile(LIBC).exports).to.include.members(['pthread_cancel', 'iconv_open', 'getaddrinfo', '_nss_files_getpwnam_r']);
  });

  it('agrees with readelf on every class, byte order and machine of the foreign samples (DT_HASH on mips)', function () {
    needCommand(this, 'readelf');
    const files = readdirSync(SAMPLES, { withFileTypes: true }).filter((d) => d.isDirectory())
      .flatMap((d) => readdirSync(join(SAMPLES, d.name)).map((f) => join(SAMPLES, d.name, f)));
    expect(files.length).to.be.at.least(17);
    const seen = new Set<string>();
    for (const p of files) {
      const got = expectSameAsReadelf(p);
      expect(got.imports, p).to.not.be.empty;
      const elf = readElf(new BufferByteSource(readFileSync(p)));
      seen.add(`${elf.elfClass}-${elf.byteOrder}`);
    }
    expect([...seen].sort()).to.deep.equal(['32-little', '64-big', '64-little']);
  });

  it('agrees with readelf on the built fixtures: PIE, non-PIE, C++, cgo, musl', function () {
    needCommand(this, 'readelf');
    for (const rel of ['glibc/hello', 'glibc/hello-nopie', 'glibc/cancel', 'cxx/hello-cxx', 'go/gocgo', 'musl/hello-musl']) {
      expectSameAsReadelf(fixture(this, rel));
    }
  });

  it('a program calling pthread_cancel imports it (what decides that libgcc_s.so.1 is needed)', function () {
    const got = readFile(fixture(this, 'glibc/cancel'));
    expect(got.imports).to.include.members(['pthread_cancel', 'pthread_create']);
    expect(got.imports).to.not.include('iconv_open');
  });

  it('static programs, static-pie and static Go have no dynamic imports', function () {
    for (const rel of ['static/hello-static', 'static/hello-static-pie', 'go/gostatic', 'musl/hello-musl-static']) {
      expect(readFile(fixture(this, rel)), rel).to.deep.equal({ imports: [], exports: [] });
    }
    // Without PT_DYNAMIC, an ElfFile that says so saves every read.
    const src = new BufferByteSource(Buffer.alloc(0));
    expect(readDynamicSymbols(src, { dynamic: false } as ElfFile)).to.deep.equal({ imports: [], exports: [] });
  });

  it('counts symbols from DT_GNU_HASH alone (modern Debian binaries have no DT_HASH)', function () {
    needCommand(this, 'readelf');
    const d = spawnSync('readelf', ['-d', '-W', '/bin/ls'], { encoding: 'utf8' }).stdout;
    expect(d).to.match(/\(GNU_HASH\)/);
    expect(d).to.not.match(/\(HASH\)/);
    const ls = readFileSync('/bin/ls');
    expect(readBuffer(withoutSectionHeaders(ls))).to.deep.equal(readFile('/bin/ls'));
  });

  it('counts symbols from DT_HASH alone', () => {
    const libc = readFileSync(LIBC);
    expect(tagOf(libc, DT_HASH), 'libc.so.6 carries DT_HASH').to.not.be.undefined;
    expect(readBuffer(withoutSectionHeaders(withoutTag(libc, DT_GNU_HASH)))).to.deep.equal(readFile(LIBC));
  });

  it('counts symbols from the SHT_DYNSYM section header when there is no hash table', () => {
    const ls = readFileSync('/bin/ls');
    expect(readBuffer(withoutTag(ls, DT_GNU_HASH))).to.deep.equal(readFile('/bin/ls'));
  });

  it('an empty DT_GNU_HASH (a program exporting nothing) counts nothing: the section header, or the next table, does', () => {
    const path = join(SAMPLES, 'arm64/hostname');
    const b = readFileSync(path);
    const gnu = fileOffset(b, tagOf(b, DT_GNU_HASH)!.val);
    expect([b.readUInt32LE(gnu), b.readUInt32LE(gnu + 4)], 'one bucket, symoffset 1').to.deep.equal([1, 1]);
    const full = readFile(path);
    expect(full.imports).to.include('gethostbyname');
    expect(readBuffer(withoutSectionHeaders(b))).to.deep.equal(full);
  });

  it('imports only: exports: false skips decoding the exported names', () => {
    const both = readFile(LIBSTDCXX);
    const src = new FileByteSource(openSync(LIBSTDCXX, 'r'), statSync(LIBSTDCXX).size);
    try {
      expect(readDynamicSymbols(src, undefined, { exports: false })).to.deep.equal({ imports: both.imports, exports: [] });
    } finally {
      src.close();
    }
  });

  it('a symbol count larger than the file is ELF_MALFORMED, before anything is allocated', () => {
    const libc = withoutSectionHeaders(withoutTag(readFileSync(LIBC), DT_GNU_HASH));
    libc.writeUInt32LE(0x10000000, fileOffset(libc, tagOf(libc, DT_HASH)!.val) + 4); // nchain
    expectElfError(() => readBuffer(libc), 'ELF_MALFORMED', /dynamic symbol count 268435456 needs .* more than the file holds/);
  });

  it('a DT_GNU_HASH chain that runs past the end of the file is ELF_MALFORMED', () => {
    const ls = Buffer.from(readFileSync('/bin/ls'));
    const gnu = fileOffset(ls, tagOf(ls, DT_GNU_HASH)!.val);
    const bucket0 = gnu + 16 + ls.readUInt32LE(gnu + 8) * 8;
    ls.writeUInt32LE(0x7ffffff0, bucket0);
    expectElfError(() => readBuffer(ls), 'ELF_MALFORMED', /DT_GNU_HASH chain .* past the end of the file/);
  });

  it('unterminated names and a string table past the end of the file are ELF_MALFORMED', () => {
    const ls = readFileSync('/bin/ls');
    const unterminated = Buffer.from(ls);
    const strOff = fileOffset(ls, tagOf(ls, DT_STRTAB)!.val);
    unterminated.fill(0x41, strOff + 1, strOff + tagOf(ls, DT_STRSZ)!.val); // every NUL but the empty name's
    expectElfError(() => readBuffer(unterminated), 'ELF_MALFORMED', /name at string offset \d+ is not NUL-terminated/);
    const huge = Buffer.from(ls);
    huge.writeBigUInt64LE(BigInt(ls.length), tagOf(ls, DT_STRSZ)!.at + 8);
    expectElfError(() => readBuffer(huge), 'ELF_MALFORMED', /DT_STRSZ \d+ .* more than the file holds/);
  });

  it('a truncated library fails with an ElfFormatError at every length, never another exception', () => {
    const b = readFileSync(join(SAMPLES, 'riscv64/libnss_hesiod.so.2'));
    const full = readBuffer(b);
    for (let len = 0; len < b.length; len += 61) {
      try {
        expect(readBuffer(b.subarray(0, len)), `truncated to ${len}`).to.deep.equal(full);
      } catch (e) {
        expect(e, `truncated to ${len}: ${e}`).to.be.instanceOf(ElfFormatError);
      }
    }
  });
});
