// The ar container: the name forms of dpkg-deb, GNU ar and BSD ar; bounds; one-line refusals.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_AR_MEMBERS, readArMembers } from '../../src/deb/ar.js';
import { ElfpackError } from '../../src/errors.js';
import { needCommand } from '../support/helpers.js';

function header(name: string, size: number): Buffer {
  const h = `${name.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${String(size).padEnd(10)}\`\n`;
  expect(h.length).to.equal(60);
  return Buffer.from(h, 'latin1');
}

function archive(members: { name: string; bytes: Buffer }[]): Buffer {
  const parts: Buffer[] = [Buffer.from('!<arch>\n')];
  for (const m of members) {
    parts.push(header(m.name, m.bytes.length), m.bytes);
    if (m.bytes.length % 2) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

function refusal(fn: () => unknown): ElfpackError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ElfpackError);
    const e = err as ElfpackError;
    expect(e.describe()).to.not.include('\n');
    return e;
  }
  throw new Error('not refused');
}

describe('deb/ar: the container of a .deb', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'elfpack-ar-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function file(name: string, bytes: Buffer): string {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  }

  it('reads members as dpkg-deb writes them (names padded with spaces, odd sizes padded to even offsets)', () => {
    const p = file('dpkg.a', archive([{ name: 'debian-binary', bytes: Buffer.from('2.0\n') }, { name: 'control.tar.gz', bytes: Buffer.from('abc') }, { name: 'data.tar.xz', bytes: Buffer.from('hello') }]));
    const ms = readArMembers(p);
    expect(ms.map((m) => m.name)).to.deep.equal(['debian-binary', 'control.tar.gz', 'data.tar.xz']);
    const bytes = readFileSync(p);
    expect(ms.map((m) => bytes.toString('latin1', m.offset, m.offset + m.size))).to.deep.equal(['2.0\n', 'abc', 'hello']);
  });

  it('reads GNU ar\'s names ("name/", and "/N" into the "//" table for long ones) as `ar p` gives them', function () {
    needCommand(this, 'ar');
    const long = 'a-member-name-longer-than-sixteen-bytes.txt';
    writeFileSync(join(dir, 'short'), 'one');
    writeFileSync(join(dir, long), 'two!');
    execFileSync('ar', ['rc', 'gnu.a', 'short', long], { cwd: dir });
    const ms = readArMembers(join(dir, 'gnu.a'));
    expect(ms.map((m) => m.name)).to.deep.equal(['short', long]);
    const bytes = readFileSync(join(dir, 'gnu.a'));
    for (const m of ms) expect(bytes.subarray(m.offset, m.offset + m.size)).to.deep.equal(execFileSync('ar', ['p', 'gnu.a', m.name], { cwd: dir }));
  });

  it('reads BSD ar\'s "#1/N" names, the name counted in the member', () => {
    const name = 'control.tar.zst';
    const p = file('bsd.a', archive([{ name: `#1/${name.length}`, bytes: Buffer.concat([Buffer.from(name), Buffer.from('xyz')]) }]));
    const [m] = readArMembers(p);
    expect(m.name).to.equal(name);
    expect(readFileSync(p).toString('latin1', m.offset, m.offset + m.size)).to.equal('xyz');
  });

  it('refuses a file without the ar magic, a truncated member and a bad header with one line naming the file', () => {
    const bad = file('not-ar.deb', Buffer.from('PK\x03\x04 not an archive'));
    expect(refusal(() => readArMembers(bad)).describe()).to.match(/not-ar\.deb: not a valid \.deb: .*ar magic/);
    const whole = archive([{ name: 'debian-binary', bytes: Buffer.from('2.0\n') }, { name: 'data.tar', bytes: Buffer.alloc(1000) }]);
    const cut = file('cut.deb', whole.subarray(0, whole.length - 10));
    const e = refusal(() => readArMembers(cut));
    expect(e.code).to.equal('DEB_MALFORMED');
    expect(e.describe()).to.match(/cut\.deb: .*truncated/);
    const mangled = Buffer.from(whole);
    mangled.write('12x4      ', 8 + 48, 'latin1');
    expect(refusal(() => readArMembers(file('mangled.deb', mangled))).describe()).to.match(/mangled\.deb: .*size that is not a number/);
  });

  it(`refuses more than ${MAX_AR_MEMBERS} members, and a BSD name longer than its member`, () => {
    const many = file('many.a', archive(Array.from({ length: MAX_AR_MEMBERS + 1 }, (_, i) => ({ name: `m${i}`, bytes: Buffer.from('x') }))));
    expect(refusal(() => readArMembers(many)).code).to.equal('DEB_LIMIT');
    const liar = file('liar.a', archive([{ name: '#1/200', bytes: Buffer.from('short') }]));
    expect(refusal(() => readArMembers(liar)).describe()).to.match(/liar\.a: .*BSD name length/);
  });
});
