import { expect } from 'chai';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, REPO, TESTDATA, needCommand, runCli } from './support/helpers.js';

describe('cli', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'elfpack-cli-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists a host program\'s libraries and exits 0', async () => {
    const r = await runCli(['ldd', '/bin/ls']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/^\tlibc\.so\.6 => \/lib\/x86_64-linux-gnu\/libc\.so\.6$/m);
    expect(r.stderr).to.equal('');
  });

  it('a missing file: one line naming it, exit 1, nothing on stdout', async () => {
    const r = await runCli(['ldd', 'no/such/file']);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.equal('elfpack: no/such/file: no such file\n');
  });

  it('a directory, a device and a FIFO are refused at once, never read', async function () {
    const fifo = join(dir, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).to.equal(0);
    const r = await runCli(['ldd', '/tmp', '/dev/null', fifo]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include('elfpack: /tmp: is a directory, not a regular file');
    expect(r.stderr).to.include('elfpack: /dev/null: is a character device, not a regular file');
    expect(r.stderr).to.include(`elfpack: ${fifo}: is a FIFO, not a regular file`);
  });

  it('a malformed ELF gives one line with the file and the problem', async () => {
    const f = join(TESTDATA, 'malformed/no-dt-null');
    const r = await runCli(['ldd', f]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal(`elfpack: ${f}: dynamic section has no DT_NULL terminator\n`);
  });

  it('a text file is "not an ELF file"; a script names its interpreter and a CRLF line', async () => {
    const sh = join(dir, 'crlf.sh');
    writeFileSync(sh, '#!/bin/sh\r\necho hi\r\n');
    const txt = join(dir, 'notes.txt');
    writeFileSync(txt, 'just text\n');
    const r = await runCli(['ldd', sh, txt]);
    // As glibc's ldd: the headers on stdout, "not a dynamic executable" on stderr.
    expect(r.stdout).to.equal(`${sh}:\n${txt}:\n`);
    expect(r.stderr.split('\n').filter((l) => l === '\tnot a dynamic executable')).to.have.length(2);
    expect(r.stderr).to.include(`elfpack: ${sh}: a script run by /bin/sh`);
    expect(r.stderr).to.include('CRLF');
    expect(r.stderr).to.include(`elfpack: ${txt}: not an ELF file`);
    expect(r.code).to.equal(1);
  });

  it('the final error line escapes control characters in the path and message: one line, always', async () => {
    const r = await runCli(['ldd', '--root', '/no\nsuch\x1b[2Jroot', '/bin/ls']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.equal('elfpack: /no\\nsuch\\033[2Jroot: no such directory\n');
  });

  it('--json is valid JSON with the documented top-level fields', async () => {
    const r = await runCli(['ldd', '--json', '/bin/ls']);
    const doc = JSON.parse(r.stdout);
    expect(doc.schema).to.equal('elfpack.ldd/v1');
    expect(doc.files[0]).to.include.keys('file', 'realPath', 'status', 'elf', 'platform', 'libc', 'interpreter', 'libraries', 'missing');
    expect(doc.files[0].libraries.map((l: { name: string }) => l.name)).to.include('libc.so.6');
    expect(doc.files[0].elf.versionNeeds.length).to.be.greaterThan(0);
  });

  it('no colour when stdout is not a terminal, nor with NO_COLOR; colour on a terminal', async () => {
    const missing = join(TESTDATA, 'malformed/valid-base.elf');
    const plain = await runCli(['ldd', missing], { isTTY: false });
    expect(plain.stdout).to.not.include('\x1b[');
    const noColor = await runCli(['ldd', missing], { isTTY: true, env: { NO_COLOR: '1' } });
    expect(noColor.stdout).to.not.include('\x1b[');
    const tty = await runCli(['ldd', missing], { isTTY: true, env: { TERM: 'xterm' } });
    expect(tty.stdout).to.include('\x1b[31mnot found');
  });

  it('bad usage exits 2; --root that is neither a directory nor an image is one clear line', async () => {
    expect((await runCli(['ldd'])).code).to.equal(2);
    expect((await runCli(['--frobnicate'])).code).to.equal(2);
    // A word that is no command is the program to pack (pack is the default command).
    const word = await runCli(['frobnicate']);
    expect([word.code, word.stderr]).to.deep.equal([1, 'elfpack: frobnicate: no such file\n']);
    const r = await runCli(['ldd', '--root', '/etc/passwd', '/bin/ls']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.equal('elfpack: /etc/passwd: is neither a directory nor an image tar\n');
  });

  it('never runs the file it analyses (a constructor that would leave a mark leaves none)', function () {
    needCommand(this, 'gcc');
    const src = join(dir, 'mark.c');
    const bin = join(dir, 'mark');
    const mark = join(dir, 'was-run');
    writeFileSync(src, `#include <stdio.h>\n__attribute__((constructor)) static void m(void){ FILE *f = fopen("${mark}", "w"); if (f) fclose(f); }\nint main(void){ return 0; }\n`);
    expect(spawnSync('gcc', ['-o', bin, src]).status).to.equal(0);
    chmodSync(bin, 0o755);
    const r = spawnSync(process.execPath, [join(REPO, 'bin/elfpack'), 'ldd', '--tree', bin], { encoding: 'utf8' });
    expect(r.status).to.equal(0);
    expect(r.stdout).to.include('libc.so.6');
    expect(existsSync(mark)).to.equal(false);
  });

  it('the installed bin script runs and prints help', () => {
    const r = spawnSync(process.execPath, [join(REPO, 'bin/elfpack'), '--help'], { encoding: 'utf8' });
    expect(r.status).to.equal(0);
    expect(r.stdout).to.include('ldd');
  });

  // bin/elfpack as a user runs it: its #! line passes V8 flags through `env -S`, and it writes to
  // fd 1 and 2 itself (not through process.stdout), so every kind of stdout must still get it all.
  it('runs as its own program, and writes the same to a pipe, a file and a terminal', function () {
    needCommand(this, 'script');
    const elfpack = join(REPO, 'bin/elfpack');
    const piped = spawnSync(elfpack, ['ldd', '/bin/ls', '/no/such'], { encoding: 'utf8' });
    expect(piped.status).to.equal(1);
    expect(piped.stdout).to.match(/^\/bin\/ls:\n/);
    expect(piped.stdout).to.match(/^\tlibc\.so\.6 => \/lib\/x86_64-linux-gnu\/libc\.so\.6$/m);
    expect(piped.stderr).to.equal('elfpack: /no/such: no such file\n');
    const out = join(dir, 'ldd.txt');
    const toFile = spawnSync('sh', ['-c', `"${elfpack}" ldd /bin/ls /no/such > "${out}" 2>/dev/null`]);
    expect(toFile.status).to.equal(1);
    expect(readFileSync(out, 'utf8')).to.equal(piped.stdout);
    // A terminal (script(1) gives it a pty): the same lines, with CRLF from the tty, and colour.
    const missing = join(TESTDATA, 'malformed/valid-base.elf');
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm' };
    delete env.NO_COLOR;
    delete env.FORCE_COLOR;
    const tty = spawnSync('script', ['-qec', `"${elfpack}" ldd /bin/ls "${missing}"`, '/dev/null'], { encoding: 'utf8', env });
    expect(tty.stdout.replace(/\r\n/g, '\n').startsWith(piped.stdout)).to.equal(true);
    expect(tty.stdout).to.include('\x1b[31mnot found');
  });

  // bin/load-bundle.cjs: V8's code cache is only an accelerator.
  it('the code cache make build wrote is one V8 takes with bin/elfpack\'s flags', () => {
    const flags = readFileSync(join(REPO, 'bin/elfpack'), 'utf8').split('\n')[0].replace(/^#!\/usr\/bin\/env -S node\s*/, '').split(/\s+/).filter(Boolean);
    const probe = `const vm = require('vm'), fs = require('fs'), m = require('module');
      const f = ${JSON.stringify(join(REPO, 'dist/elfpack.cjs'))};
      const s = new vm.Script(m.wrap(fs.readFileSync(f, 'utf8')), { filename: f, cachedData: fs.readFileSync(f + '.v8cache') });
      process.stdout.write(String(s.cachedDataRejected));`;
    const r = spawnSync(process.execPath, [...flags, '-e', probe], { encoding: 'utf8' });
    expect(r.stderr).to.equal('');
    expect(r.stdout).to.equal('false');
  });

  it('bin/elfpack runs the same without its code cache, or with a damaged one', () => {
    const copy = join(dir, 'copy');
    mkdirSync(join(copy, 'dist'), { recursive: true });
    cpSync(join(REPO, 'bin'), join(copy, 'bin'), { recursive: true });
    copyFileSync(join(REPO, 'dist/elfpack.cjs'), join(copy, 'dist/elfpack.cjs'));
    symlinkSync(join(REPO, 'node_modules'), join(copy, 'node_modules'));
    const run = () => spawnSync(join(copy, 'bin/elfpack'), ['ldd', '/bin/ls'], { encoding: 'utf8' });
    const want = spawnSync(join(REPO, 'bin/elfpack'), ['ldd', '/bin/ls'], { encoding: 'utf8' }).stdout;
    expect(want).to.include('libc.so.6');
    const bare = run();
    expect(bare.stdout, bare.stderr).to.equal(want);
    const cache = readFileSync(join(REPO, 'dist/elfpack.cjs.v8cache'));
    cache.fill(0x5a, 64, 4096);
    writeFileSync(join(copy, 'dist/elfpack.cjs.v8cache'), cache);
    const damaged = run();
    expect(damaged.stderr).to.equal('');
    expect(damaged.stdout).to.equal(want);
  });

  // package.json "files" decides what an installed elfpack has: the bundle was once left out.
  it('the npm package holds what bin/elfpack and the library need: unpacked beside its dependencies, both run', async function () {
    this.timeout(60000);
    needCommand(this, 'npm');
    // prepack builds the package before npm packs it (it cannot be published unbuilt); here the
    // build is the one the tests run from, so the script is checked and skipped.
    expect(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).scripts.prepack).to.equal('make --no-print-directory build');
    const packed = spawnSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: REPO, encoding: 'utf8' });
    expect(packed.status, packed.stderr).to.equal(0);
    const tgz = join(dir, packed.stdout.trim().split('\n').pop()!);
    const unpacked = spawnSync('tar', ['-xzf', tgz, '-C', dir], { encoding: 'utf8' });
    expect(unpacked.status, unpacked.stderr).to.equal(0);
    const pkg = join(dir, 'package');
    symlinkSync(join(REPO, 'node_modules'), join(pkg, 'node_modules'));
    const r = spawnSync(join(pkg, 'bin/elfpack'), ['ldd', '/bin/ls'], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^\tlibc\.so\.6 => /m);
    const lib = await import(join(pkg, JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).main));
    expect(typeof lib.readElf).to.equal('function');
  });

  it('an ldd run of the bundle loads neither child_process nor the stream modules', () => {
    // Node loads them (~10 ms) for commander's child_process and for process.stdout; bin/elfpack
    // avoids both, and they load when a command needs them (the go test below runs `go build`).
    const probe = `const m = require(${JSON.stringify(join(REPO, 'dist/elfpack.cjs'))});
      m.main(['ldd', '/bin/ls'], { stdout: m.fdWriter(1), stderr: m.fdWriter(2), env: {}, isTTY: m.isTerminal(1), cwd: '/' })
        .then(() => require('fs').writeSync(2, JSON.stringify(process.moduleLoadList)));`;
    const r = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
    expect(r.stdout).to.include('libc.so.6');
    const loaded: string[] = JSON.parse(r.stderr);
    expect(loaded).to.not.include('NativeModule child_process');
    expect(loaded).to.not.include('NativeModule stream');
  });

  // bin/elfpack runs the bundle (dist/elfpack.cjs), not dist/src: each command's lazily loaded
  // modules must be in it, and its packages found beside it.
  it('the bundled CLI runs ldd, pack, doctor and each command\'s help', function () {
    this.timeout(120000);
    const bin = (args: string[]) => spawnSync(process.execPath, [join(REPO, 'bin/elfpack'), ...args], { encoding: 'utf8' });
    const ldd = bin(['ldd', '--json', '/bin/ls']);
    expect(ldd.status, ldd.stderr).to.equal(0);
    expect(JSON.parse(ldd.stdout).files[0].libraries.map((l: { name: string }) => l.name)).to.include('libc.so.6');
    const tar = join(dir, 'ls.tar');
    const pack = bin(['/bin/ls', '--out', tar]);
    expect(pack.status, pack.stderr).to.equal(0);
    expect(existsSync(tar)).to.equal(true);
    const inside = bin(['ldd', '--root', tar, '/bin/ls']);
    expect(inside.status, inside.stderr).to.equal(0);
    expect(inside.stdout).to.match(/libc\.so\.6 => \/\S*libc\.so\.6/);
    const doctor = bin(['doctor', tar]);
    expect(doctor.status, doctor.stdout + doctor.stderr).to.equal(0);
    for (const cmd of ['go', 'push']) {
      const help = bin([cmd, '--help']);
      expect(help.status, help.stderr).to.equal(0);
      expect(help.stdout).to.include(`elfpack ${cmd}`);
    }
  });

  // In the bundle node:child_process stands behind a proxy that loads it on first use.
  it('the bundled CLI runs `go build` for elfpack go', function () {
    needCommand(this, 'go');
    this.timeout(300000);
    const tar = join(dir, 'server.tar');
    const env = { ...process.env, GOCACHE: join(FIXTURES, '.gocache'), GOPATH: join(FIXTURES, '.gopath'), GOPROXY: 'off', GOFLAGS: '-mod=mod' };
    const r = spawnSync(join(REPO, 'bin/elfpack'), ['go', join(REPO, 'testdata/programs/go/server'), '--out', tar], { encoding: 'utf8', env });
    expect(r.status, r.stderr).to.equal(0);
    expect(existsSync(tar)).to.equal(true);
  });
});
