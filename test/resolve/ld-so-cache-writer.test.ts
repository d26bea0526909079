import { expect } from 'chai';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { compareCacheKeys, writeLdSoCache, type CacheRecord } from '../../src/resolve/ld-so-cache-writer.js';
import { lookupCache, parseLdSoCache } from '../../src/resolve/ld-so-cache.js';
import { ElfpackError } from '../../src/errors.js';
import { haveCommand, needCommand, skipOrFail } from '../support/helpers.js';

const X86_64 = 0x0303; // FLAG_ELF_LIBC6 | FLAG_X8664_LIB64
const I386 = 0x0003; // FLAG_ELF_LIBC6
const X32 = 0x0803; // FLAG_ELF_LIBC6 | FLAG_X8664_LIBX32
const ELF = 0x0001; // FLAG_ELF: a library that does not name libc

function ldconfig(ctx: Mocha.Context): string {
  if (existsSync('/sbin/ldconfig')) return '/sbin/ldconfig';
  if (haveCommand('ldconfig')) return 'ldconfig';
  skipOrFail(ctx, 'ldconfig is not installed');
}

/** `ldconfig -C FILE -p`: the entry lines, in the order ldconfig printed them (file order). */
function ldconfigPrint(bin: string, file: string): { status: number | null; stderr: string; header: string; lines: string[]; rest: string[] } {
  const r = spawnSync(bin, ['-C', file, '-p'], { encoding: 'utf8' });
  const all = r.stdout.split('\n').filter((l) => l !== '');
  return {
    status: r.status,
    stderr: r.stderr,
    header: all[0] ?? '',
    lines: all.filter((l) => l.startsWith('\t')).map((l) => l.slice(1)),
    rest: all.slice(1).filter((l) => !l.startsWith('\t')),
  };
}

describe('resolve/ld-so-cache-writer', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'elfpack-cachew-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keys compare as _dl_cache_libcmp: digit runs as numbers, a digit above any other byte', () => {
    expect(compareCacheKeys('libfoo.so.10', 'libfoo.so.9')).to.be.greaterThan(0);
    expect(compareCacheKeys('libbar-1.10.so', 'libbar-1.2.so')).to.be.greaterThan(0);
    expect(compareCacheKeys('libfoo.so.1', 'libfoo.so.01')).to.equal(0);
    expect(compareCacheKeys('lib9.so', 'libz.so')).to.be.greaterThan(0);
    expect(compareCacheKeys('libfoo.so', 'libfoo.so.1')).to.be.lessThan(0);
    expect(compareCacheKeys('libFoo.so.1', 'libfoo.so.1')).to.be.lessThan(0);
  });

  it('parseLdSoCache reads what it writes, in both byte orders, and lookups find each path', () => {
    const entries: CacheRecord[] = [
      { key: 'libc.so.6', path: '/lib/i386-linux-gnu/libc.so.6', flags: I386 },
      { key: 'libz.so.1', path: '/lib/x86_64-linux-gnu/libz.so.1', flags: X86_64 },
      { key: 'libc.so.6', path: '/lib/x86_64-linux-gnu/libc.so.6', flags: X86_64 },
      { key: 'libplain.so', path: '/opt/libplain.so', flags: ELF },
    ];
    for (const bigEndian of [false, true]) {
      const buf = writeLdSoCache(entries, { bigEndian });
      expect(buf[28]).to.equal(bigEndian ? 3 : 2);
      const cache = parseLdSoCache(buf);
      expect(cache.format).to.equal('new');
      expect(cache.byteOrder).to.equal(bigEndian ? 'big' : 'little');
      expect(cache.entries.map((e) => `${e.key} ${e.flags} ${e.value}`)).to.deep.equal([
        'libz.so.1 771 /lib/x86_64-linux-gnu/libz.so.1',
        'libplain.so 1 /opt/libplain.so',
        'libc.so.6 771 /lib/x86_64-linux-gnu/libc.so.6',
        'libc.so.6 3 /lib/i386-linux-gnu/libc.so.6',
      ]);
      expect(lookupCache(cache, 'libc.so.6', X86_64)).to.equal('/lib/x86_64-linux-gnu/libc.so.6');
      expect(lookupCache(cache, 'libc.so.6', I386)).to.equal('/lib/i386-linux-gnu/libc.so.6');
      expect(lookupCache(cache, 'libz.so.1', X86_64)).to.equal('/lib/x86_64-linux-gnu/libz.so.1');
      expect(lookupCache(cache, 'libplain.so', X86_64)).to.equal('/opt/libplain.so');
      expect(lookupCache(cache, 'libz.so.1', I386)).to.equal(undefined);
    }
  });

  it('glibc-hwcaps entries are refused: they index an extension section we do not write', () => {
    const hwcaps = { key: 'libz.so.1', path: '/x/glibc-hwcaps/x86-64-v3/libz.so.1', flags: X86_64, hwcap: (1n << 62n) | (3n << 32n) };
    expect(() => writeLdSoCache([hwcaps])).to.throw(ElfpackError, /glibc-hwcaps/);
  });

  it("ldconfig -p reads our file: every entry, in glibc's order (keys descending, flags, then hwcap)", function () {
    const bin = ldconfig(this);
    const entries: CacheRecord[] = [
      { key: 'libfoo.so.1', path: '/opt/a/libfoo.so.1', flags: X86_64 },
      { key: 'libfoo.so.2', path: '/opt/a/libfoo.so.2', flags: X86_64 },
      { key: 'libfoo.so.10', path: '/opt/a/libfoo.so.10', flags: X86_64 },
      { key: 'libfoo.so.2', path: '/opt/x32/libfoo.so.2', flags: X32 },
      { key: 'libfoo.so.2', path: '/opt/i386/libfoo.so.2', flags: I386 },
      { key: 'libfoo.so.2', path: '/opt/a/x86_64/libfoo.so.2', flags: X86_64, hwcap: 2n },
      { key: 'libfoo.so.2', path: '/opt/a/tls/libfoo.so.2', flags: X86_64, hwcap: 1n << 63n },
      { key: 'libfoo.so.2', path: '/opt/a/haswell/x86_64/libfoo.so.2', flags: X86_64, hwcap: (1n << 50n) | 2n }, // more bits first
      { key: 'libbar-1.2.so', path: '/opt/a/libbar-1.2.so', flags: X86_64 },
      { key: 'libbar-1.10.so', path: '/opt/a/libbar-1.10.so', flags: X86_64 },
      { key: 'libfoo.so.1', path: '/opt/b/libfoo.so.1', flags: X86_64 }, // a tie: stays after /opt/a's
      { key: 'libplain.so', path: '/opt/a/libplain.so', flags: ELF },
    ];
    const file = join(dir, 'ld.so.cache');
    writeFileSync(file, writeLdSoCache(entries));
    const p = ldconfigPrint(bin, file);
    expect(p.status, p.stderr).to.equal(0);
    expect(p.header).to.equal(`12 libs found in cache \`${file}'`);
    expect(p.lines).to.deep.equal([
      'libplain.so (ELF) => /opt/a/libplain.so',
      'libfoo.so.10 (libc6,x86-64) => /opt/a/libfoo.so.10',
      'libfoo.so.2 (libc6,x32) => /opt/x32/libfoo.so.2',
      'libfoo.so.2 (libc6,x86-64, hwcap: 0x0004000000000002) => /opt/a/haswell/x86_64/libfoo.so.2',
      'libfoo.so.2 (libc6,x86-64, hwcap: 0x8000000000000000) => /opt/a/tls/libfoo.so.2',
      'libfoo.so.2 (libc6,x86-64, hwcap: 0x0000000000000002) => /opt/a/x86_64/libfoo.so.2',
      'libfoo.so.2 (libc6,x86-64) => /opt/a/libfoo.so.2',
      'libfoo.so.2 (libc6) => /opt/i386/libfoo.so.2',
      'libfoo.so.1 (libc6,x86-64) => /opt/a/libfoo.so.1',
      'libfoo.so.1 (libc6,x86-64) => /opt/b/libfoo.so.1',
      'libbar-1.10.so (libc6,x86-64) => /opt/a/libbar-1.10.so',
      'libbar-1.2.so (libc6,x86-64) => /opt/a/libbar-1.2.so',
    ]);
    expect(p.rest, 'no extension section, so no "Cache generated by" line').to.deep.equal([]);

    writeFileSync(file, writeLdSoCache([]));
    expect(ldconfigPrint(bin, file).header).to.equal(`0 libs found in cache \`${file}'`);
  });

  it('a big-endian cache is marked so: little-endian ldconfig refuses it for its byte order', function () {
    const bin = ldconfig(this);
    const file = join(dir, 'ld.so.cache');
    writeFileSync(file, writeLdSoCache([{ key: 'libz.so.1', path: '/lib/s390x-linux-gnu/libz.so.1', flags: 0x0403 }], { bigEndian: true }));
    const p = ldconfigPrint(bin, file);
    expect(p.status).to.not.equal(0);
    expect(p.stderr).to.match(/wrong endianness/);
  });

  it("ldconfig's own cache for a root, re-sorted from path order, comes out byte for byte the same (bar its extension)", function () {
    const bin = ldconfig(this);
    needCommand(this, 'gcc');
    let libz: string;
    try {
      libz = realpathSync('/lib/x86_64-linux-gnu/libz.so.1');
    } catch {
      skipOrFail(this, 'no /lib/x86_64-linux-gnu/libz.so.1 to copy');
    }
    const root = join(dir, 'root');
    for (const d of ['etc', 'opt/a/tls', 'opt/a/x86_64', 'opt/a/haswell/x86_64', 'opt/b']) mkdirSync(join(root, d), { recursive: true });
    writeFileSync(join(dir, 'f.c'), 'int f(void) { return 1; }\n');
    const lib = (soname: string, at: string, extra: string[] = []) => {
      const r = spawnSync('gcc', [...extra, '-shared', '-fPIC', `-Wl,-soname,${soname}`, '-o', join(root, at), join(dir, 'f.c')], { encoding: 'utf8' });
      if (r.status !== 0) skipOrFail(this, `gcc ${extra.join(' ')} failed (gcc-multilib for -m32?): ${r.stderr.trim()}`);
    };
    for (const s of ['libfoo.so.1', 'libfoo.so.10', 'libfoo.so.2', 'libfoo.so.1.5', 'libfoo.so', 'libFoo.so.1', 'lib9.so', 'libbar-1.2.so', 'libbar-1.10.so']) {
      lib(s, `opt/a/${s}`);
    }
    lib('libfoo.so.2', 'opt/a/tls/libfoo.so.2'); // legacy hwcap subdirectories (glibc < 2.37)
    lib('libfoo.so.2', 'opt/a/x86_64/libfoo.so.2');
    lib('libfoo.so.2', 'opt/a/haswell/x86_64/libfoo.so.2'); // two hwcap bits: sorts before tls's one
    lib('libfoo.so.1', 'opt/b/libfoo.so.1'); // the same soname again, in a later directory
    lib('libfoo.so.2', 'opt/b/libfoo.so.2', ['-m32']); // other flags: ldconfig says ELF (no libc needed)
    copyFileSync(libz, join(root, 'opt/a', basename(libz))); // a real library: ldconfig keys it by its soname
    writeFileSync(join(root, 'etc/ld.so.conf'), '/opt/a\n/opt/b\n');
    // -X: no soname links; the cache still names them (/opt/a/libz.so.1), as it does on a real system.
    const r = spawnSync(bin, ['-X', '-r', root], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    const theirs = readFileSync(join(root, 'etc/ld.so.cache'));

    const parsed = parseLdSoCache(theirs);
    expect(parsed.format, 'ldconfig 2.32+ writes the new layout only').to.equal('new');
    const n = parsed.entries.length;
    expect(n).to.equal(15);
    // The parser keeps only whether a legacy hwcap is set; the value is at the end of each entry.
    const withHwcap = parsed.entries.map((e, i) => ({ key: e.key, path: e.value, flags: e.flags, hwcap: theirs.readBigUInt64LE(48 + i * 24 + 16) }));
    expect(withHwcap.filter((e) => e.hwcap !== 0n).map((e) => e.path)).to.deep.equal([
      '/opt/a/haswell/x86_64/libfoo.so.2',
      '/opt/a/tls/libfoo.so.2',
      '/opt/a/x86_64/libfoo.so.2',
    ]);
    // Not ldconfig's order to start from: by path. /opt/a sorts before /opt/b, the order of
    // ld.so.conf, so the one tie (libfoo.so.1 twice) arrives in the order ldconfig found it.
    const input = [...withHwcap].sort((a, b) => (a.path < b.path ? -1 : 1));
    expect(input.map((e) => e.path)).to.not.deep.equal(withHwcap.map((e) => e.path));
    const ours = writeLdSoCache(input);

    // ldconfig appends an extension directory holding one section, the generator string; ours has
    // none. Everything up to the end of the string table must be identical, extension_offset aside.
    const lenStrings = theirs.readUInt32LE(24);
    const end = 48 + n * 24 + lenStrings;
    const extAt = theirs.readUInt32LE(32);
    expect(extAt).to.equal((end + 3) & ~3);
    expect(theirs.readUInt32LE(extAt)).to.equal(0xeaa42174); // cache_extension_magic
    expect(theirs.readUInt32LE(extAt + 4), 'one section').to.equal(1);
    expect(theirs.readUInt32LE(extAt + 8), 'tag: generator').to.equal(0);
    expect(theirs.subarray(theirs.readUInt32LE(extAt + 16)).toString('latin1')).to.match(/^ldconfig .* release version /);

    expect(ours.length).to.equal(end);
    const theirsCore = Buffer.from(theirs.subarray(0, end));
    theirsCore.writeUInt32LE(0, 32);
    expect(ours.equals(theirsCore), 'same bytes as ldconfig').to.equal(true);
    expect(ours.readUInt32LE(32)).to.equal(0);

    // And ldconfig prints both in the same order.
    const mine = join(dir, 'ours.cache');
    writeFileSync(mine, ours);
    expect(ldconfigPrint(bin, mine).lines).to.deep.equal(ldconfigPrint(bin, join(root, 'etc/ld.so.cache')).lines);
  });
});
