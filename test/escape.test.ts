// Names printed as `ls -b` prints them (src/escape.ts), checked against ls itself on real files,
// and names decoded from a file's bytes (decodeName) keeping every byte.
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeName } from '../src/elf/byte-source.js';
import { escapeControls, escapeName } from '../src/escape.js';
import { needCommand } from './support/helpers.js';

/** Every byte sequence whose printing we decide: C0 controls, DEL, C1, U+2028, bytes that are not UTF-8, a backslash. */
function hostileInsides(): Buffer[] {
  const out: Buffer[] = [];
  for (let c = 1; c < 0x20; c++) out.push(Buffer.from([c]));
  out.push(Buffer.from([0x7f]), Buffer.from('\\'));
  for (let c = 0x80; c <= 0x9f; c++) out.push(Buffer.from([0xc2, c])); // C1 controls, as UTF-8
  for (let c = 0x80; c <= 0xff; c++) out.push(Buffer.from([c])); // a lone byte: never UTF-8
  out.push(Buffer.from([0xe2, 0x80, 0xa8]), Buffer.from([0xe2, 0x80, 0xa9]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xe0, 0x80, 0x80]));
  return out;
}

describe('escape', () => {
  it('escapeName prints each control byte, C1 control, U+2028 and non-UTF-8 byte of a name as ls -b does', function () {
    needCommand(this, 'ls');
    const dir = mkdtempSync(join(tmpdir(), 'elfpack-escape-'));
    try {
      // Each name alone in a numbered directory: ls's answer for a directory is that one name.
      const names = hostileInsides().map((inside) => Buffer.concat([Buffer.from('a'), inside, Buffer.from('b')]));
      const dirs = names.map((n, i) => {
        const d = join(dir, String(i).padStart(3, '0'));
        mkdirSync(d);
        writeFileSync(Buffer.concat([Buffer.from(d + '/'), n]), '');
        return d;
      });
      const r = spawnSync('ls', ['-b', '-1', ...dirs], { env: { LC_ALL: 'C.UTF-8' }, encoding: 'utf8' });
      expect(r.status, r.stderr).to.equal(0);
      const listed = new Map(r.stdout.trim().split('\n\n').map((block) => block.split('\n') as [string, string]));
      names.forEach((n, i) => {
        expect(escapeName(decodeName(n, 0, n.length)), JSON.stringify(n.toString('latin1'))).to.equal(listed.get(`${dirs[i]}:`));
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an escaped name is one line of printable text, and escapeControls leaves backslashes alone', () => {
    for (const inside of hostileInsides()) {
      const s = decodeName(inside, 0, inside.length);
      expect(escapeName(s)).to.match(/^[\x20-\x7e]*$/);
      expect(escapeControls(`x ${s} y`)).to.not.match(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/);
    }
    expect(escapeControls('a\\b\nc')).to.equal('a\\b\\nc');
    expect(escapeName('a\\b\nc')).to.equal('a\\\\b\\nc');
    expect(escapeName('plain/lib-é.so.1 ok')).to.equal('plain/lib-é.so.1 ok');
  });

  it('decodeName keeps each byte that is not UTF-8 as U+DC80+byte, and real UTF-8 (U+FFFD, 😀, U+10080) as it is', () => {
    const b = Buffer.from([0x61, 0xff, 0xef, 0xbf, 0xbd, 0xc3, 0x28, 0xf0, 0x9f, 0x98, 0x80, 0xf0, 0x90, 0x82, 0x80]);
    expect(decodeName(b, 0, b.length)).to.equal('a\udcff\ufffd\udcc3(😀\u{10080}');
    // U+10080's low surrogate is U+DC80: a valid pair is never taken for a byte.
    expect(escapeName('\u{10080}')).to.equal('\u{10080}');
  });
});
