import { expect } from 'chai';
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BufferByteSource, FileByteSource } from '../../src/elf/byte-source.js';
import { readElf } from '../../src/elf/read-elf.js';
import { ElfpackError } from '../../src/errors.js';
import { TESTDATA, fixture, isElfFile, needCommand, skipOrFail } from '../support/helpers.js';
import { buildElf } from '../support/elf-builder.js';

function readFile(path: string) {
  const fd = openSync(path, 'r');
  const src = new FileByteSource(fd, statSync(path).size);
  try {
    return readElf(src);
  } finally {
    src.close();
  }
}

/** readelf -d as {tag: [values]} for the tags we read. */
function readelfDynamic(path: string): Record<string, string[]> {
  const out = spawnSync('readelf', ['-d', '-W', path], { encoding: 'utf8' }).stdout;
  const tags: Record<string, string[]> = {};
  for (const m of out.matchAll(/\((NEEDED|SONAME|RPATH|RUNPATH)\)\s+\S+ \S+: \[(.*)\]$/gm)) (tags[m[1]] ??= []).push(m[2]);
  return tags;
}

describe('elf/read-elf', () => {
  it('reads the interpreter, needed libraries and machine of a host program as readelf does', function () {
    needCommand(this, 'readelf');
    const elf = readFile('/bin/ls');
    const d = readelfDynamic('/bin/ls');
    expect(elf.interp).to.equal('/lib64/ld-linux-x86-64.so.2');
    expect(elf.needed).to.deep.equal(d.NEEDED);
    expect(elf.machineInfo?.ociArch).to.equal('amd64');
    expect(elf.kind).to.equal('pie-executable');
  });

  it('reads SONAME and symbol version definitions of libc', () => {
    const elf = readFile('/lib/x86_64-linux-gnu/libc.so.6');
    expect(elf.soname).to.equal('libc.so.6');
    expect(elf.kind).to.equal('shared-library');
    expect(elf.versionDefs).to.include.members(['GLIBC_2.2.5', 'GLIBC_2.34']);
  });

  it('reads version needs ("needs GLIBC_2.34") the way readelf -V lists them', function () {
    needCommand(this, 'readelf');
    const elf = readFile('/bin/ls');
    const v = spawnSync('readelf', ['-V', '-W', '/bin/ls'], { encoding: 'utf8' }).stdout;
    const want = [...v.matchAll(/Name: (GLIBC_[0-9.]+)/g)].map((m) => m[1]).sort();
    const got = elf.versionNeeds!.flatMap((n) => n.versions).filter((x) => x.startsWith('GLIBC_')).sort();
    expect(got).to.deep.equal(want);
    expect(elf.versionNeeds!.map((n) => n.file)).to.include('libc.so.6');
  });

  it('agrees with readelf on ELF files in /usr/lib/x86_64-linux-gnu (needed, soname, rpath, runpath)', function () {
    this.timeout(60000);
    needCommand(this, 'readelf');
    const dir = '/usr/lib/x86_64-linux-gnu';
    const files = readdirSync(dir).filter((f) => /\.so(\.\d+)*$/.test(f)).slice(0, 150);
    let checked = 0;
    for (const f of files) {
      const p = join(dir, f);
      if (!statSync(p).isFile() || !isElfFile(p)) continue;
      const elf = readFile(p);
      const d = readelfDynamic(p);
      expect(elf.needed, p).to.deep.equal(d.NEEDED ?? []);
      expect(elf.soname, p).to.equal(d.SONAME?.[0]);
      expect(elf.rpath, p).to.equal(d.RPATH?.[0]);
      expect(elf.runpath, p).to.equal(d.RUNPATH?.[0]);
      checked++;
    }
    expect(checked).to.be.greaterThan(20);
  });

  it('tells a static executable from a static-pie', function () {
    expect(readFile(fixture(this, 'static/hello-static')).kind).to.equal('static-executable');
    expect(readFile(fixture(this, 'static/hello-static-pie')).kind).to.equal('static-pie');
  });

  it('reads a Go static binary as static and a cgo one as dynamic', function () {
    const s = readFile(fixture(this, 'go/gostatic'));
    expect(s.kind).to.equal('static-executable');
    expect(s.dynamic).to.equal(false);
    const c = readFile(fixture(this, 'go/gocgo'));
    expect(c.interp).to.equal('/lib64/ld-linux-x86-64.so.2');
    expect(c.needed).to.include('libc.so.6');
  });

  it('reads RUNPATH and RPATH with $ORIGIN as written', function () {
    expect(readFile(fixture(this, 'origin/bin/app')).runpath).to.equal('$ORIGIN/../lib');
    expect(readFile(fixture(this, 'rpath/bin/app')).rpath).to.match(/^\$ORIGIN\/\.\.\/lib/);
  });

  it('names (PT_INTERP, DT_NEEDED, SONAME, RPATH, RUNPATH) are UTF-8; a byte that is not UTF-8 is kept as U+DC00 plus the byte', () => {
    const bad = (s: string) => Buffer.concat([Buffer.from(s), Buffer.from([0xfe]), Buffer.from('\n\x01')]);
    const elf = readElf(new BufferByteSource(buildElf({ interp: bad('/lib/ld-é'), needed: [bad('libé'), ''], soname: bad('s'), rpath: bad('/r'), runpath: bad('/rp') })));
    expect([elf.interp, elf.needed, elf.soname, elf.rpath, elf.runpath]).to.deep.equal([
      '/lib/ld-é\udcfe\n\x01', ['libé\udcfe\n\x01', ''], 's\udcfe\n\x01', '/r\udcfe\n\x01', '/rp\udcfe\n\x01',
    ]);
  });

  describe('malformed files', () => {
    const cases = JSON.parse(readFileSync(join(TESTDATA, 'malformed/expected.json'), 'utf8')) as { file: string; code: string; message: string }[];
    for (const c of cases) {
      it(`${c.file}: ${c.code} "${c.message}", never an uncaught exception`, () => {
        const buf = readFileSync(join(TESTDATA, 'malformed', c.file));
        let err: unknown;
        try {
          readElf(new BufferByteSource(buf));
        } catch (e) {
          err = e;
        }
        expect(err, c.file).to.be.instanceOf(ElfpackError);
        expect((err as ElfpackError).code).to.equal(c.code);
        expect((err as ElfpackError).message).to.include(c.message);
      });
    }

    it('program headers up to the kernel\'s 64 KiB read; one entry more is malformed (ELF64: 1170, ELF32: 2048)', () => {
      for (const [cls, entsize, most] of [[2, 56, 1170], [1, 32, 2048]]) {
        for (const phnum of [most, most + 1]) {
          // A header whose program headers (all PT_NULL) follow it: only the count is wrong, if anything.
          const ehsize = cls === 2 ? 64 : 52;
          const b = Buffer.alloc(ehsize + phnum * entsize);
          b.write('\x7fELF', 0, 'latin1');
          b[4] = cls; b[5] = 1; b[6] = 1;
          b.writeUInt16LE(2, 16); b.writeUInt16LE(cls === 2 ? 62 : 3, 18);
          if (cls === 2) { b.writeBigUInt64LE(64n, 32); b.writeUInt16LE(entsize, 54); b.writeUInt16LE(phnum, 56); }
          else { b.writeUInt32LE(52, 28); b.writeUInt16LE(entsize, 42); b.writeUInt16LE(phnum, 44); }
          let err: unknown;
          try {
            readElf(new BufferByteSource(b));
          } catch (e) {
            err = e;
          }
          if (phnum === most) expect(err, `${phnum} entries`).to.equal(undefined);
          else expect((err as ElfpackError).code, `${phnum} entries`).to.equal('ELF_MALFORMED');
        }
      }
    });

    it('the valid base of the malformed files reads cleanly', () => {
      const elf = readElf(new BufferByteSource(readFileSync(join(TESTDATA, 'malformed/valid-base.elf'))));
      expect(elf.needed).to.deep.equal(['libfoo.so.1', 'libbar.so.2']);
      expect(elf.kind).to.equal('pie-executable');
    });

    it('every truncation of a real binary is an ElfpackError or a clean read, never anything else', () => {
      const whole = readFileSync('/bin/true');
      for (let n = 0; n < 4096; n += 7) {
        try {
          readElf(new BufferByteSource(whole.subarray(0, n)));
        } catch (e) {
          expect(e, `cut at ${n}`).to.be.instanceOf(ElfpackError);
        }
      }
    });

    it('random byte flips in the headers give ElfpackErrors only', () => {
      const whole = readFileSync('/bin/true');
      let seed = 42;
      const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
      for (let i = 0; i < 2000; i++) {
        const b = Buffer.from(whole);
        for (let k = 0; k < 4; k++) b[Math.floor(rnd() * 1024)] = Math.floor(rnd() * 256);
        try {
          readElf(new BufferByteSource(b));
        } catch (e) {
          expect(e).to.be.instanceOf(ElfpackError);
        }
      }
    });
  });

  describe('other architectures (files from Debian packages, testdata/elf-samples)', () => {
    const expectedPath = join(TESTDATA, 'elf-samples/expected.json');
    const cases = existsSync(expectedPath) ? JSON.parse(readFileSync(expectedPath, 'utf8')) as ForeignCase[] : [];
    it('has samples of several architectures', function () {
      if (cases.length === 0) skipOrFail(this, 'testdata/elf-samples/expected.json is missing');
      expect(new Set(cases.map((c) => c.debianArch)).size).to.be.greaterThan(5);
    });
    for (const c of cases) {
      it(`${c.file}: class, byte order, machine, interpreter, needed, versions`, () => {
        const elf = readFile(join(TESTDATA, 'elf-samples', c.file));
        expect(elf.elfClass).to.equal(c.class);
        expect(elf.byteOrder).to.equal(c.endian);
        expect(elf.machine).to.equal(c.machine);
        expect(elf.flags).to.equal(c.flags);
        expect(elf.interp ?? null).to.equal(c.interp);
        expect(elf.needed).to.deep.equal(c.needed);
        expect(elf.soname ?? null).to.equal(c.soname);
        expect(elf.runpath ?? null).to.equal(c.runpath);
        expect(elf.versionNeeds!.map((n) => ({ file: n.file, versions: n.versions }))).to.deep.equal(c.versionNeeds);
        expect(elf.versionDefs).to.deep.equal(c.versionDefs);
        expect(elf.machineInfo, 'a known machine').to.not.equal(undefined);
        const [arch, variant] = OCI_OF_DEBIAN[c.debianArch];
        expect([elf.machineInfo!.ociArch, elf.machineInfo!.ociVariant]).to.deep.equal([arch, variant]);
        if (c.interp) expect(c.interp).to.equal(elf.machineInfo!.glibcLoader);
      });
    }
  });
});

/** Debian architecture → OCI architecture and variant (the image-spec's GOARCH names). */
const OCI_OF_DEBIAN: Record<string, [string, string | undefined]> = {
  arm64: ['arm64', 'v8'], armel: ['arm', 'v5'], armhf: ['arm', 'v7'], i386: ['386', undefined],
  mips64el: ['mips64le', undefined], mipsel: ['mipsle', undefined], ppc64el: ['ppc64le', undefined],
  ppc64: ['ppc64', undefined], s390x: ['s390x', undefined], riscv64: ['riscv64', undefined],
};

interface ForeignCase {
  file: string; debianArch: string; class: number; endian: string; machine: number; flags: number;
  interp: string | null; needed: string[]; soname: string | null; runpath: string | null;
  versionNeeds: { file: string; versions: string[] }[]; versionDefs: string[];
}
