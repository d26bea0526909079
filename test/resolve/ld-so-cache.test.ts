import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { lookupCache, parseLdSoCache } from '../../src/resolve/ld-so-cache.js';
import { ElfpackError } from '../../src/errors.js';
import { skipOrFail } from '../support/helpers.js';

const X86_64 = 0x0303;

/** Builds a cache in the new layout (optionally behind an old header), in either byte order. */
function makeCache(entries: { key: string; value: string; flags: number; hwcap?: bigint }[], opts: { big?: boolean; old?: boolean; hwcaps?: string[] } = {}): Buffer {
  const le = !opts.big;
  const strings: string[] = [];
  const head = 48 + entries.length * 24;
  let strBytes = '';
  const strOff = (s: string) => {
    const at = head + Buffer.byteLength(strBytes);
    strBytes += s + '\0';
    strings.push(s);
    return at;
  };
  const body = Buffer.alloc(head);
  body.write('glibc-ld.so.cache1.1', 0, 'latin1');
  const w32 = (v: number, o: number) => (le ? body.writeUInt32LE(v >>> 0, o) : body.writeUInt32BE(v >>> 0, o));
  w32(entries.length, 20);
  body[28] = le ? 2 : 3;
  entries.forEach((e, i) => {
    const o = 48 + i * 24;
    w32(e.flags, o);
    w32(strOff(e.key), o + 4);
    w32(strOff(e.value), o + 8);
    if (le) body.writeBigUInt64LE(e.hwcap ?? 0n, o + 16);
    else body.writeBigUInt64BE(e.hwcap ?? 0n, o + 16);
  });
  let ext = Buffer.alloc(0);
  if (opts.hwcaps) {
    const names = opts.hwcaps.map((h) => strOff(h));
    let extAt = head + Buffer.byteLength(strBytes);
    extAt = (extAt + 7) & ~7;
    const pad = extAt - (head + Buffer.byteLength(strBytes));
    ext = Buffer.alloc(pad + 8 + 16 + names.length * 4);
    const e32 = (v: number, o: number) => (le ? ext.writeUInt32LE(v >>> 0, o) : ext.writeUInt32BE(v >>> 0, o));
    e32(0xeaa42174, pad);
    e32(1, pad + 4);
    e32(1, pad + 8); // tag: glibc-hwcaps
    e32(extAt + 24, pad + 16); // section offset
    e32(names.length * 4, pad + 20);
    names.forEach((n, i) => e32(n, pad + 24 + i * 4));
    w32(extAt, 32);
  }
  w32(Buffer.byteLength(strBytes), 24);
  const cacheNew = Buffer.concat([body, Buffer.from(strBytes, 'utf8'), ext]);
  if (!opts.old) return cacheNew;
  // The compat layout: an old header with no entries, then the new one at an 8-byte boundary.
  const old = Buffer.alloc(16);
  old.write('ld.so-1.7.0', 0, 'latin1');
  return Buffer.concat([old, cacheNew]);
}

describe('resolve/ld-so-cache', () => {
  it('reads the host cache: the same entries as ldconfig -p', function () {
    if (!existsSync('/etc/ld.so.cache')) skipOrFail(this, 'no /etc/ld.so.cache on this machine');
    const p = spawnSync('/sbin/ldconfig', ['-p'], { encoding: 'utf8' });
    if (p.status !== 0) skipOrFail(this, 'ldconfig -p failed');
    const want = [...p.stdout.matchAll(/^\s+(\S+) \(([^)]*)\) => (\S+)$/gm)].map((m) => `${m[1]} ${m[3]}`).sort();
    const cache = parseLdSoCache(readFileSync('/etc/ld.so.cache'));
    const got = cache.entries.map((e) => `${e.key} ${e.value}`).sort();
    expect(got).to.deep.equal(want);
    expect(lookupCache(cache, 'libc.so.6', X86_64)).to.equal('/lib/x86_64-linux-gnu/libc.so.6');
  });

  it('reads the new layout in both byte orders', () => {
    for (const big of [false, true]) {
      const c = parseLdSoCache(makeCache([{ key: 'libz.so.1', value: '/lib/s390x-linux-gnu/libz.so.1', flags: 0x0403 }], { big }));
      expect(c.byteOrder).to.equal(big ? 'big' : 'little');
      expect(lookupCache(c, 'libz.so.1', 0x0403)).to.equal('/lib/s390x-linux-gnu/libz.so.1');
    }
  });

  it('reads the new layout behind an old header (the compat format)', () => {
    const c = parseLdSoCache(makeCache([{ key: 'libz.so.1', value: '/usr/lib/libz.so.1', flags: X86_64 }], { old: true }));
    expect(c.format).to.equal('old+new');
    expect(lookupCache(c, 'libz.so.1', X86_64)).to.equal('/usr/lib/libz.so.1');
  });

  it('reads the old layout alone', () => {
    const strings = 'libold.so.1\0/lib/libold.so.1\0';
    const b = Buffer.alloc(16 + 12);
    b.write('ld.so-1.7.0', 0, 'latin1');
    b.writeUInt32LE(1, 12);
    b.writeInt32LE(3, 16);
    b.writeUInt32LE(0, 20);
    b.writeUInt32LE(12, 24);
    const c = parseLdSoCache(Buffer.concat([b, Buffer.from(strings, 'latin1')]));
    expect(c.format).to.equal('old');
    expect(lookupCache(c, 'libold.so.1', 3)).to.equal('/lib/libold.so.1');
  });

  it('picks the entry of the program\'s ABI when a 32-bit one shares the name', () => {
    const c = parseLdSoCache(makeCache([
      { key: 'libz.so.1', value: '/lib/i386-linux-gnu/libz.so.1', flags: 0x0003 },
      { key: 'libz.so.1', value: '/lib/x86_64-linux-gnu/libz.so.1', flags: X86_64 },
    ]));
    expect(lookupCache(c, 'libz.so.1', X86_64)).to.equal('/lib/x86_64-linux-gnu/libz.so.1');
    expect(lookupCache(c, 'libz.so.1', 0x0003)).to.equal('/lib/i386-linux-gnu/libz.so.1');
  });

  it('prefers a glibc-hwcaps entry the CPU supports, by priority', () => {
    const ext = 1n << 62n;
    const c = parseLdSoCache(makeCache([
      { key: 'libm.so.6', value: '/lib/glibc-hwcaps/x86-64-v3/libm.so.6', flags: X86_64, hwcap: ext | 1n },
      { key: 'libm.so.6', value: '/lib/glibc-hwcaps/x86-64-v2/libm.so.6', flags: X86_64, hwcap: ext | 0n },
      { key: 'libm.so.6', value: '/lib/libm.so.6', flags: X86_64 },
    ], { hwcaps: ['x86-64-v2', 'x86-64-v3'] }));
    expect(lookupCache(c, 'libm.so.6', X86_64, ['x86-64-v3', 'x86-64-v2'])).to.equal('/lib/glibc-hwcaps/x86-64-v3/libm.so.6');
    expect(lookupCache(c, 'libm.so.6', X86_64, ['x86-64-v2'])).to.equal('/lib/glibc-hwcaps/x86-64-v2/libm.so.6');
    expect(lookupCache(c, 'libm.so.6', X86_64, [])).to.equal('/lib/libm.so.6');
  });

  it('rejects garbage and counts that do not fit, with an error', () => {
    expect(() => parseLdSoCache(Buffer.from('not a cache at all, really not'))).to.throw(ElfpackError);
    const b = makeCache([{ key: 'a', value: '/a', flags: 3 }]);
    b.writeUInt32LE(0x7fffffff, 20);
    expect(() => parseLdSoCache(b)).to.throw(ElfpackError, /does not fit/);
  });
});
