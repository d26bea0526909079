// Names from a file (DT_NEEDED, PT_INTERP, RPATH, a "#!" interpreter) and from the command line
// that hold control characters, C1 controls or bytes that are not UTF-8: every text output and
// error line prints them escaped (src/escape.ts), so no name can break a line or ldd's format;
// --json keeps them exactly.
import { expect } from 'chai';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/helpers.js';
import { buildElf } from '../support/elf-builder.js';

/** Every C0 control but NUL (a name ends there), DEL, a C1 control (U+009B, CSI), a byte that is not UTF-8. */
const INSIDES: Buffer[] = [
  ...Array.from({ length: 31 }, (_, i) => Buffer.from([i + 1])),
  Buffer.from([0x7f]), Buffer.from([0xc2, 0x9b]), Buffer.from([0xff]),
];
const NEEDED = INSIDES.map((b) => Buffer.concat([Buffer.from('lib'), b, Buffer.from('x.so.1')]));
const INTERP = '/lib64/ld\nfake.so.2';
const PROGRAM = '/bin/a\nb';
const SCRIPT = '/bin/s\x1b[2Jcript';

/** Each line printable ASCII (the names are ASCII around the hostile bytes), after an optional prefix. */
function expectPrintableLines(text: string, prefix: RegExp, what: string): string[] {
  const lines = text.replace(/\n$/, '').split('\n');
  for (const l of lines) expect(l, `${what}: ${JSON.stringify(l)}`).to.match(new RegExp(`^(${prefix.source})[\\x20-\\x7e]*$`));
  return lines;
}

describe('commands: names with control characters and bytes that are not UTF-8', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'elfpack-hostile-names-'));
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, PROGRAM), buildElf({ interp: INTERP, needed: NEEDED, rpath: '/opt/r\rpath' }), { mode: 0o755 });
    writeFileSync(join(dir, SCRIPT), '#!/bin/s\x07h -\x1bx\n', { mode: 0o755 });
    chmodSync(join(dir, PROGRAM), 0o755);
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('ldd: each library, the interpreter, the FILE header and every stderr line is one line, names escaped as ls -b does', async () => {
    const r = await runCli(['ldd', '--root', dir, PROGRAM, SCRIPT]);
    expect(r.code).to.equal(1);
    const out = expectPrintableLines(r.stdout, /\t|/, 'stdout');
    // FILE: header, the missing interpreter (ld.so lists it before names not found), one line per
    // needed name; then the script's header and line.
    expect(out.slice(0, NEEDED.length + 2)).to.deep.equal([
      '/bin/a\\nb:',
      '\t/lib64/ld\\nfake.so.2 => not found',
      ...['\\001', '\\002', '\\003', '\\004', '\\005', '\\006', '\\a', '\\b', '\\t', '\\n', '\\v', '\\f', '\\r', '\\016', '\\017', '\\020', '\\021',
        '\\022', '\\023', '\\024', '\\025', '\\026', '\\027', '\\030', '\\031', '\\032', '\\033', '\\034', '\\035', '\\036', '\\037', '\\177', '\\302\\233', '\\377',
      ].map((e) => `\tlib${e}x.so.1 => not found`),
    ]);
    const err = expectPrintableLines(r.stderr, /elfpack: |\t/, 'stderr');
    expect(err).to.include('elfpack: /bin/s\\033[2Jcript: a script run by /bin/s\\ah -\\033x');
    expect(err.filter((l) => l.startsWith('elfpack: /bin/a\\nb: lib\\nx.so.1 (needed by /bin/a\\nb) not found; tried /opt/r\\rpath/lib\\nx.so.1,'))).to.have.length(1);
  });

  it('ldd --tree: the same names escaped, one line each', async () => {
    const r = await runCli(['ldd', '--tree', '--root', dir, PROGRAM, SCRIPT]);
    const out = expectPrintableLines(r.stdout, / *|/, 'stdout');
    expect(out[0]).to.equal('/bin/a\\nb (interpreter => /lib64/ld\\nfake.so.2 not found)');
    expect(out).to.have.length(1 + NEEDED.length + 1);
    expect(out[out.length - 1]).to.equal('/bin/s\\033[2Jcript (script for /bin/s\\ah)');
    expectPrintableLines(r.stderr, /elfpack: |\t/, 'stderr');
  });

  it('ldd --json keeps every name exactly (a byte that is not UTF-8 as U+DC00 plus the byte)', async () => {
    const doc = JSON.parse((await runCli(['ldd', '--json', '--root', dir, PROGRAM, SCRIPT])).stdout);
    const [elf, script] = doc.files;
    expect(elf.file).to.equal(PROGRAM);
    expect(elf.elf.interp).to.equal(INTERP);
    expect(elf.elf.rpath).to.equal('/opt/r\rpath');
    expect(elf.elf.needed).to.deep.equal(NEEDED.map((b) => b.toString('utf8').replace('\ufffd', '\udcff')));
    expect(elf.missing.map((m: { name: string }) => m.name)).to.deep.equal([INTERP, ...elf.elf.needed]);
    expect(script.script).to.include({ interpreter: '/bin/s\x07h', argument: '-\x1bx' });
  });

  it('doctor: the findings and the chain print the names escaped, one line each', async () => {
    const r = await runCli(['doctor', dir, '--entrypoint', PROGRAM]);
    expect(r.code).to.equal(1);
    const out = expectPrintableLines(r.stdout, /[✗!] |\x20*|/, 'stdout');
    expect(out.join('\n')).to.include('its loader /lib64/ld\\nfake.so.2 (PT_INTERP) is not in the image');
    const doc = JSON.parse((await runCli(['doctor', dir, '--json', '--entrypoint', PROGRAM])).stdout);
    expect(doc.findings[0].message).to.include(INTERP);
  });

  it('pack: the error naming what is missing is one line', async () => {
    const r = await runCli([PROGRAM, '--root', dir, '--out', join(dir, 'x.tar')]);
    expect(r.code).to.equal(1);
    const err = expectPrintableLines(r.stderr, /elfpack: /, 'stderr');
    expect(err).to.have.length(1);
    expect(err[0]).to.match(/^elfpack: \/bin\/a\\nb: program needs what the root does not have, so no image was written: \/lib64\/ld\\nfake\.so\.2 \(needed by \/bin\/a\\nb\): /);
  });
});
