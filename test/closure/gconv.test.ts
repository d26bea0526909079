// --gconv: glibc's gconv configuration read as gconv_conf.c reads it, charsets named as iconv_open
// names them, and what a charset needs in the image.
import { expect } from 'chai';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GconvConfigReader, lookupCharset, normalizeCharset, planGconv, readGconvConfig } from '../../src/closure/gconv.js';
import { ElfpackError } from '../../src/errors.js';
import { HostRoot } from '../../src/root/host-root.js';
import { skipOrFail } from '../support/helpers.js';

const DIR = '/usr/lib/x86_64-linux-gnu/gconv';

function config(text: string, bigEndian = false) {
  const r = new GconvConfigReader();
  r.addFile(`${DIR}/gconv-modules`, text, DIR);
  return r.finish(bigEndian);
}

describe('closure/gconv: the configuration, as glibc reads it', () => {
  it('names are upper-cased, module files are not; relative files start at the gconv directory and get ".so"', () => {
    const c = config('alias latin1// iso-8859-1//\nmodule iso-8859-1// internal ISO8859-1 1\nmodule INTERNAL ISO-8859-1// /opt/x/Latin.so\n');
    expect(c.aliases.get('LATIN1//')).to.equal('ISO-8859-1//');
    const found = lookupCharset(c, 'latin1');
    expect(found.kind).to.equal('modules');
    expect(found.kind === 'modules' && found.modules.map((m) => [m.from, m.to, m.file])).to.deep.equal([
      ['ISO-8859-1//', 'INTERNAL', `${DIR}/ISO8859-1.so`],
      ['INTERNAL', 'ISO-8859-1//', '/opt/x/Latin.so'],
    ]);
  });

  it('comments start anywhere, other keywords and short lines are ignored, any whitespace separates', () => {
    const c = config([
      '# alias A// B//',
      'alias\tC//\t\tD//   # the rest is a comment',
      'Alias E// F//', // keywords are case-sensitive
      'alias G//', // no target
      'module H// INTERNAL', // no file
      'include other', // not a keyword glibc knows
      'module D// INTERNAL D\r', // a CR is whitespace
    ].join('\n'));
    expect([...c.aliases].filter(([k]) => !k.startsWith('UCS') && k.length <= 3)).to.deep.equal([['C//', 'D//']]);
    expect(c.aliases.has('A//')).to.equal(false);
    expect(c.aliases.has('E//')).to.equal(false);
    expect(c.modules.filter((m) => m.file).map((m) => m.file)).to.deep.equal([`${DIR}/D.so`]);
  });

  it('of two modules for the same conversion the cheaper stays, the first on a tie; a bad cost is 1', () => {
    const c = config([
      'module X// INTERNAL first 3',
      'module X// INTERNAL cheaper 2',
      'module X// INTERNAL tie 2',
      'module INTERNAL X// a 0', // less than 1: 1
      'module INTERNAL X// b junk', // not a number: 1, and a tie with a
    ].join('\n'));
    expect(c.modules.filter((m) => m.file).map((m) => [m.file, m.cost])).to.deep.equal([[`${DIR}/cheaper.so`, 2], [`${DIR}/a.so`, 1]]);
  });

  it('an alias naming a module\'s source is dropped, a module whose source is an alias is dropped, the first alias wins', () => {
    const c = config([
      'module M// INTERNAL M',
      'alias M// OTHER//', // conflicts with the module: dropped
      'alias N// M//',
      'alias N// OTHER//', // second alias of N: dropped
      'module N// INTERNAL N', // N is an alias: dropped
    ].join('\n'));
    expect(c.aliases.has('M//')).to.equal(false);
    expect(c.aliases.get('N//')).to.equal('M//');
    expect(c.modules.filter((m) => m.file).map((m) => m.file)).to.deep.equal([`${DIR}/M.so`]);
  });

  it('UTF-8, ASCII, UCS-2, UCS-4 and WCHAR_T are built into libc, under any of their names; UTF-16 and UTF-32 are modules', () => {
    const c = config('module UTF-16// INTERNAL UTF-16 1\nmodule INTERNAL UTF-16// UTF-16 1\n');
    for (const name of ['UTF-8', 'utf8', 'ISO-10646/UTF-8', 'ASCII', 'US-ASCII', 'ANSI_X3.4-1968', 'UCS-2', 'UCS-2LE', 'UCS-2BE', 'UCS-4', 'UCS-4LE', 'WCHAR_T']) {
      expect(lookupCharset(c, name).kind, name).to.equal('builtin');
    }
    expect(lookupCharset(c, 'UTF-16').kind).to.equal('modules');
    expect(lookupCharset(c, 'UTF-32').kind).to.equal('unknown');
  });

  it('the reversed UCS-2 is UNICODEBIG on a little-endian machine and UNICODELITTLE on a big-endian one', () => {
    expect(config('', false).aliases.get('UCS-2BE//')).to.equal('UNICODEBIG//');
    expect(config('', false).aliases.get('UCS-2LE//')).to.equal('ISO-10646/UCS2/');
    expect(config('', true).aliases.get('UCS-2LE//')).to.equal('UNICODELITTLE//');
    expect(config('', true).aliases.get('UCS-2BE//')).to.equal('ISO-10646/UCS2/');
  });

  it('a configured module for a built-in charset is what glibc uses, so it is what --gconv adds', () => {
    const c = config('module ISO-10646/UTF8/ INTERNAL myutf8 1\n');
    const found = lookupCharset(c, 'UTF-8');
    expect(found.kind === 'modules' && found.modules.map((m) => m.file)).to.deep.equal([`${DIR}/myutf8.so`]);
  });

  it('charsets are named as iconv_open names them: suffixes dropped, odd characters stripped, two slashes', () => {
    expect(normalizeCharset('latin1')).to.equal('LATIN1//');
    expect(normalizeCharset('ISO-8859-1//TRANSLIT')).to.equal('ISO-8859-1//');
    expect(normalizeCharset('utf-8//translit//ignore')).to.equal('UTF-8//');
    expect(normalizeCharset('ISO-10646/UCS4')).to.equal('ISO-10646/UCS4/');
    expect(normalizeCharset('ISO_8859-1:1987')).to.equal('ISO_8859-1:1987//');
    expect(normalizeCharset('euc jp')).to.equal('EUCJP//');
  });
});

describe('closure/gconv: a root\'s gconv directory', () => {
  let dir: string;
  const gconv = (rel = '') => join(dir, DIR, rel);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'elfpack-gconv-'));
    mkdirSync(gconv('gconv-modules.d'), { recursive: true });
    writeFileSync(gconv('gconv-modules'), '# glibc\nalias LATIN1// ISO-8859-1//\nmodule ISO-8859-1// INTERNAL ISO8859-1 1\nmodule INTERNAL ISO-8859-1// ISO8859-1 1\n');
    writeFileSync(gconv('gconv-modules.d/b-extra.conf'), 'alias EUCJP// EUC-JP//\nmodule EUC-JP// INTERNAL EUC-JP 1\nmodule INTERNAL EUC-JP// EUC-JP 1\n');
    // Read before b-extra.conf (sorted): its alias of B// wins over b-extra's.
    writeFileSync(gconv('gconv-modules.d/a.conf'), 'alias ONLY-IN-D// EUC-JP//\n');
    writeFileSync(gconv('gconv-modules.d/notes.txt'), 'alias IGNORED// EUC-JP//\n');
    writeFileSync(gconv('gconv-modules.d/.conf'), 'alias IGNORED2// EUC-JP//\n'); // only a suffix: glibc wants more
    writeFileSync(gconv('gconv-modules.cache'), 'cache');
    for (const f of ['ISO8859-1.so', 'EUC-JP.so', 'UNUSED.so']) writeFileSync(gconv(f), 'not really ELF');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads gconv-modules, then each gconv-modules.d/*.conf in name order, and nothing else', () => {
    const c = readGconvConfig(new HostRoot(dir), DIR);
    expect(c.files).to.deep.equal([`${DIR}/gconv-modules`, `${DIR}/gconv-modules.d/a.conf`, `${DIR}/gconv-modules.d/b-extra.conf`]);
    expect(c.aliases.get('ONLY-IN-D//')).to.equal('EUC-JP//');
    expect(c.aliases.has('IGNORED//')).to.equal(false);
    expect(c.aliases.has('IGNORED2//')).to.equal(false);
  });

  it('--gconv adds the modules a charset needs (by any alias), the configuration and the cache, and notes built-in ones', () => {
    const plan = planGconv(new HostRoot(dir), { charsets: ['latin1', 'EUCJP', 'UTF-8'], triplet: 'x86_64-linux-gnu' });
    expect(plan.dep!.paths).to.deep.equal([
      `${DIR}/gconv-modules`, `${DIR}/gconv-modules.d/a.conf`, `${DIR}/gconv-modules.d/b-extra.conf`, `${DIR}/gconv-modules.cache`,
      `${DIR}/ISO8859-1.so`, `${DIR}/EUC-JP.so`,
    ]);
    expect(plan.dep!.reason).to.match(/ISO8859-1\.so \(latin1\), EUC-JP\.so \(EUCJP\) for --gconv/);
    expect(plan.notes).to.deep.equal(['--gconv UTF-8: glibc converts UTF-8 itself (ISO-10646/UTF8/); it needs no module']);
  });

  it('--gconv UTF-8 adds nothing and says so; --gconv all adds the directory', () => {
    const root = new HostRoot(dir);
    const utf8 = planGconv(root, { charsets: ['UTF-8'], triplet: 'x86_64-linux-gnu' });
    expect(utf8.dep).to.equal(undefined);
    expect(utf8.notes).to.have.length(1);
    expect(planGconv(root, { charsets: ['ALL'], triplet: 'x86_64-linux-gnu' }).dep!.paths).to.deep.equal([DIR]);
  });

  it('an unknown charset is one line naming it and the files read', () => {
    const err = catchError(() => planGconv(new HostRoot(dir), { charsets: ['LATIN1', 'KLINGON'], triplet: 'x86_64-linux-gnu' }));
    expect(err.code).to.equal('USAGE');
    expect(err.describe()).to.equal(`--gconv KLINGON: no such charset in ${DIR}/gconv-modules, ${DIR}/gconv-modules.d/a.conf, ${DIR}/gconv-modules.d/b-extra.conf, nor one glibc converts itself`);
  });

  it('a root without a gconv directory, or a module the configuration names and the root lacks, is one line', () => {
    const bare = mkdtempSync(join(tmpdir(), 'elfpack-gconv-none-'));
    try {
      const err = catchError(() => planGconv(new HostRoot(bare), { charsets: ['LATIN1'], triplet: 'x86_64-linux-gnu' }));
      expect(err.describe()).to.equal('--gconv LATIN1: the root has no glibc gconv directory (looked in /usr/lib/x86_64-linux-gnu/gconv, /usr/lib64/gconv, /usr/lib/gconv)');
      mkdirSync(join(bare, DIR), { recursive: true });
      writeFileSync(join(bare, DIR, 'gconv-modules'), 'module X// INTERNAL GONE 1\n');
      const gone = catchError(() => planGconv(new HostRoot(bare), { charsets: ['X'], triplet: 'x86_64-linux-gnu' }));
      expect(gone.code).to.equal('NOT_FOUND');
      expect(gone.describe()).to.match(/GONE\.so: --gconv X: .*gconv-modules names .*GONE\.so, which the root does not have/);
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });

  it('a configuration file larger than 4 MB is refused, naming it', () => {
    const big = mkdtempSync(join(tmpdir(), 'elfpack-gconv-big-'));
    try {
      mkdirSync(join(big, DIR), { recursive: true });
      writeFileSync(join(big, DIR, 'gconv-modules'), Buffer.alloc((4 << 20) + 1, 0x20));
      const err = catchError(() => readGconvConfig(new HostRoot(big), DIR));
      expect(err.describe()).to.match(/gconv-modules: is 4194305 bytes: more than/);
    } finally {
      rmSync(big, { recursive: true, force: true });
    }
  });

  it("Debian's own configuration: every alias of Latin-1 leads to ISO8859-1.so, EUC-JP to EUC-JP.so", function () {
    const host = '/usr/lib/x86_64-linux-gnu/gconv';
    if (!existsSync(`${host}/gconv-modules`)) skipOrFail(this, `${host}/gconv-modules is not here (libc6 on Debian amd64)`);
    const c = readGconvConfig(new HostRoot('/'), host);
    for (const name of ['LATIN1', 'ISO8859-1', 'ISO_8859-1', 'iso-8859-1', 'L1', 'CP819']) {
      const found = lookupCharset(c, name);
      expect(found.kind === 'modules' && [...new Set(found.modules.map((m) => m.file))], name).to.deep.equal([`${host}/ISO8859-1.so`]);
    }
    const jp = lookupCharset(c, 'EUC-JP');
    expect(jp.kind === 'modules' && [...new Set(jp.modules.map((m) => m.file))]).to.deep.equal([`${host}/EUC-JP.so`]);
    expect(lookupCharset(c, 'UTF-16').kind).to.equal('modules');
  });

  it('a module file reached through a symlink is found where the link points', () => {
    const linked = mkdtempSync(join(tmpdir(), 'elfpack-gconv-link-'));
    try {
      mkdirSync(join(linked, DIR), { recursive: true });
      mkdirSync(join(linked, 'opt/real'), { recursive: true });
      writeFileSync(join(linked, DIR, 'gconv-modules'), 'module Y// INTERNAL Y 1\n');
      copyFileSync(gconv('EUC-JP.so'), join(linked, 'opt/real/Y.so'));
      symlinkSync('/opt/real/Y.so', join(linked, DIR, 'Y.so'));
      expect(planGconv(new HostRoot(linked), { charsets: ['Y'], triplet: 'x86_64-linux-gnu' }).dep!.paths).to.include(`${DIR}/Y.so`);
    } finally {
      rmSync(linked, { recursive: true, force: true });
    }
  });
});

function catchError(f: () => unknown): ElfpackError {
  try {
    f();
  } catch (err) {
    if (err instanceof ElfpackError) return err;
    throw err;
  }
  throw new Error('no error thrown');
}
