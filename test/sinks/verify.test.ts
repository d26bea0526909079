// --verify: the finished image runs once in the engine; a non-zero exit or a run past the time
// limit fails the pack with the program's output shown and nothing kept; exit 0 passes and says so.
// The container is removed, and a verify-only run leaves the engine's tags as it found them.
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutputTail, tailLines } from '../../src/sinks/verify.js';
import { dockerRmi, needEngine, run } from '../support/engine.js';
import { runCli, skipOrFail } from '../support/helpers.js';

/** A frame of the engine's multiplexed stream: 1 stdout, 2 stderr. */
function frame(stream: 1 | 2, text: string): Buffer {
  const body = Buffer.from(text);
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(body.length, 4);
  return Buffer.concat([h, body]);
}

describe('verify: the output kept', () => {
  it('frames split anywhere are joined in order, stdout and stderr interleaved as they came', () => {
    const all = Buffer.concat([frame(1, 'one\n'), frame(2, 'two\n'), frame(1, 'three\n')]);
    for (const cut of [1, 3, 8, 9, 13, all.length - 1]) {
      const t = new OutputTail(1024);
      t.push(all.subarray(0, cut));
      t.push(all.subarray(cut));
      expect(t.bytes().toString(), `cut at ${cut}`).to.equal('one\ntwo\nthree\n');
      expect(t.truncated).to.equal(false);
    }
  });

  it('keeps only the last bytes, and says earlier output was dropped', () => {
    const t = new OutputTail(10);
    t.push(frame(1, 'a'.repeat(100) + '\n'));
    t.push(frame(2, 'end\n'));
    expect(t.bytes().toString()).to.equal('aaaaaa\nend\n'.slice(-10));
    expect(t.truncated).to.equal(true);
    expect(tailLines(t.bytes(), t.truncated)[0]).to.equal('… (earlier output not shown)');
  });

  it('lines: the last 40, each with control characters escaped', () => {
    const text = Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n') + '\n\x1b[31mred\n';
    const lines = tailLines(Buffer.from(text));
    expect(lines).to.have.length(41);
    expect(lines[0]).to.equal('… (earlier output not shown)');
    expect(lines[40]).to.equal('\\033[31mred');
    expect(tailLines(Buffer.alloc(0))).to.deep.equal([]);
  });
});

describe('verify: the image run in the engine', function () {
  this.timeout(180_000);
  let dir: string;
  const tags: string[] = [];
  const tagFor = (name: string) => {
    const t = `elfpack-lean-extras-verify-${name}:1`;
    tags.push(t);
    return t;
  };
  const inEngine = (tag: string) => run('docker', ['image', 'inspect', '--format', '{{.Id}}', tag]).stdout.trim();
  const containersOf = (tag: string) => run('docker', ['ps', '-a', '-q', '--filter', `label=elfpack.verify=${tag}`]).stdout.trim();

  before(function () {
    needEngine(this);
    if (!existsSync('/bin/sh') || !existsSync('/bin/true') || !existsSync('/bin/sleep')) skipOrFail(this, '/bin/sh, /bin/true or /bin/sleep is missing');
  });
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'elfpack-verify-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  after(() => { for (const t of tags) dockerRmi(t); });

  it('an image that exits 1 fails the pack: exit 1, its output shown, no tar, no image, no container left', async function () {
    const tag = tagFor('fails');
    const out = join(dir, 'fails.tar');
    const r = await runCli(['/bin/sh', '--out', out, '--tag', tag, '--verify', '--', '-c', 'echo to stdout; echo to stderr >&2; exit 1']);
    expect(r.code).to.equal(1);
    // stdout and stderr are two pipes in the container, read side by side: their order is not fixed.
    expect(r.stderr).to.match(/^elfpack: the image's output:\n {2}\| to std(out|err)\n {2}\| to std(out|err)\n/);
    expect(r.stderr).to.include('  | to stdout\n').and.include('  | to stderr\n');
    expect(r.stderr).to.match(new RegExp(`elfpack: ${tag}: verify: the image exited with status 1 in \\d+\\.\\d s; nothing was kept \\(its output is above\\)\\n$`));
    expect(readdirSync(dir)).to.deep.equal([]);
    expect(inEngine(tag)).to.equal('');
    expect(containersOf(tag)).to.equal('');
  });

  it('/bin/false fails too, saying it printed nothing; --rootfs written by the pack is removed', async function () {
    const tag = tagFor('false');
    const rootfs = join(dir, 'rootfs');
    const r = await runCli(['/bin/false', '--rootfs', rootfs, '--tag', tag, '--verify']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/exited with status 1 in .*; nothing was kept \(it printed nothing\)\n$/);
    expect(existsSync(rootfs)).to.equal(false);
    // An empty directory given as --rootfs is left empty, as it was.
    mkdirSync(rootfs);
    expect((await runCli(['/bin/false', '--rootfs', rootfs, '--tag', tag, '--verify'])).code).to.equal(1);
    expect(readdirSync(rootfs)).to.deep.equal([]);
  });

  it('/bin/true passes: "verified: exited 0", the tar kept, and a verify-only run leaves no image in the engine', async function () {
    const tag = tagFor('true');
    const out = join(dir, 'true.tar');
    const r = await runCli(['/bin/true', '--out', out, '--tag', tag, '--verify']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.match(/\n {2}verified: exited 0 in \d+\.\d s\n$/);
    expect(existsSync(out)).to.equal(true);
    expect(inEngine(tag)).to.equal('');
    expect(containersOf(tag)).to.equal('');
    const json = await runCli(['/bin/true', '--out', out, '--tag', tag, '--verify', '--json']);
    expect(JSON.parse(json.stdout).verified).to.deep.include({ exitCode: 0 });
  });

  it('with --load the verified image stays under its tag, loaded once', async function () {
    const tag = tagFor('load');
    const r = await runCli(['/bin/true', '--tag', tag, '--verify', '--load']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.include(`elfpack: loaded ${tag} into the engine\n`);
    expect(inEngine(tag)).to.match(/^sha256:/);
  });

  it('a tag that named another image before a verify-only run names it again after', async function () {
    const tag = tagFor('retag');
    expect((await runCli(['/bin/sh', '--tag', tag, '--load'])).code).to.equal(0);
    const before = inEngine(tag);
    const r = await runCli(['/bin/true', '--tag', tag, '--verify', '--out', join(dir, 't.tar')]);
    expect(r.code, r.stderr).to.equal(0);
    expect(inEngine(tag)).to.equal(before);
  });

  it('a program still running at --verify-timeout is killed, and the pack fails', async function () {
    const tag = tagFor('sleep');
    const started = Date.now();
    const r = await runCli(['/bin/sleep', '--tag', tag, '--verify', '--verify-timeout', '1', '--', '60']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/verify: the image was still running after --verify-timeout 1 s and was killed; nothing was kept/);
    expect(Date.now() - started).to.be.below(30_000);
    expect(containersOf(tag)).to.equal('');
    expect(inEngine(tag)).to.equal('');
  });

  it('--verify-timeout must be seconds in (0, 3600]', async () => {
    for (const v of ['0', '-1', 'x', '3601']) {
      const r = await runCli(['/bin/true', '--verify', '--verify-timeout', v]);
      expect(r.code, v).to.equal(2);
      expect(r.stderr).to.include(`--verify-timeout ${v}: want seconds`);
    }
  });
});
